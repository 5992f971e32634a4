"""Periodic jobs on unpaid orders: expiry past their date and the reminder before it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from voipdesk.catalogue.services import (
    release_order_numbers,
)
from voipdesk.orders import rules
from voipdesk.orders.actions.mail import _email
from voipdesk.orders.actions.ordering import _lock_order
from voipdesk.orders.actions.transitions import transition
from voipdesk.orders.models import PurchaseOrder
from voipdesk.payments import services as payments

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


def expire_due_orders(platform: Platform) -> int:
    """Periodic: unpaid orders past their expiry become expired, their numbers free again."""
    with platform.session() as reader:
        due = list(
            reader.scalars(
                select(PurchaseOrder.id).where(
                    PurchaseOrder.state == rules.NOT_PAID,
                    PurchaseOrder.expires_at <= platform.now(),
                )
            )
        )
    expired = 0
    for order_id in due:
        with platform.transaction() as session:
            order = _lock_order(session, order_id)
            if order.state != rules.NOT_PAID or not rules.is_past_expiry(
                order.expires_at, platform.now()
            ):
                continue
            if payments.has_payment_in_flight(session, order.id):
                continue  # a direct debit in flight: its result decides
            transition(session, platform, order, rules.EXPIRED, "system", "expiry date passed")
            release_order_numbers(session, order.id)
            payments.cancel_open_payments(session, platform, order.id)
            _email(session, platform, order, "order-expired", "expired")
            expired += 1
    return expired


def remind_expiring_orders(platform: Platform) -> int:
    """Periodic: one reminder per unpaid order, three days before it expires."""
    now = platform.now()
    with platform.session() as reader:
        due = list(
            reader.scalars(
                select(PurchaseOrder.id).where(
                    PurchaseOrder.state == rules.NOT_PAID,
                    PurchaseOrder.expiry_reminder_sent_at.is_(None),
                    PurchaseOrder.expires_at > now,
                    PurchaseOrder.expires_at <= now + rules.EXPIRY_REMINDER_BEFORE,
                )
            )
        )
    sent = 0
    for order_id in due:
        with platform.transaction() as session:
            order = _lock_order(session, order_id)
            if (
                order.state != rules.NOT_PAID
                or order.expiry_reminder_sent_at is not None
                or not rules.is_due_for_expiry_reminder(order.expires_at, platform.now())
            ):
                continue
            order.expiry_reminder_sent_at = platform.now()
            _email(session, platform, order, "order-expiring", "expiring", attach_order=True)
            sent += 1
    return sent
