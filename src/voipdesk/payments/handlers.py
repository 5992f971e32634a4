"""Outbox handlers of the payments area: the sandbox provider's webhooks (all idempotent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.core.outbox import handler
from voipdesk.payments.provider import get_provider
from voipdesk.payments.settlement import handle_provider_event

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


@handler("payments.sandbox_webhook")
@handler("orders.sandbox_webhook")  # messages queued before payments became an area
def sandbox_webhook(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """The sandbox provider "sends" its webhook: signed, then checked exactly like one received
    over HTTP, so the demo exercises the real path."""
    provider = get_provider(platform)
    body, signature = provider.signed_event(payload["event"])
    event = provider.verify_webhook(body, signature, platform.now())
    handle_provider_event(
        session, platform, event.event_id, event.event_type, event.reference, event.data
    )
