"""Outbox handlers and periodic jobs of the orders area (all idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.core.jobs import periodic
from voipdesk.core.outbox import handler
from voipdesk.orders import actions
from voipdesk.orders.provider import get_provider

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


@handler("orders.deliver")
def deliver(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    actions.deliver_order(platform, session, payload["order_id"])


@handler("orders.issue_invoice")
def issue_invoice(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    actions.issue_order_invoice(platform, session, payload["order_id"])


@handler("orders.sandbox_webhook")
def sandbox_webhook(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """The sandbox provider "sends" its webhook: signed, then checked exactly like one received
    over HTTP, so the demo exercises the real path."""
    provider = get_provider(platform)
    body, signature = provider.signed_event(payload["event"])
    event = provider.verify_webhook(body, signature, platform.now())
    actions.handle_provider_event(
        session, platform, event.event_id, event.event_type, event.reference, event.data
    )


@periodic("orders.expire", every=timedelta(minutes=10))
def expire_orders(platform: Platform) -> None:
    actions.expire_due_orders(platform)


@periodic("orders.remind_expiring", every=timedelta(hours=1))
def remind_expiring(platform: Platform) -> None:
    actions.remind_expiring_orders(platform)


@periodic("orders.purge_idempotency_keys", every=timedelta(days=1))
def purge_idempotency_keys(platform: Platform) -> None:
    from voipdesk.orders.idempotency import purge_expired_keys

    purge_expired_keys(platform)
