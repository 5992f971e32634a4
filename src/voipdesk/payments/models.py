"""Tables of the payments area: customers' payment methods (cards, SEPA mandates, bank
transfer), payment attempts, received provider webhooks and the sandbox provider's book.

The SQL table names are unchanged (`order_payment` keeps its name: a payment pays an order)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

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
