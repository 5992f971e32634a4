"""Invoice tables: invoices, their lines, taxes and parties (customer and operator snapshots), the
yearly number counter. Amounts the renewal computes in SQL are integers (cents, or 1/10 000 for unit
prices), exact on both databases; properties give them back as Decimal."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, DecimalAmount, UTCDateTime, new_id

CENTS = Decimal("0.01")


def cents_to_amount(cents: int | None) -> Decimal:
    return (Decimal(cents or 0) / 100).quantize(CENTS)


def amount_to_cents(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).to_integral_value())


INVOICE_PAID = "paid"
INVOICE_UNPAID = "unpaid"


class InvoiceNumberCounter(Base):
    """Gap-free invoice numbers per year: the row is locked while numbers are taken."""

    __tablename__ = "invoice_number_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        # One renewal invoice per billing group and month (NULL for order invoices).
        UniqueConstraint("billing_group_id", "renewal_period"),
        Index("ix_invoice_account_issued", "account_id", "issued_on"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[str] = mapped_column(String(32))
    billing_group_id: Mapped[str | None] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(32), index=True)
    renewal_period: Mapped[date | None] = mapped_column(Date)
    issued_on: Mapped[date] = mapped_column(Date)
    tax_country: Mapped[str] = mapped_column(String(5))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total_excl_tax_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_tax_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_incl_tax_cents: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default=INVOICE_UNPAID)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def total_excl_tax(self) -> Decimal:
        return cents_to_amount(self.total_excl_tax_cents)

    @property
    def total_tax(self) -> Decimal:
        return cents_to_amount(self.total_tax_cents)

    @property
    def total_incl_tax(self) -> Decimal:
        return cents_to_amount(self.total_incl_tax_cents)


class InvoiceLine(Base):
    __tablename__ = "invoice_line"
    __table_args__ = (
        # A service is charged once per period, whatever reruns or crashes happen.
        UniqueConstraint("service_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # No foreign key: lines are only written with their invoice, in its transaction, and the
    # renewal inserts a million of them; a per-row constraint trigger would double that time.
    invoice_id: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(DecimalAmount(), default=Decimal(1))
    unit_price_e4: Mapped[int] = mapped_column(Integer)
    amount_excl_tax_cents: Mapped[int] = mapped_column(Integer)
    # Order lines carry their taxes; renewal lines take the invoice's (see InvoiceTax).
    tax_components: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    service_id: Mapped[str | None] = mapped_column(String(32))

    @property
    def unit_price_excl_tax(self) -> Decimal:
        return (Decimal(self.unit_price_e4) / 10_000).quantize(Decimal("0.0001"))

    @property
    def amount_excl_tax(self) -> Decimal:
        return cents_to_amount(self.amount_excl_tax_cents)


class InvoiceTax(Base):
    """The VAT breakdown: one row per tax and rate, computed on the total of that rate."""

    __tablename__ = "invoice_tax"
    __table_args__ = (UniqueConstraint("invoice_id", "label", "rate_ppm"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoice.id"), index=True)
    label: Mapped[str] = mapped_column(String(20))  # English msgid (VAT, GST, QST)
    rate_ppm: Mapped[int] = mapped_column(Integer)  # 20 % = 200 000
    base_cents: Mapped[int] = mapped_column(Integer)
    tax_cents: Mapped[int] = mapped_column(Integer)

    @property
    def rate(self) -> Decimal:
        return Decimal(self.rate_ppm) / 1_000_000


class InvoiceParty(Base):
    """Who issued and who received an invoice, as they were that day (kept after an account
    closes: invoices are legal records)."""

    __tablename__ = "invoice_party"

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoice.id"), primary_key=True)
    customer: Mapped[dict[str, Any]] = mapped_column(JSON)
    operator: Mapped[dict[str, Any]] = mapped_column(JSON)


INVOICE_CREDITED = "credited"  # an unpaid invoice cancelled in full by credit notes: nothing due


class CreditNoteNumberCounter(Base):
    """Gap-free credit-note numbers per year, apart from the invoices' (locked while taken)."""

    __tablename__ = "credit_note_number_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class CreditNote(Base):
    """A refund or re-rating of (part of) one invoice: its lines and tax per rate."""

    __tablename__ = "credit_note"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoice.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(32), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # description, cents, label, ppm
    taxes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # label, ppm, base, tax (cents)
    total_excl_tax_cents: Mapped[int] = mapped_column(Integer)
    total_tax_cents: Mapped[int] = mapped_column(Integer)
    total_incl_tax_cents: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(60))
