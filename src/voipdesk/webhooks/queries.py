"""Reads of the webhooks area: endpoints, deliveries (newest first, keyset pages), attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from voipdesk.core.pagination import (
    InvalidCursor,
    PageParams,
    decode_cursor,
    encode_cursor,
    paginate,
)
from voipdesk.webhooks.errors import DeliveryNotFound, EndpointNotFound
from voipdesk.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage


def list_endpoints(session: Session, page: PageParams) -> tuple[list[WebhookEndpoint], str | None]:
    rows = list(session.scalars(select(WebhookEndpoint)))
    return paginate(rows, key=lambda row: (row.created_at, row.id), page=page)


def all_endpoints(session: Session) -> list[WebhookEndpoint]:
    """Every endpoint, oldest first (the back office's list sorts and pages them)."""
    return list(
        session.scalars(
            select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )


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


def deliveries_select(
    endpoint_id: str, *, state: str | None = None, event_type: str | None = None
) -> Select[Any]:
    """An endpoint's deliveries with their message and attempts, in no order (a page sorts it
    by one of `DELIVERY_SORTS`, ties by `DELIVERY_TIES`)."""
    query = (
        select(WebhookDelivery)
        .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .options(selectinload(WebhookDelivery.attempt_rows))
    )
    if state:
        query = query.where(WebhookDelivery.state == state)
    if event_type:
        query = query.where(WebhookMessage.event_type == event_type)
    return query


# What an endpoint's deliveries sort by (the back office's headers).
DELIVERY_SORTS: dict[str, Any] = {
    "made": WebhookDelivery.created_at,
    "event": WebhookMessage.event_type,
    "state": WebhookDelivery.state,
    "attempts": WebhookDelivery.attempts,
}
DELIVERY_TIES = (WebhookDelivery.created_at, WebhookDelivery.id)


def get_delivery(session: Session, delivery_id: str) -> WebhookDelivery:
    delivery = session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .options(selectinload(WebhookDelivery.attempt_rows))
    )
    if delivery is None:
        raise DeliveryNotFound()
    return delivery
