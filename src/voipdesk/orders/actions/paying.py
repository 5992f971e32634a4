"""Paying an order: the orders side of a payment (checks, the order becoming paid, what follows:
validation or delivery, the invoice, the e-mail). How the payment itself settles is
`voipdesk.payments.settlement`."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.catalogue.services import (
    assign_order_numbers,
    count_promotion_use,
    hold_order_numbers_again,
)
from voipdesk.core.events import publish
from voipdesk.core.outbox import enqueue
from voipdesk.orders import rules
from voipdesk.orders.actions.mail import _email
from voipdesk.orders.actions.ordering import _lock_order, _on_paid_of, requires_validation
from voipdesk.orders.actions.transitions import transition
from voipdesk.orders.errors import (
    OrderExpired,
    OrderNotPayable,
    OrderNumbersGone,
    PaymentInProgress,
)
from voipdesk.orders.models import PurchaseOrder
from voipdesk.payments import services as payments

if TYPE_CHECKING:
    from voipdesk.accounts.models import Account
    from voipdesk.core.platform import Platform


PaymentRequest = payments.PaymentRequest


def _check_payable(order: PurchaseOrder, platform: Platform) -> None:
    if order.state == rules.EXPIRED or (
        order.state == rules.NOT_PAID and rules.is_past_expiry(order.expires_at, platform.now())
    ):
        raise OrderExpired(expired=order.expires_at.date().isoformat())
    if order.state != rules.NOT_PAID:
        raise OrderNotPayable(state=order.state)


def _payable_order(order: PurchaseOrder) -> payments.PayableOrder:
    return payments.PayableOrder(
        order_id=order.id,
        number=order.number,
        account_id=order.account_id,
        amount=order.total_incl_tax,
        currency=order.currency,
        allowed_methods=tuple(order.allowed_payment_methods),
    )


def pay_order(
    session: Session, platform: Platform, account: Account, order_id: str, request: PaymentRequest
) -> Any:  # the payment record (payments' model), for the orders API
    """One payment attempt. The order row is locked, so of two racing payments one wins and the
    other finds the order paid; the attempt itself is `payments.start_payment`."""
    order = _lock_order(session, order_id, account.id)
    _check_payable(order, platform)
    if payments.has_payment_in_flight(session, order.id):
        raise PaymentInProgress()
    _hold_numbers_again(session, platform, order)
    return payments.start_payment(session, platform, account, _payable_order(order), request)


def order_numbers(order: PurchaseOrder) -> list[str]:
    """The numbers an order's lines name (reserved for it while it is unpaid)."""
    numbers: list[str] = []
    for line in order.lines:
        numbers.extend(str(n) for n in (line.details or {}).get("numbers") or [])
    return numbers


def _hold_numbers_again(session: Session, platform: Platform, order: PurchaseOrder) -> None:
    """The short hold of an unpaid order's numbers may have lapsed: they are held again for the
    payment, or the payment is refused, naming the numbers taken meanwhile."""
    numbers = order_numbers(order)
    if not numbers:
        return
    now = platform.now()
    until = min(order.expires_at, now + timedelta(hours=platform.settings.number_hold_hours))
    gone = hold_order_numbers_again(session, numbers, order.id, until, now)
    if gone:
        raise OrderNumbersGone(numbers=", ".join(gone), extra={"numbers": gone})


# --- the settlement target registered with the payments area (orders/handlers.py) --------------
def lock_for_settlement(session: Session, order_id: str) -> None:
    _lock_order(session, order_id)


def is_payable(session: Session, platform: Platform, order_id: str) -> bool:
    """Whether money arriving now can still pay the order (else the payments area refunds it)."""
    order = _lock_order(session, order_id)
    return order.state == rules.NOT_PAID and not rules.is_past_expiry(
        order.expires_at, platform.now()
    )


