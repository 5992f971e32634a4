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
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.i18n import N_
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


def resolve(host: str) -> list[str]:
    """Every address a host name (or IP literal) resolves to; none when it does not resolve."""
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in found})


def reachability_problem(platform: Platform, url: str) -> tuple[str | None, list[str]]:
    """Why the platform may not call this address (an English msgid) and the addresses it
    resolves to: each must be a public internet address, unless the settings allow private ones
    (tests, development)."""
    host = rules.host_of(url)
    if platform.settings.webhooks_allow_private_addresses:
        return None, []
    addresses = resolve(host)
    if not addresses:
        return N_("The host name does not resolve to any address."), []
    for address in addresses:
        problem = rules.address_problem(address)
        if problem:
            return problem, addresses
    return None, addresses


def _check(platform: Platform, form: EndpointForm) -> None:
    fields: dict[str, str] = {}
    problem = rules.url_problem(form.url.strip())
    if problem is None:
        problem, _addresses = reachability_problem(platform, form.url.strip())
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
    _check(platform, form)
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
    _check(platform, form)
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


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The request to `url` sent to the checked `address` (the name is not resolved again, so
    a DNS answer changed in between cannot lead elsewhere): the URL with that address, the
    original Host header, and the TLS server name to verify the certificate against."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions: dict[str, Any] = {}
    if parts.scheme == "https":
        extensions["sni_hostname"] = parts.hostname or ""
    return pinned, {"host": parts.netloc}, extensions


def _post(
    platform: Platform, url: str, headers: dict[str, str], body: str
) -> tuple[int | None, str, str | None]:
    """One POST: (status code, answer text, error when there was no answer). The host is
    resolved and every address checked first; the request goes to the checked address."""
    problem, addresses = reachability_problem(platform, url)
    if problem:
        return None, "", f"Refused: {problem} ({', '.join(addresses) or rules.host_of(url)})"[:500]
    target, extra, extensions = (url, {}, {}) if not addresses else _pinned(url, addresses[0])
    try:
        answer = _client().post(
            target, content=body.encode(), headers={**headers, **extra}, extensions=extensions
        )
        return answer.status_code, rules.kept_response(answer.text), None
    except httpx.HTTPError as failure:
        return None, "", f"{type(failure).__name__}: {failure}"[:500]


@dataclass(frozen=True)
class PreparedAttempt:
    """What one attempt sends, read in a short transaction before the HTTP call."""

    url: str
    headers: dict[str, str]
    body: str
    at: datetime


def prepare_attempt(
    session: Session, platform: Platform, delivery_id: str, sequence: int
) -> PreparedAttempt | None:
    """The request of the delivery's attempt `sequence`; None when it is stale (sent already,
    replaced by a "send again", or its endpoint deleted), or its endpoint was disabled meanwhile
    (the delivery is then given up: staff send it again once the endpoint is enabled)."""
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
    body = delivery.message.body
    headers = rules.headers(endpoint.secret, delivery.message.id, int(now.timestamp()), body)
    return PreparedAttempt(endpoint.url, headers, body, now)


def record_attempt(
    session: Session,
    platform: Platform,
    delivery_id: str,
    sequence: int,
    prepared: PreparedAttempt,
    outcome: tuple[int | None, str, str | None],
    *,
    trigger: str = "automatic",
    actor: str = "system",
) -> WebhookAttempt | None:
    """The answer of one attempt, and the next one scheduled after a failure. An attempt made
    stale while it was in flight (staff sent it again) is recorded but schedules nothing."""
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
    )
    if delivery is None:
        return None  # the endpoint was deleted meanwhile, with its deliveries
    status_code, answer, error = outcome
    succeeded = rules.is_success(status_code)
    delivery.attempts += 1
    row = WebhookAttempt(
        delivery_id=delivery.id,
        number=delivery.attempts,
        at=prepared.at,
        trigger=trigger,
        actor=actor,
        status_code=status_code,
        response_body=answer,
        error=error,
        succeeded=succeeded,
    )
    session.add(row)
    delivery.last_attempt_at = prepared.at
    current = delivery.sequence == sequence and delivery.state == rules.PENDING
    if succeeded and delivery.state != rules.SUCCEEDED:
        delivery.state = rules.SUCCEEDED
        delivery.delivered_at = prepared.at
        delivery.failed_in_a_row = 0
        delivery.next_attempt_at = None
        return row
    if not current:
        return row
    delivery.next_attempt_at = None
    delivery.failed_in_a_row += 1
    delay = rules.next_delay(delivery.failed_in_a_row)
    if delay is None or trigger == "manual":
        delivery.state = rules.FAILED
        log.warning("webhooks.delivery_failed", delivery=delivery.id, status=status_code)
    else:
        now = platform.now()
        _schedule(session, delivery, now + delay, now)
    return row


def attempt(
    platform: Platform,
    delivery_id: str,
    sequence: int,
    *,
    trigger: str = "automatic",
    actor: str = "system",
) -> WebhookAttempt | None:
    """Sends the delivery once (the outbox's external handler of `webhooks.send`): the request
    is read in one short transaction, POSTed with no transaction open, and its answer recorded
    in another. A crash after the POST sends it again (same `webhook-id`: the receiver
    deduplicates), so delivery is at least once."""
    with platform.transaction() as session:
        prepared = prepare_attempt(session, platform, delivery_id, sequence)
    if prepared is None:
        return None
    outcome = _post(platform, prepared.url, prepared.headers, prepared.body)
    with platform.transaction() as session:
        return record_attempt(
            session, platform, delivery_id, sequence, prepared, outcome,
            trigger=trigger, actor=actor,
        )  # fmt: skip


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
