"""The demo's webhook endpoint: voipdesk's own test receiver, subscribed to every event, so that
the delivered customer's `order.delivered` (and the rest of its story) is delivered signed and
its verified answers show in the back office."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.webhooks import actions, rules
from voipdesk.webhooks.models import WebhookEndpoint
from voipdesk.webhooks.receiver import test_receiver_url

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

DESCRIPTION = "Demo: voipdesk's test receiver (checks each signature)"


def seed(session: Session, platform: Platform, customers: list[Any]) -> None:
    if session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.description == DESCRIPTION)):
        return
    endpoint = actions.register_endpoint(
        session,
        platform,
        "demo",
        actions.EndpointForm(
            url="https://placeholder.invalid/",
            event_types=[event.name for event in rules.EVENT_TYPES],
            description=DESCRIPTION,
        ),
    )
    endpoint.url = test_receiver_url(platform.settings.base_url, endpoint.id)