def apply_settled_payment(
    session: Session, platform: Platform, settled: payments.SettledPayment
) -> None:
    """A payment of the order succeeded (once, under the order's lock): the order is paid, its
    numbers assigned, then it waits for validation or goes to delivery; the invoice and e-mail
    follow."""
    order = _lock_order(session, settled.order_id)
    now = platform.now()
    actor = settled.actor
    order.paid_at = now
    assign_order_numbers(session, order.id, order.account_id)
    if order.promotion_code:
        count_promotion_use(session, order.promotion_code)
    payments.cancel_open_payments(session, platform, order.id, except_id=settled.payment_id)
    on_paid = _on_paid_of(order)
    if on_paid is not None:
        _settle_custom_order(session, platform, order, settled.payment_id, actor, on_paid)
        return
    needs_validation = requires_validation(session, order)
    target = rules.VALIDATION if needs_validation else rules.DELIVERING
    transition(session, platform, order, target, actor, f"payment {settled.payment_id}")
    # An order held in validation says so here; the procedure itself (PDF, documents, where to
    # send them) is the validation area's own e-mail, so nothing else is sent for it.
    _email(
        session,
        platform,
        order,
        "order-payment-received",
        "payment_received",
        extra={"awaiting_procedure": needs_validation},
    )
    _enqueue_invoice(session, platform, order)
    if not needs_validation:
        _enqueue_delivery(session, platform, order)


SETTLEMENT_TARGET = payments.SettlementTarget(
    lock=lock_for_settlement, payable=is_payable, apply=apply_settled_payment
)


def _enqueue_invoice(session: Session, platform: Platform, order: PurchaseOrder) -> None:
    enqueue(
        session,
        "orders.issue_invoice",
        {"order_id": order.id},
        platform.now(),
        dedup_key=f"order-invoice:{order.id}",
    )


def _settle_custom_order(
    session: Session,
    platform: Platform,
    order: PurchaseOrder,
    payment_id: str,
    actor: str,
    on_paid: dict[str, Any],
) -> None:
    """A paid custom order: no validation, no provisioning; the owning area applies the change
    through its outbox message (written in this same transaction, so it cannot be lost)."""
    now = platform.now()
    transition(session, platform, order, rules.DELIVERING, actor, f"payment {payment_id}")
    enqueue(
        session, on_paid["topic"], on_paid["payload"], now, dedup_key=f"order-on-paid:{order.id}"
    )
    transition(session, platform, order, rules.DELIVERED, "system", on_paid["topic"])
    _email(session, platform, order, "order-payment-received", "payment_received")
    _enqueue_invoice(session, platform, order)


READY_FOR_DELIVERY = "orders.ready_for_delivery"


def _enqueue_delivery(session: Session, platform: Platform, order: PurchaseOrder) -> None:
    """The order may be delivered: the domain event, written in this transaction, is handled by
    the subscriptions area (it provisions, then calls `orders.services.mark_delivered`)."""
    publish(
        session,
        READY_FOR_DELIVERY,
        {"order_id": order.id, "account_id": order.account_id},
        now=platform.now(),
        key=order.id,
    )


def release_order_after_validation(session: Session, platform: Platform, order_id: str) -> None:
    """The order's billing account was validated: the order goes to delivery. Idempotent: an
    order already past validation is left as it is."""
    order = _lock_order(session, order_id)
    if order.state in (rules.DELIVERING, rules.DELIVERED):
        return
    transition(session, platform, order, rules.DELIVERING, "validation", "validation approved")
    _enqueue_delivery(session, platform, order)


def order_ids_in_validation(session: Session, account_id: str) -> list[str]:
    return list(
        session.scalars(
            select(PurchaseOrder.id).where(
                PurchaseOrder.account_id == account_id, PurchaseOrder.state == rules.VALIDATION
            )
        )
    )


def record_bank_transfer(
    session: Session, platform: Platform, staff_id: str, order_id: str
) -> Any:  # the payment record (payments' model), for the orders API
    """Staff saw the transfer (reference: the order number) arrive on the operator's account."""
    order = _lock_order(session, order_id)
    _check_payable(order, platform)
    return payments.record_bank_transfer(
        session, platform, _payable_order(order), actor=f"staff:{staff_id}"
    )
