"""Outbox handlers of the payments area: the sandbox provider's webhooks (all idempotent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.orm import Session

from voipdesk.core.outbox import handler
from voipdesk.payments.provider import SANDBOX, SandboxProvider, sandbox_enabled
from voipdesk.payments.settlement import handle_provider_event

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


@handler("payments.sandbox_webhook")
@handler("orders.sandbox_webhook")  # messages queued before payments became an area
def sandbox_webhook(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """The sandbox provider "sends" its webhook: signed, then checked exactly like one received
    over HTTP, so the demo exercises the real path."""
    if not sandbox_enabled(platform):
        structlog.get_logger(__name__).warning("sandbox webhook dropped: sandbox is off")
        return
    provider = SandboxProvider(platform)
    body, signature = provider.signed_event(payload["event"])
    event = provider.verify_webhook(body, signature, platform.now())
    handle_provider_event(
        session, platform, event.event_id, event.event_type, event.reference, event.data, SANDBOX
    )
