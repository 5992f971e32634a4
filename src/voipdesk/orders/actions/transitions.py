"""The order state machine: every state change goes through `transition` (checked and recorded),
the validation gate, and cancellation by the customer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from voipdesk.catalogue.services import (
    release_order_numbers,
)
from voipdesk.core.events import publish
from voipdesk.core.money import Money
from voipdesk.orders import rules
from voipdesk.orders.actions.ordering import _lock_order
from voipdesk.orders.errors import (
    InvalidTransition,
    OrderNotCancellable,
    PaymentInProgress,
)
from voipdesk.orders.models import OrderEvent, PurchaseOrder
from voipdesk.payments import services as payments

if TYPE_CHECKING:
    from voipdesk.accounts.models import Account
    from voipdesk.core.platform import Platform


def transition(
    session: Session,
    platform: Platform,
    order: PurchaseOrder,
    to_state: str,
    actor: str,
    note: str = "",
) -> None:
    """Every state change goes through the table, and is recorded; a payment and a delivery
    are announced (`orders.paid`, `orders.delivered`)."""
    if not rules.can_transition(order.state, to_state):
        raise InvalidTransition(from_state=order.state, to_state=to_state)
    from_state = order.state
    session.add(
        OrderEvent(
            order_id=order.id,
            at=platform.now(),
            actor=actor,
            from_state=order.state,
            to_state=to_state,
            note=note[:300],
        )
    )
    order.state = to_state
    session.flush()
    _announce(session, platform, order, from_state, to_state)


PAID = "orders.paid"
DELIVERED = "orders.delivered"


def _announce(
    session: Session, platform: Platform, order: PurchaseOrder, from_state: str, to_state: str
) -> None:
    facts = {"order_id": order.id, "account_id": order.account_id, "number": order.number}
    if from_state == rules.NOT_PAID and to_state in (rules.VALIDATION, rules.DELIVERING):
        paid = facts | {"incl_tax": Money(order.total_incl_tax, order.currency).as_json()}
        publish(session, PAID, paid, now=platform.now(), key=order.id)
    elif to_state == rules.DELIVERED:
        delivered = facts | {"billing_group_id": order.billing_group_id}
        publish(session, DELIVERED, delivered, now=platform.now(), key=order.id)


def cancel_order(
    session: Session, platform: Platform, account: Account, order_id: str
) -> PurchaseOrder:
    order = _lock_order(session, order_id, account.id)
    if order.state != rules.NOT_PAID:
        raise OrderNotCancellable(state=order.state)
    if payments.has_payment_in_flight(session, order.id):
        raise PaymentInProgress()
    transition(
        session,
        platform,
        order,
        rules.CANCELLED,
        f"account:{account.id}",
        "cancelled by the customer",
    )
    release_order_numbers(session, order.id)
    payments.cancel_open_payments(session, platform, order.id)
    return order
