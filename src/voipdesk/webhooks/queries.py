"""Reads of the webhooks area: endpoints, deliveries (newest first, keyset pages), attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from voipdesk.core.pagination import (
    InvalidCursor,
    PageParams,
    decode_cursor,
    encode_cursor,
    paginate,
)
from voipdesk.webhooks.errors import DeliveryNotFound, EndpointNotFound
from voipdesk.webhooks.models import WebhookDelivery, WebhookEndpoint


def list_endpoints(session: Session, page: PageParams) -> tuple[list[WebhookEndpoint], str | None]:
    rows = list(session.scalars(select(WebhookEndpoint)))
    return paginate(rows, key=lambda row: (row.created_at, row.id), page=page)


def get_endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise EndpointNotFound()
    return endpoint


def list_deliveries(
    session: Session,
    page: PageParams,
    *,
    endpoint_id: str | None = None,
    state: str | None = None,
) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first."""
    query = select(WebhookDelivery).options(selectinload(WebhookDelivery.attempt_rows))
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    if state is not None:
        query = query.where(WebhookDelivery.state == state)
    if page.cursor:
        created, last_id = decode_cursor(page.cursor, 2)
        if not isinstance(created, str) or not isinstance(last_id, str):
            raise InvalidCursor()
        try:
            at = datetime.fromisoformat(created)
        except ValueError:
            raise InvalidCursor() from None
        query = query.where(
            or_(
                WebhookDelivery.created_at < at,
                and_(WebhookDelivery.created_at == at, WebhookDelivery.id < last_id),
            )
        )
    rows = list(
        session.scalars(
            query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(
                page.limit + 1
            )
        ).unique()
    )
    items = rows[: page.limit]
    more = len(rows) > page.limit
    last = items[-1] if items else None
    return items, encode_cursor(last.created_at, last.id) if more and last else None


def get_delivery(session: Session, delivery_id: str) -> WebhookDelivery:
    delivery = session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .options(selectinload(WebhookDelivery.attempt_rows))
    )
    if delivery is None:
        raise DeliveryNotFound()
    return delivery
