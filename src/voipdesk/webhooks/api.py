"""The webhooks API, for staff: endpoints of the operator's systems (address, events, signing
secret), the deliveries made to them with every attempt and answer, and "send again"."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from voipdesk.accounts.api_auth import current_staff
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.pagination import Page, PageParams, page_params
from voipdesk.core.platform import Platform
from voipdesk.core.routing import include_flat
from voipdesk.webhooks import actions, queries, receiver, rules
from voipdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

router = APIRouter(tags=["webhooks"])
include_flat(router, receiver.router)

EVENT_TYPE_NAMES = tuple(event.name for event in rules.EVENT_TYPES)


class EventTypeOut(BaseModel):
    type: str = Field(description="The `type` of the events' bodies, e.g. `order.delivered`")
    description: str


class EventTypePage(Page[EventTypeOut]):
    pass


class WebhookEndpointIn(BaseModel):
    url: str = Field(max_length=rules.URL_MAX, description="Where the events are POSTed")
    event_types: list[str] = Field(description="Types to receive (GET .../event-types)")
    description: str = Field("", max_length=rules.DESCRIPTION_MAX)


class WebhookEndpointPatch(BaseModel):
    url: str | None = Field(None, max_length=rules.URL_MAX)
    event_types: list[str] | None = None
    description: str | None = Field(None, max_length=rules.DESCRIPTION_MAX)
    enabled: bool | None = None


class WebhookEndpointOut(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    secret: str = Field(description="The signing secret (`whsec_` + base64), for the receiver")
    created_at: datetime
    updated_at: datetime


class WebhookEndpointPage(Page[WebhookEndpointOut]):
    pass


class WebhookAttemptOut(BaseModel):
    number: int
    at: datetime
    trigger: Literal["automatic", "manual"]
    actor: str
    succeeded: bool
    status_code: int | None = Field(description="The receiver's HTTP status; null: no answer")
    response_body: str = Field(description="The first 2000 characters of the answer")
    error: str | None = Field(description="Why there was no answer (refused, timeout...)")


class WebhookDeliveryOut(BaseModel):
    id: str
    endpoint_id: str
    webhook_id: str = Field(description="The `webhook-id` header: receivers dedupe on it")
    event_type: str
    state: Literal["pending", "succeeded", "failed"]
    state_label: str
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    last_status_code: int | None


class WebhookDeliveryDetailOut(WebhookDeliveryOut):
    body: dict[str, Any] = Field(description="What is POSTed: `{type, timestamp, data}`")
    attempt_list: list[WebhookAttemptOut]


class WebhookDeliveryPage(Page[WebhookDeliveryOut]):
    pass


def endpoint_out(endpoint: WebhookEndpoint) -> WebhookEndpointOut:
    return WebhookEndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=list(endpoint.event_types),
        enabled=endpoint.enabled,
        secret=endpoint.secret,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def _attempt_out(row: WebhookAttempt) -> WebhookAttemptOut:
    return WebhookAttemptOut(
        number=row.number,
        at=row.at,
        trigger="manual" if row.trigger == "manual" else "automatic",
        actor=row.actor,
        succeeded=row.succeeded,
        status_code=row.status_code,
        response_body=row.response_body,
        error=row.error,
    )


def delivery_fields(delivery: WebhookDelivery, language: str) -> dict[str, Any]:
    last = delivery.attempt_rows[-1] if delivery.attempt_rows else None
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "webhook_id": delivery.message.id,
        "event_type": delivery.message.event_type,
        "state": delivery.state,
        "state_label": gettext(language, rules.STATE_LABELS[delivery.state]),
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_attempt_at": delivery.last_attempt_at,
        "delivered_at": delivery.delivered_at,
        "created_at": delivery.created_at,
        "last_status_code": last.status_code if last is not None else None,
    }


def delivery_detail(delivery: WebhookDelivery, language: str) -> WebhookDeliveryDetailOut:
    return WebhookDeliveryDetailOut(
        **delivery_fields(delivery, language),
        body=json.loads(delivery.message.body),
        attempt_list=[_attempt_out(row) for row in delivery.attempt_rows],
    )


@router.get("/backoffice/webhooks/event-types", response_model=EventTypePage)
def list_webhook_event_types(
    request: Request, staff: Account = Depends(current_staff)
) -> dict[str, Any]:
    """The events an endpoint may receive (one page: the list is short)."""
    language = request_language(request)
    return {
        "items": [
            {"type": event.name, "description": gettext(language, event.description)}
            for event in rules.EVENT_TYPES
        ],
        "next_cursor": None,
    }


@router.get("/backoffice/webhooks/endpoints", response_model=WebhookEndpointPage)
def list_webhook_endpoints(
    page: PageParams = Depends(page_params),
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    """Registered endpoints, oldest first."""
    with platform.session() as session:
        rows, next_cursor = queries.list_endpoints(session, page)
        return {"items": [endpoint_out(row) for row in rows], "next_cursor": next_cursor}


@router.post("/backoffice/webhooks/endpoints", response_model=WebhookEndpointOut, status_code=201)
def register_webhook_endpoint(
    body: WebhookEndpointIn,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> WebhookEndpointOut:
    """Registers an endpoint; its signing secret is in the answer (and in later reads)."""
    with platform.transaction() as session:
        endpoint = actions.register_endpoint(
            session,
            platform,
            staff.id,
            actions.EndpointForm(
                url=body.url, event_types=body.event_types, description=body.description
            ),
        )
        return endpoint_out(endpoint)


@router.get("/backoffice/webhooks/endpoints/{endpoint_id}", response_model=WebhookEndpointOut)
def get_webhook_endpoint(
    endpoint_id: str,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> WebhookEndpointOut:
    with platform.session() as session:
        return endpoint_out(queries.get_endpoint(session, endpoint_id))


@router.patch("/backoffice/webhooks/endpoints/{endpoint_id}", response_model=WebhookEndpointOut)
def update_webhook_endpoint(
    endpoint_id: str,
    body: WebhookEndpointPatch,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> WebhookEndpointOut:
    """Changes the address, events, description, or turns the endpoint off (`enabled`)."""
    with platform.transaction() as session:
        endpoint = actions.update_endpoint(
            session,
            platform,
            endpoint_id,
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            enabled=body.enabled,
        )
        return endpoint_out(endpoint)


@router.post(
    "/backoffice/webhooks/endpoints/{endpoint_id}/secret", response_model=WebhookEndpointOut
)
def rotate_webhook_secret(
    endpoint_id: str,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> WebhookEndpointOut:
    """A new signing secret: the next attempts are signed with it."""
    with platform.transaction() as session:
        return endpoint_out(actions.rotate_secret(session, platform, endpoint_id))


@router.delete("/backoffice/webhooks/endpoints/{endpoint_id}", status_code=204)
def delete_webhook_endpoint(
    endpoint_id: str,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    """Removes the endpoint with its deliveries."""
    with platform.transaction() as session:
        actions.delete_endpoint(session, endpoint_id)
    return Response(status_code=204)


@router.get("/backoffice/webhooks/deliveries", response_model=WebhookDeliveryPage)
def list_webhook_deliveries(
    request: Request,
    endpoint_id: str | None = None,
    state: Literal["pending", "succeeded", "failed"] | None = None,
    page: PageParams = Depends(page_params),
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    """Deliveries, newest first, with the last answer's status."""
    language = request_language(request)
    with platform.session() as session:
        rows, next_cursor = queries.list_deliveries(
            session, page, endpoint_id=endpoint_id, state=state
        )
        return {
            "items": [delivery_fields(row, language) for row in rows],
            "next_cursor": next_cursor,
        }


@router.get(
    "/backoffice/webhooks/deliveries/{delivery_id}", response_model=WebhookDeliveryDetailOut
)
def get_webhook_delivery(
    request: Request,
    delivery_id: str,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> WebhookDeliveryDetailOut:
    """One delivery: the body sent and every attempt with the receiver's answer."""
    with platform.session() as session:
        return delivery_detail(
            queries.get_delivery(session, delivery_id), request_language(request)
        )


@router.post(
    "/backoffice/webhooks/deliveries/{delivery_id}/send-again",
    response_model=WebhookDeliveryDetailOut,
    status_code=202,
)
def send_webhook_again(
    request: Request,
    delivery_id: str,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> WebhookDeliveryDetailOut:
    """Sends the delivery once more, now, under the same `webhook-id` (the worker sends it)."""
    with platform.transaction() as session:
        delivery = actions.send_again(session, platform, staff.id, delivery_id)
        session.flush()
        session.refresh(delivery)
        return delivery_detail(delivery, request_language(request))
