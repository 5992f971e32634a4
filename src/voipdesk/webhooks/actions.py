"""What staff and the worker do with webhooks, one transaction each (the caller's `session`),
the clock from `platform.now()`, sending through the outbox.

- `register_endpoint`, `update_endpoint`, `delete_endpoint`, `rotate_secret`: staff;
- `forward_event`: a domain event becomes one message and one delivery per enabled endpoint
  subscribed to its type, each with its first attempt queued in the outbox;
- `attempt`: the outbox handler of topic `webhooks.send`: one signed POST; the answer is recorded
  and a failure schedules the next attempt (`rules.RETRY_DELAYS`) as another outbox message;
- `send_again`: staff send a delivery once more, now, under the same `webhook-id`.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.outbox import enqueue
from voipdesk.webhooks import rules
from voipdesk.webhooks.errors import (
    DeliveryNotFound,
    DeliveryTransitionRefused,
    EndpointDisabled,
    EndpointNotFound,
    InvalidEndpoint,
)
from voipdesk.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

log = structlog.get_logger(__name__)

SEND_TOPIC = "webhooks.send"
USER_AGENT = "voipdesk-webhooks/1"


@dataclass(frozen=True)
class EndpointForm:
    url: str
    event_types: list[str]
    description: str = ""


def _check(form: EndpointForm) -> None:
    fields: dict[str, str] = {}
    problem = rules.url_problem(form.url.strip())
    if problem:
        fields["url"] = problem
    problem = rules.event_types_problem(form.event_types)
    if problem:
        fields["event_types"] = problem
    if len(form.description) > rules.DESCRIPTION_MAX:
        fields["description"] = "The description is too long (200 characters at most)."
    if fields:
        raise InvalidEndpoint(fields=fields)


def register_endpoint(
    session: Session, platform: Platform, staff_id: str, form: EndpointForm
) -> WebhookEndpoint:
    """A new endpoint, enabled, with a fresh signing secret."""
    _check(form)
    now = platform.now()
    endpoint = WebhookEndpoint(
        url=form.url.strip(),
        description=form.description.strip(),
        secret=rules.format_secret(secrets.token_bytes(rules.SECRET_BYTES)),
        event_types=rules.normalise_event_types(form.event_types),
        enabled=True,
        created_at=now,
        created_by=staff_id,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def lock_endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).with_for_update()
    )
    if endpoint is None:
        raise EndpointNotFound()
    return endpoint


def update_endpoint(
    session: Session,
    platform: Platform,
    endpoint_id: str,
    *,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    endpoint = lock_endpoint(session, endpoint_id)
    form = EndpointForm(
        url=endpoint.url if url is None else url,
        event_types=endpoint.event_types if event_types is None else event_types,
        description=endpoint.description if description is None else description,
    )
    _check(form)
    endpoint.url = form.url.strip()
    endpoint.event_types = rules.normalise_event_types(form.event_types)
    endpoint.description = form.description.strip()
    if enabled is not None:
        endpoint.enabled = enabled
    endpoint.updated_at = platform.now()
    return endpoint


def rotate_secret(session: Session, platform: Platform, endpoint_id: str) -> WebhookEndpoint:
    """A new signing secret; attempts from now on are signed with it."""
    endpoint = lock_endpoint(session, endpoint_id)
    endpoint.secret = rules.format_secret(secrets.token_bytes(rules.SECRET_BYTES))
    endpoint.updated_at = platform.now()
    return endpoint


def delete_endpoint(session: Session, endpoint_id: str) -> None:
    """The endpoint, its deliveries and their attempts (queued attempts find nothing to send)."""
    endpoint = lock_endpoint(session, endpoint_id)
    for delivery in session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    ):
        session.delete(delivery)
    session.delete(endpoint)


def _schedule(
    session: Session,
    delivery: WebhookDelivery,
    at: datetime,
    now: datetime,
    *,
    trigger: str = "automatic",
    actor: str = "system",
) -> None:
    """Queues the delivery's next attempt at `at` (an outbox message; older ones go stale)."""
    delivery.sequence += 1
    delivery.state = rules.PENDING
    delivery.next_attempt_at = at
    message = enqueue(
        session,
        SEND_TOPIC,
        {
            "delivery_id": delivery.id,
            "sequence": delivery.sequence,
            "trigger": trigger,
            "actor": actor,
        },
        now,
        dedup_key=f"webhook-send:{delivery.id}:{delivery.sequence}",
    )
    message.available_at = at


