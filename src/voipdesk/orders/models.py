"""Tables of the orders area: purchase orders and their lines, state history, payments,
customers' payment methods, idempotency keys, received webhooks and the sandbox provider."""

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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voipdesk.core.db import Base, DecimalAmount, UTCDateTime, new_id


class PaymentMethod(Base):
    """A customer's way to pay. Card numbers never reach us: only the provider's token."""

    __tablename__ = "payment_method"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    method_type: Mapped[str] = mapped_column(String(20))  # card | sepa_debit | bank_transfer
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str] = mapped_column(String(100), default="")
    # card
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_token: Mapped[str | None] = mapped_column(String(100))
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_exp_month: Mapped[int | None] = mapped_column(Integer)
    card_exp_year: Mapped[int | None] = mapped_column(Integer)
    # SEPA direct debit
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    holder_name: Mapped[str | None] = mapped_column(String(140))
    holder_address: Mapped[str | None] = mapped_column(String(300))
    mandate_reference: Mapped[str | None] = mapped_column(String(35), unique=True)
    mandate_signed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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


class Payment(Base):
    """One attempt to pay an order. At most one per order ever succeeds (order row locked)."""

    __tablename__ = "order_payment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(
        ForeignKey("purchase_order.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    method_type: Mapped[str] = mapped_column(String(20))
    payment_method_id: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(DecimalAmount())
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # pending | requires_confirmation | awaiting_transfer | succeeded | failed | cancelled
    # | refunded
    status: Mapped[str] = mapped_column(String(30), index=True)
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_reference: Mapped[str | None] = mapped_column(String(60), unique=True)
    confirmation_url: Mapped[str | None] = mapped_column(String(300))
    failure_code: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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


class ProviderWebhookEvent(Base):
    """Webhook events already handled: a replayed event is acknowledged and changes nothing."""

    __tablename__ = "provider_webhook_event"

    event_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_type: Mapped[str] = mapped_column(String(60))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class SandboxCharge(Base):
    """The sandbox payment provider's own book: what it was asked to charge and what happened."""

    __tablename__ = "sandbox_charge"

    reference: Mapped[str] = mapped_column(String(60), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    token: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(DecimalAmount())
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(200))
    # requires_confirmation | succeeded | failed | cancelled | refunded
    status: Mapped[str] = mapped_column(String(30))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
