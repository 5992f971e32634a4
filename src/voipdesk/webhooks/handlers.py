"""The webhooks area's consumers: every domain event an endpoint may subscribe to is forwarded
(`actions.forward_event`), and each attempt is an outbox message of topic `webhooks.send`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.core.events import subscribe
from voipdesk.core.outbox import external_handler
from voipdesk.webhooks import actions, rules

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


def forward(platform: Platform, session: Session, event: dict[str, Any]) -> None:
    actions.forward_event(session, platform, event)


for _event_type in rules.EVENT_TYPES:
    subscribe(_event_type.source, consumer="webhooks.forward", envelope=True)(forward)


@external_handler(actions.SEND_TOPIC)
def send(platform: Platform, payload: dict[str, Any]) -> None:
    """One attempt, its HTTP call made outside any database transaction."""
    actions.attempt(
        platform,
        payload["delivery_id"],
        payload["sequence"],
        trigger=payload.get("trigger", "automatic"),
        actor=payload.get("actor", "system"),
    )