def forward_event(session: Session, platform: Platform, event: dict[str, Any]) -> int:
    """One domain event (its envelope: id, name, published_at, payload) to every enabled
    endpoint subscribed to its type; returns how many deliveries were made. Idempotent: an event
    forwarded again finds its message and deliveries already made."""
    event_type = rules.BY_SOURCE.get(event["name"])
    if event_type is None:
        return 0
    now = platform.now()
    published = event.get("published_at")
    published_at = datetime.fromisoformat(published) if published else now
    message = session.scalar(
        select(WebhookMessage).where(WebhookMessage.source_event_id == event["id"])
    )
    if message is None:
        message = WebhookMessage(
            id=rules.message_id(event["id"]),
            event_type=event_type.name,
            source_event_id=event["id"],
            body=rules.body(event_type.name, published_at, event["payload"]),
            created_at=now,
        )
        session.add(message)
        session.flush()
    endpoints = [
        endpoint
        for endpoint in session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.enabled.is_(True))
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
        if event_type.name in endpoint.event_types
    ]
    already = set(
        session.scalars(
            select(WebhookDelivery.endpoint_id).where(WebhookDelivery.message_id == message.id)
        )
    )
    made = 0
    for endpoint in endpoints:
        if endpoint.id in already:
            continue
        delivery = WebhookDelivery(
            endpoint_id=endpoint.id,
            message_id=message.id,
            state=rules.PENDING,
            attempts=0,
            failed_in_a_row=0,
            sequence=0,
            created_at=now,
        )
        session.add(delivery)
        session.flush()
        _schedule(session, delivery, now, now)
        made += 1
    return made


_http: list[httpx.Client] = []
_http_lock = threading.Lock()


def _client() -> httpx.Client:
    """One HTTP client per process: its TLS context (about 50 ms to build) and its connections
    to the receivers are reused from one attempt to the next."""
    with _http_lock:
        if not _http:
            _http.append(
                httpx.Client(
                    timeout=rules.TIMEOUT_SECONDS,
                    follow_redirects=False,
                    headers={"user-agent": USER_AGENT},
                )
            )
        return _http[0]


def _post(url: str, headers: dict[str, str], body: str) -> tuple[int | None, str, str | None]:
    """One POST: (status code, answer text, error when there was no answer)."""
    try:
        answer = _client().post(url, content=body.encode(), headers=headers)
        return answer.status_code, rules.kept_response(answer.text), None
    except httpx.HTTPError as failure:
        return None, "", f"{type(failure).__name__}: {failure}"[:500]


def attempt(
    session: Session,
    platform: Platform,
    delivery_id: str,
    sequence: int,
    *,
    trigger: str = "automatic",
    actor: str = "system",
) -> WebhookAttempt | None:
    """Sends the delivery once (the outbox handler); None when this attempt is stale, or its
    endpoint was disabled meanwhile (the delivery is then given up: staff send it again once the
    endpoint is enabled)."""
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
    )
    if delivery is None or delivery.sequence != sequence or delivery.state != rules.PENDING:
        return None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        delivery.state = rules.FAILED
        delivery.next_attempt_at = None
        return None
    now = platform.now()
    timestamp = int(now.timestamp())
    body = delivery.message.body
    headers = rules.headers(endpoint.secret, delivery.message.id, timestamp, body)
    status_code, answer, error = _post(endpoint.url, headers, body)
    succeeded = rules.is_success(status_code)
    delivery.attempts += 1
    row = WebhookAttempt(
        delivery_id=delivery.id,
        number=delivery.attempts,
        at=now,
        trigger=trigger,
        actor=actor,
        status_code=status_code,
        response_body=answer,
        error=error,
        succeeded=succeeded,
    )
    session.add(row)
    delivery.last_attempt_at = now
    delivery.next_attempt_at = None
    if succeeded:
        delivery.state = rules.SUCCEEDED
        delivery.delivered_at = now
        delivery.failed_in_a_row = 0
        return row
    delivery.failed_in_a_row += 1
    delay = rules.next_delay(delivery.failed_in_a_row)
    if delay is None or trigger == "manual":
        delivery.state = rules.FAILED
        log.warning("webhooks.delivery_failed", delivery=delivery.id, status=status_code)
    else:
        _schedule(session, delivery, now + delay, now)
    return row


def send_again(
    session: Session, platform: Platform, staff_id: str, delivery_id: str
) -> WebhookDelivery:
    """Staff send a delivery once more, now, under the same `webhook-id` (a receiver that
    already has it dedupes it). A pending one is sent now instead of at its scheduled time."""
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
    )
    if delivery is None:
        raise DeliveryNotFound()
    if not rules.can_transition(delivery.state, rules.PENDING):
        raise DeliveryTransitionRefused(state=delivery.state)
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        raise EndpointDisabled()
    now = platform.now()
    delivery.failed_in_a_row = 0
    # the attempt itself is the outbox's (topic webhooks.send), as every other attempt
    _schedule(session, delivery, now, now, trigger="manual", actor=f"staff:{staff_id}")
    return delivery
