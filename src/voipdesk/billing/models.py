"""Billing tables (collections, SEPA files, renewal runs, manual renewals; the invoice tables are
the invoices area's). Amounts the renewal computes in SQL are integers (cents, or 1/10 000 for unit
prices), exact on both databases; properties give them back as Decimal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, UTCDateTime, new_id

COLLECTION_PENDING = "pending"
COLLECTION_SUBMITTED = "submitted"  # in a SEPA file sent to the bank
COLLECTION_SUCCEEDED = "succeeded"
COLLECTION_FAILED = "failed"


class Collection(Base):
    """Charging an automatic renewal invoice to the default payment method, once per invoice."""

    __tablename__ = "billing_collection"
    __table_args__ = (
        UniqueConstraint("invoice_id"),
        Index("ix_billing_collection_state", "state", "method_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoice.id"))
    account_id: Mapped[str] = mapped_column(String(32))
    payment_method_id: Mapped[str] = mapped_column(String(32))
    method_type: Mapped[str] = mapped_column(String(20))  # card | sepa_debit
    amount_cents: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default=COLLECTION_PENDING)
    sepa_file_id: Mapped[str | None] = mapped_column(String(32), index=True)
    provider_reference: Mapped[str | None] = mapped_column(String(100))
    failure_code: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SepaFile(Base):
    """A pain.008 direct-debit file for the operator's bank: at most one per renewal period and
    collection date (a second run for the same day cannot make a second file), and each
    collection is in at most one file (it leaves `pending` when it joins one)."""

    __tablename__ = "billing_sepa_file"
    __table_args__ = (UniqueConstraint("period_start", "collection_date"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    period_start: Mapped[date] = mapped_column(Date)
    collection_date: Mapped[date] = mapped_column(Date)
    debits: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)
    xml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RenewalRun(Base):
    """The renewal of one month: when it ran and what it did. A run clears `finished_at` when it
    starts and sets it (with the summary) when it ends: a crashed run leaves it empty."""

    __tablename__ = "renewal_run"

    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ManualRenewal(Base):
    """A service on manual renewal for one period: reminders sent, paid or not."""

    __tablename__ = "manual_renewal"
    __table_args__ = (UniqueConstraint("service_id", "period_start"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    order_id: Mapped[str | None] = mapped_column(String(32))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# An invoice paid by the customer (or retried after a failed collection): one row per attempt.
PAYMENT_PENDING = "pending"  # sent to the provider (a direct debit), its result to come
PAYMENT_REQUIRES_CONFIRMATION = "requires_confirmation"  # the card asks for a confirmation step
PAYMENT_AWAITING_TRANSFER = "awaiting_transfer"  # the customer was given the reference to quote
PAYMENT_SUCCEEDED = "succeeded"
PAYMENT_FAILED = "failed"
PAYMENT_RETURNED = "returned"  # a direct debit the bank returned (R-transaction)
PAYMENT_CANCELLED = "cancelled"
OPEN_INVOICE_PAYMENT_STATES = (
    PAYMENT_PENDING,
    PAYMENT_REQUIRES_CONFIRMATION,
    PAYMENT_AWAITING_TRANSFER,
)


class InvoicePayment(Base):
    """One attempt at paying an unpaid invoice: by card through the provider, by a one-off
    direct debit, or by bank transfer (a reference to quote; staff record its arrival)."""

    __tablename__ = "billing_invoice_payment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoice.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    origin: Mapped[str] = mapped_column(String(12))  # customer | retry | staff
    method_type: Mapped[str] = mapped_column(String(20))  # card | sepa_debit | bank_transfer
    payment_method_id: Mapped[str | None] = mapped_column(String(32))
    amount_cents: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(24), index=True)
    provider_reference: Mapped[str | None] = mapped_column(String(100), unique=True)
    confirmation_url: Mapped[str | None] = mapped_column(String(300))
    transfer_reference: Mapped[str | None] = mapped_column(String(40))
    failure_code: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
