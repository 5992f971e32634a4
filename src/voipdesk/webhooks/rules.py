"""The webhooks rules: which events an endpoint may receive, how a message is signed, when a
failed delivery is tried again, what an endpoint's address may be. Pure: no I/O.

Signing follows the Standard Webhooks convention (the one Svix and others use), so a receiver
checks it with any of its libraries:
- `webhook-id`: the message id, the same on every attempt and every "send again" (dedupe on it);
- `webhook-timestamp`: seconds since the epoch when this attempt was sent;
- `webhook-signature`: `v1,` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), where the
  key is the base64-decoded part of the endpoint's secret after `whsec_`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from voipdesk.core.i18n import N_

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
SIGNATURE_VERSION = "v1"
URL_MAX = 2000
DESCRIPTION_MAX = 200
RESPONSE_KEPT = 2000  # characters of the receiver's answer kept with each attempt
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class EventType:
    name: str  # what receivers see as `type`
    source: str  # the domain event it forwards (core/events.py)
    description: str  # English msgid


# The events an endpoint may subscribe to. Each forwards one domain event; its `data` is that
# event's payload (ids, codes, amounts as decimal strings): fetch details through the API.
EVENT_TYPES: tuple[EventType, ...] = (
    EventType("order.paid", "orders.paid", N_("An order is paid.")),
    EventType(
        "order.delivered",
        "orders.delivered",
        N_("An order is delivered: its services exist and their access details were sent."),
    ),
    EventType(
        "procedure.approved",
        "validation.approved",
        N_("A VoIP validation procedure is approved: the billing account is validated."),
    ),
    EventType(
        "procedure.rejected",
        "validation.rejected",
        N_("A VoIP validation procedure is sent back to the customer, with the reason."),
    ),
    EventType("invoice.issued", "invoices.issued", N_("An invoice is issued.")),
    EventType("invoice.paid", "invoices.paid", N_("An invoice is paid.")),
    EventType(
        "service.suspended",
        "billing.service_suspended",
        N_("A service is suspended because its renewal was not paid."),
    ),
    EventType(
        "portability.step_changed",
        "portability.step_changed",
        N_("A number portability reaches a step of its timeline (or fails, or is cancelled)."),
    ),
    EventType(
        "call.ended",
        "switch.call_ended",
        N_("A call through the switch ended (answered or not), with its record."),
    ),
)
BY_NAME = {event.name: event for event in EVENT_TYPES}
BY_SOURCE = {event.source: event for event in EVENT_TYPES}

# Delivery states and the changes allowed between them.
PENDING = "pending"  # waiting for its next attempt
SUCCEEDED = "succeeded"  # the receiver answered 2xx
FAILED = "failed"  # every attempt of the schedule failed; staff may send it again
STATE_LABELS = {
    PENDING: N_("Waiting to be sent"),
    SUCCEEDED: N_("Accepted by the receiver"),
    FAILED: N_("Given up"),
}
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PENDING, SUCCEEDED, FAILED}),
    SUCCEEDED: frozenset({PENDING}),  # send again
    FAILED: frozenset({PENDING}),  # send again
}

# After the first attempt, the delays before each next one (the Standard Webhooks schedule):
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; about a day and a quarter in all, eight attempts.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)


def can_transition(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def next_delay(failed_attempts: int) -> timedelta | None:
    """The wait after `failed_attempts` automatic attempts failed in a row; None: give up."""
    if failed_attempts < 1:
        raise ValueError("at least one attempt failed before a retry")
    if failed_attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failed_attempts - 1]


def is_success(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def format_secret(raw: bytes) -> str:
    """An endpoint's secret from random bytes: `whsec_` + base64."""
    if len(raw) < 16:
        raise ValueError("a webhook secret has at least 16 random bytes")
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret (`whsec_` + base64)."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header value of one attempt."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def message_id(source_event_id: str) -> str:
    """The `webhook-id` of a domain event: stable, so a re-forwarded event keeps its id."""
    return "msg_" + hashlib.sha256(source_event_id.encode()).hexdigest()[:32]


def body(event_type: str, published_at: datetime, data: dict[str, Any]) -> str:
    """The JSON body sent: `{"type", "timestamp", "data"}` (Standard Webhooks payload shape),
    serialised once and stored, so every attempt sends the same bytes."""
    return json.dumps(
        {"type": event_type, "timestamp": published_at.isoformat(), "data": data},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def headers(secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


def url_problem(url: str) -> str | None:
    """Why an endpoint address is refused (an English msgid), or None when it is fine: http or
    https, a host, no user or password inside it, no fragment, at most 2000 characters."""
    if len(url) > URL_MAX:
        return N_("The address is too long (2000 characters at most).")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return N_("This is not a web address.")
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return N_("The address must start with https:// (or http://) and name a host.")
    if parts.username is not None or parts.password is not None:
        return N_("The address must not hold a user name or password: use the signing secret.")
    if parts.fragment:
        return N_("The address must not have a fragment (#...).")
    return None


def address_problem(address: str) -> str | None:
    """Why an endpoint may not be reached at this IP address (an English msgid), or None: only
    public internet addresses are called, so that an endpoint cannot make the platform call its
    own machine, its private network or a cloud's metadata service (169.254.169.254 and the
    like). Loopback, private, shared (100.64/10), link-local, multicast, reserved and
    unspecified addresses are refused, IPv4 written inside IPv6 included."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return N_("This is not a web address.")
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
    if ip.is_loopback or ip.is_link_local or ip.is_multicast or not ip.is_global:
        return N_(
            "The address leads to this machine, a private network or a metadata service: "
            "only public internet addresses are called."
        )
    return None


def host_of(url: str) -> str:
    """The host of an endpoint address, without brackets around an IPv6 one."""
    return urlsplit(url).hostname or ""


def event_types_problem(names: list[str]) -> str | None:
    """Why a list of subscribed event types is refused (an English msgid), or None."""
    if not names:
        return N_("Choose at least one event.")
    if any(name not in BY_NAME for name in names):
        return N_("Unknown event type.")
    return None


def normalise_event_types(names: list[str]) -> list[str]:
    """The subscribed types once each, in the catalogue's order."""
    chosen = set(names)
    return [event.name for event in EVENT_TYPES if event.name in chosen]


def kept_response(text: str) -> str:
    return text[:RESPONSE_KEPT]


TOLERANCE_SECONDS = 300  # a receiver refuses a timestamp further than this from its clock


def verify(secret: str, headers: dict[str, str], body: str, now_timestamp: int) -> str | None:
    """What a receiver checks (as the Standard Webhooks libraries do): None when the message is
    signed with `secret` and recent, else why not (an English msgid). Header names in lower case."""
    message = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (message and stamp and signatures):
        return N_("The webhook-id, webhook-timestamp and webhook-signature headers are required.")
    try:
        timestamp = int(stamp)
    except ValueError:
        return N_("The timestamp is not a number of seconds.")
    if abs(now_timestamp - timestamp) > TOLERANCE_SECONDS:
        return N_("The timestamp is more than 5 minutes away from now.")
    expected = signature(secret, message, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in signatures.split(" ")):
        return N_("No signature matches the secret.")
    return None
