"""Domain events: an area publishes a fact in its own transaction; other areas consume it later.

`publish(session, "validation.approved", {...}, now=...)` writes one outbox message (topic
`event`) in the caller's transaction, so the event exists exactly when the change it describes
was committed. Consumers register with `@subscribe("validation.approved")` in their area's
`handlers.py`; several areas may consume one event.

Why a fan-out message rather than one outbox message per consumer written by `publish`: the
publishing process (a web process, a CLI command) has not necessarily imported every area's
handlers, so it cannot know who consumes the event; the worker imports them all
(`areas.load_handlers`). The fan-out message is delivered by the worker, which writes one outbox
message per consumer known at that moment (topic `<event>><consumer>`, dedup key
`<event id>><consumer>`) in one transaction. So:
- each consumer is delivered at least once and retried on its own (one consumer failing never
  re-runs another, which already succeeded);
- a repeated fan-out (crash after the commit was sent) never duplicates a consumer message;
- consumer handlers must still be idempotent (a consumer message itself is delivered at least
  once): they check the state they would change before changing it.

Payloads are plain JSON objects (ids, codes, amounts as strings): never ORM objects, so that a
consumer reads what it needs through the publishing area's `services`/`queries`.

A consumer that needs the event itself (its id, name and publication instant: the webhooks area
forwards events under a stable id) subscribes with `envelope=True` and receives
`{"id", "name", "published_at", "payload"}` instead of the payload alone.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from voipdesk.core.outbox import Handler, OutboxMessage, drain, enqueue, handler

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

FAN_OUT_TOPIC = "event"
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_TOPIC_LENGTH = 100  # outbox_message.topic

# event name -> consumer name -> handler
_CONSUMERS: dict[str, dict[str, Handler]] = {}
# (event name, consumer name) of the consumers that receive the whole event
_ENVELOPE: set[tuple[str, str]] = set()


def consumer_topic(name: str, consumer: str) -> str:
    return f"{name}>{consumer}"


def _dedup_key(text: str) -> str:
    """An outbox dedup key (at most 200 characters): long ones are hashed, never cut."""
    if len(text) <= 200:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"event name {name!r} must look like 'area.what_happened'")


def _plain_json(payload: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise TypeError("an event payload is a JSON object")
    try:
        text = json.dumps(payload, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise TypeError(f"an event payload must be plain JSON: {error}") from error
    decoded: dict[str, Any] = json.loads(text)
    return decoded


def subscribe(
    name: str, consumer: str | None = None, *, envelope: bool = False
) -> Callable[[Handler], Handler]:
    """Registers `function(platform, session, payload)` as one consumer of event `name`.

    `consumer` names it in the outbox (default: `<area>.<function name>`); renaming a consumer
    while messages for it are waiting leaves them without a handler, so keep names stable.
    `envelope`: the function receives `{"id", "name", "published_at", "payload"}`.
    """
    _check_name(name)

    def register(function: Handler) -> Handler:
        module = function.__module__.removeprefix("voipdesk.")
        key = consumer or f"{module.split('.')[0]}.{function.__name__}"
        topic = consumer_topic(name, key)
        if len(topic) > _TOPIC_LENGTH:
            raise ValueError(f"consumer topic {topic!r} is longer than {_TOPIC_LENGTH}")
        consumers = _CONSUMERS.setdefault(name, {})
        existing = consumers.get(key)
        same = existing is None or (existing.__module__, existing.__qualname__) == (
            function.__module__,
            function.__qualname__,
        )
        if not same:  # a module imported twice re-registers itself; two functions may not
            raise ValueError(f"two consumers named {key!r} for event {name!r}")
        consumers[key] = function
        if envelope:
            _ENVELOPE.add((name, key))
        handler(topic)(function)
        return function

    return register


def consumers(name: str) -> list[str]:
    """Names of the consumers registered (in this process) for event `name`."""
    return sorted(_CONSUMERS.get(name, {}))


def events() -> dict[str, list[str]]:
    """Every event with at least one consumer registered in this process, and its consumers."""
    return {name: sorted(found) for name, found in sorted(_CONSUMERS.items())}


def publish(
    session: Session,
    name: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    key: str | None = None,
) -> str:
    """Writes event `name` in the caller's transaction; returns its id.

    `key` makes publishing idempotent: the same (name, key) twice is one event (an action that
    is retried does not announce its change twice).
    """
    _check_name(name)
    body = _plain_json(payload)
    event_id = f"{name}:{key}" if key is not None else uuid.uuid4().hex
    enqueue(
        session,
        FAN_OUT_TOPIC,
        {"id": event_id, "name": name, "payload": body, "published_at": now.isoformat()},
        now,
        dedup_key=_dedup_key(f"event:{event_id}"),
    )
    return event_id


@handler(FAN_OUT_TOPIC)
def _fan_out(platform: Platform, session: Session, message: dict[str, Any]) -> None:
    """One outbox message per consumer of the event, each delivered and retried on its own."""
    name = message["name"]
    for key in sorted(_CONSUMERS.get(name, {})):
        payload = dict(message["payload"])
        if (name, key) in _ENVELOPE:
            payload = {
                "id": message["id"],
                "name": name,
                "published_at": message.get("published_at"),
                "payload": payload,
            }
        enqueue(
            session,
            consumer_topic(name, key),
            payload,
            platform.now(),
            dedup_key=_dedup_key(f"{message['id']}>{key}"),
        )


def drain_events(platform: Platform, only: str | None = None) -> int:
    """Delivers the due events and their consumers only, leaving every other outbox message
    (e-mails, deliveries...) waiting: lets a test look at the state right after the consumers
    ran, as it could when the change was made in one call. `only`: deliver the consumers of that
    one event (the events they write in turn wait, fanned out)."""
    consumers = (
        OutboxMessage.topic.contains(">")
        if only is None
        else OutboxMessage.topic.startswith(f"{only}>")
    )
    return drain(platform, where=or_(OutboxMessage.topic == FAN_OUT_TOPIC, consumers))
