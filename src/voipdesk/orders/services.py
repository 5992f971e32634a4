"""The orders area's public interface for the areas above it (subscriptions, billing): plain
functions and dataclasses, no ORM object crossing.

- `create_custom_order(...) -> CreatedOrder`: a one-line order priced by the calling area
  (more simultaneous calls, a manual renewal); once paid, its `on_paid` outbox message is sent.
- `run_idempotent(...)`: the `Idempotency-Key` store, for other areas' POSTs that pay.
- Delivery: orders writes the domain event `orders.ready_for_delivery` {order_id, account_id};
  the subscriptions area's handler reads `order_to_deliver(session, order_id)`, provisions, then
  calls `mark_delivered(platform, session, order_id, ...)` in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.orders import rules
from voipdesk.orders.actions import ordering
from voipdesk.orders.actions.cart import register_billing_group_check
from voipdesk.orders.actions.mail import _email
from voipdesk.orders.actions.paying import READY_FOR_DELIVERY
from voipdesk.orders.actions.transitions import transition
from voipdesk.orders.idempotency import run_idempotent

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

__all__ = [
    "READY_FOR_DELIVERY",
    "CreatedOrder",
    "DeliveryLine",
    "OrderToDeliver",
    "create_custom_order",
    "mark_delivered",
    "order_to_deliver",
    "register_billing_group_check",
    "run_idempotent",
]


@dataclass(frozen=True)
class CreatedOrder:
    order_id: str
    number: str
    total_incl_tax: Decimal
    currency: str


def create_custom_order(
    session: Session,
    platform: Platform,
    *,
    account_id: str,
    description: str,
    amount_excl_tax: Decimal,
    monthly_excl_tax: Decimal | None = None,
    billing_group_id: str | None = None,
    on_paid: tuple[str, dict[str, Any]],
    description_fr: str | None = None,
    period: tuple[date, date] | None = None,
) -> CreatedOrder:
    """A purchase order of one line priced by another area (see `ordering.create_custom_order`):
    once paid it skips validation and delivery; the outbox message `on_paid` (topic, payload)
    lets the owning area apply the change."""
    order = ordering.create_custom_order(
        session,
        platform,
        account_id=account_id,
        description=description,
        amount_excl_tax=amount_excl_tax,
        monthly_excl_tax=monthly_excl_tax,
        billing_group_id=billing_group_id,
        on_paid=on_paid,
        description_fr=description_fr,
        period=period,
    )
    return CreatedOrder(order.id, order.number, order.total_incl_tax, order.currency)


@dataclass(frozen=True)
class DeliveryLine:
    kind: str
    offer_code: str
    quantity: int
    details: dict[str, Any]
    monthly_price_excl_tax: Decimal | None
    unit_price_excl_tax: Decimal


@dataclass(frozen=True)
class OrderToDeliver:
    order_id: str
    account_id: str
    billing_group_id: str | None
    lines: tuple[DeliveryLine, ...]


def order_to_deliver(session: Session, order_id: str) -> OrderToDeliver | None:
    """The order to provision, its row locked; None unless it is in delivery (already delivered:
    a repeated message)."""
    order = ordering._lock_order(session, order_id)
    if order.state != rules.DELIVERING:
        return None
    return OrderToDeliver(
        order_id=order.id,
        account_id=order.account_id,
        billing_group_id=order.billing_group_id,
        lines=tuple(
            DeliveryLine(
                kind=line.kind,
                offer_code=line.offer_code,
                quantity=line.quantity,
                details=dict(line.details or {}),
                monthly_price_excl_tax=line.monthly_price_excl_tax,
                unit_price_excl_tax=line.unit_price_excl_tax,
            )
            for line in order.lines
        ),
    )


def mark_delivered(
    platform: Platform,
    session: Session,
    order_id: str,
    *,
    billing_group_id: str | None,
    delivery: dict[str, Any],
    credentials: list[dict[str, Any]],
) -> None:
    """What was ordered exists: the order is delivered and the access details are e-mailed
    (idempotent: an order no longer in delivery is left as it is)."""
    order = ordering._lock_order(session, order_id)
    if order.state != rules.DELIVERING:
        return
    order.billing_group_id = billing_group_id
    order.delivery = delivery
    transition(session, platform, order, rules.DELIVERED, "system", "delivered")
    _email(
        session, platform, order, "order-delivered", "delivered", extra={"credentials": credentials}
    )
