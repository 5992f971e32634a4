"""Tables of the orders area: purchase orders and their lines, state history, order numbers and
idempotency keys (payments and payment methods are the payments area's)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voipdesk.core.db import Base, DecimalAmount, UTCDateTime, new_id


class OrderNumberSequence(Base):
    """Order numbers per year, taken under a row lock so two orders never share one."""

    __tablename__ = "order_number_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class PurchaseOrder(Base):
    __tablename__ = "purchase_order"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    country: Mapped[str] = mapped_column(String(5))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    tax_date: Mapped[date] = mapped_column(Date)  # first day of the service period: picks tax rates
    # Who is invoiced and debited, as it was when the order was made.
    billing_contact: Mapped[dict[str, Any]] = mapped_column(JSON)
    default_payment_method_id: Mapped[str | None] = mapped_column(String(32))
    allowed_payment_methods: Mapped[list[str]] = mapped_column(JSON)
    billing_group_id: Mapped[str | None] = mapped_column(String(32))  # chosen, or made at delivery
    promotion_code: Mapped[str | None] = mapped_column(String(40))
    # The promotion's terms as they were when the order was made (the code may change later).
    discount_percent: Mapped[Decimal | None] = mapped_column(DecimalAmount())
    discount_amount: Mapped[Decimal | None] = mapped_column(DecimalAmount())
    subtotal_excl_tax: Mapped[Decimal] = mapped_column(DecimalAmount())
    discount_excl_tax: Mapped[Decimal] = mapped_column(DecimalAmount())
    total_excl_tax: Mapped[Decimal] = mapped_column(DecimalAmount())
    total_tax: Mapped[Decimal] = mapped_column(DecimalAmount())
    total_incl_tax: Mapped[Decimal] = mapped_column(DecimalAmount())
    # [{"label", "rate", "base", "amount"}] as decimal strings
    tax_breakdown: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invoice_id: Mapped[str | None] = mapped_column(String(32))
    expiry_reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set at delivery: what was created (billing group, line numbers), never secrets.
    delivery: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The terms accepted on the review page: {terms_of_sale: version, telephony_terms: version,
    # accepted_at: ISO instant}; None for orders made by another area (calls, renewal).
    terms_accepted: Mapped[dict[str, str] | None] = mapped_column(JSON)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )


class OrderLine(Base):
    __tablename__ = "order_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(
        ForeignKey("purchase_order.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    offer_code: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))  # sip_line, alias_number, fax_line, option, phone
    # English and French descriptions, as on the purchase order when it was made.
    description_en: Mapped[str] = mapped_column(String(300))
    description_fr: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_excl_tax: Mapped[Decimal] = mapped_column(DecimalAmount())
    monthly_price_excl_tax: Mapped[Decimal | None] = mapped_column(DecimalAmount())
    amount_excl_tax: Mapped[Decimal] = mapped_column(DecimalAmount())
    discountable: Mapped[bool] = mapped_column(Boolean, default=True)
    # [{"label", "rate"}]
    tax_components: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    # numbers, simultaneous_calls, options, hardware, for_line_number, pool ...
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")

    def description(self, language: str) -> str:
        return self.description_fr if language == "fr" else self.description_en


class OrderEvent(Base):
    """Every state change of an order: who, when, from what to what."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(
        ForeignKey("purchase_order.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(60))  # account:<id>, staff:<id>, system, provider
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(300), default="")

    order: Mapped[PurchaseOrder] = relationship(back_populates="events")


class IdempotencyKey(Base):
    """The first answer to a POST with an `Idempotency-Key`, replayed for the same key."""

    __tablename__ = "order_idempotency_key"
    __table_args__ = (UniqueConstraint("account_id", "scope", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(80))  # e.g. orders.create, orders.pay:<order id>
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
