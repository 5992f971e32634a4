"""Outbox handlers and periodic jobs of the orders area (all idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.accounts.closure import Blocker, closure_blocker
from voipdesk.core.events import publish, subscribe
from voipdesk.core.i18n import N_
from voipdesk.core.jobs import periodic
from voipdesk.core.outbox import handler
from voipdesk.invoices.services import register_payment_source
from voipdesk.orders import actions, rules
from voipdesk.orders.models import PurchaseOrder
from voipdesk.payments.services import SUCCEEDED, payments_of, register_settlement_target
from voipdesk.validation.services import APPROVED, register_waiting_orders

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


@handler("orders.deliver")
def deliver(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """A delivery message queued before delivery became the event `orders.ready_for_delivery`:
    written again as that event (its handler is idempotent)."""
    publish(
        session,
        actions.READY_FOR_DELIVERY,
        {"order_id": payload["order_id"], "account_id": payload.get("account_id", "")},
        now=platform.now(),
        key=payload["order_id"],
    )


# Payments (below orders) hands a successful payment to the order it pays through this.
register_settlement_target(actions.SETTLEMENT_TARGET)

# Validation (below orders) asks which orders wait for an account's procedure through this.
register_waiting_orders(actions.order_ids_in_validation)


@subscribe(APPROVED)
def release_orders_after_validation(
    platform: Platform, session: Session, payload: dict[str, Any]
) -> None:
    """The billing account is validated for VoIP: its orders held in validation go to delivery
    (idempotent: an order already released is left as it is)."""
    for order_id in actions.order_ids_in_validation(session, payload["account_id"]):
        actions.release_order_after_validation(session, platform, order_id)


@handler("orders.issue_invoice")
def issue_invoice(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    actions.issue_order_invoice(platform, session, payload["order_id"])


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


# Why an order in progress blocks the closure, and what the customer can do about it.
_IN_PROGRESS_REASONS = {
    rules.NOT_PAID: N_("Order %(number)s is waiting for its payment: pay it or cancel it."),
    rules.VALIDATION: N_("Order %(number)s is in Validation (manual checks of your account)."),
    rules.DELIVERING: N_("Order %(number)s is being delivered."),
}


@closure_blocker("orders")
def orders_in_progress_block_closure(session: Session, account: Any) -> list[Blocker]:
    """Orders not paid (and not expired), in Validation or in delivery block the closure."""
    orders = session.scalars(
        select(PurchaseOrder)
        .where(
            PurchaseOrder.account_id == account.id,
            PurchaseOrder.state.in_(rules.IN_PROGRESS_STATES),
        )
        .order_by(PurchaseOrder.created_at)
    )
    return [
        Blocker(
            "order-in-progress",
            _IN_PROGRESS_REASONS[order.state],
            {"number": order.number},
            link=f"/orders/{order.id}",
        )
        for order in orders
    ]


@register_payment_source
def order_invoice_paid_by(session: Session, invoice: Any) -> str | None:
    """How the order an invoice bills was paid (the invoice PDF says it)."""
    if not invoice.order_id:
        return None
    paid = [p for p in payments_of(session, invoice.order_id) if p.status == SUCCEEDED]
    return paid[-1].method_type if paid else None
