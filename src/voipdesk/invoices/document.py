"""Everything an invoice shows, read from what was stored at issue (so it never changes), in one
plain structure that the PDF, the Factur-X XML and the Swiss QR-bill are all made from.

How an invoice was paid is known by the areas that took the payment (orders for an order's
invoice, billing for renewal invoices): they register a function with `register_payment_source`
that names the payment method type of a paid invoice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.invoices import rules
from voipdesk.invoices.models import (
    INVOICE_PAID,
    Invoice,
    InvoiceLine,
    InvoiceParty,
    InvoiceTax,
    cents_to_amount,
)

PaymentSource = Callable[[Session, Invoice], str | None]
_SOURCES: list[PaymentSource] = []


def register_payment_source(source: PaymentSource) -> PaymentSource:
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


@dataclass(frozen=True)
class DocumentLine:
    description: str
    quantity: Decimal
    unit_price: Decimal  # excl. tax, up to 4 decimals
    amount: Decimal  # excl. tax
    vat_rate: Decimal | None  # 0.20 for 20 %; None when the line has other taxes only
    period_start: date | None
    period_end: date | None


@dataclass(frozen=True)
class DocumentTax:
    label: str  # English msgid (VAT, GST, QST)
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class InvoiceDocument:
    kind: str  # invoice | credit_note
    number: str
    issued_on: date
    due_on: date
    currency: str
    seller: dict[str, Any]
    buyer: dict[str, Any]
    buyer_vat_number: str | None
    order_reference: str | None
    period: tuple[date, date] | None
    lines: list[DocumentLine]
    taxes: list[DocumentTax]
    total_excl_tax: Decimal
    total_tax: Decimal
    total_incl_tax: Decimal
    paid: bool
    paid_at: datetime | None
    payment_method: str | None  # card | sepa_debit | bank_transfer, when known
    related_invoice: str | None = None  # a credit note's invoice
    notes: list[str] = field(default_factory=list)


def _vat_rate(components: list[dict[str, Any]] | None, taxes: list[DocumentTax]) -> Decimal | None:
    source = components
    if source is None:  # renewal lines take the invoice's taxes
        source = [{"label": t.label, "rate": str(t.rate)} for t in taxes]
    rates = [Decimal(str(c["rate"])) for c in source if c.get("label") == "VAT"]
    return rates[0] if rates else None


def invoice_document(session: Session, invoice: Invoice) -> InvoiceDocument:
    party = session.get(InvoiceParty, invoice.id)
    buyer = dict(party.customer) if party else {}
    seller = dict(party.operator) if party else {}
    taxes = [
        DocumentTax(t.label, t.rate, cents_to_amount(t.base_cents), cents_to_amount(t.tax_cents))
        for t in session.scalars(
            select(InvoiceTax).where(InvoiceTax.invoice_id == invoice.id).order_by(InvoiceTax.id)
        )
    ]
    lines = [
        DocumentLine(
            description=line.description,
            quantity=Decimal(line.quantity),
            unit_price=line.unit_price_excl_tax,
            amount=cents_to_amount(line.amount_excl_tax_cents),
            vat_rate=_vat_rate(line.tax_components, taxes),
            period_start=line.period_start,
            period_end=line.period_end,
        )
        for line in session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.id)
        )
    ]
    period = None
    starts = [line.period_start for line in lines if line.period_start]
    ends = [line.period_end for line in lines if line.period_end]
    if starts and ends:
        period = (min(starts), max(ends))
    method = None
    if invoice.status == INVOICE_PAID:
        for source in _SOURCES:
            method = source(session, invoice)
            if method:
                break
    return InvoiceDocument(
        kind="invoice",
        number=invoice.number,
        issued_on=invoice.issued_on,
        due_on=rules.due_on(invoice.issued_on),
        currency=invoice.currency,
        seller=seller,
        buyer=buyer,
        buyer_vat_number=rules.customer_vat_number(
            str(buyer.get("country") or ""), buyer.get("kind"), buyer.get("registration_number")
        ),
        order_reference=buyer.get("order_reference"),
        period=period,
        lines=lines,
        taxes=taxes,
        total_excl_tax=invoice.total_excl_tax,
        total_tax=invoice.total_tax,
        total_incl_tax=invoice.total_incl_tax,
        paid=invoice.status == INVOICE_PAID,
        paid_at=invoice.paid_at,
        payment_method=method,
    )
