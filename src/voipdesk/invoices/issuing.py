"""Issuing invoices (`issue_invoice`): gap-free numbers per year, tax per rate on totals, the
customer and operator snapshots; the PDF is rendered on demand (`invoices.pdf`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voipdesk.catalogue.rules import TaxComponent, currency_of
from voipdesk.core.db import new_id
from voipdesk.core.events import publish
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.invoices import rules
from voipdesk.invoices.models import (
    INVOICE_PAID,
    INVOICE_UNPAID,
    Invoice,
    InvoiceLine,
    InvoiceNumberCounter,
    InvoiceParty,
    InvoiceTax,
    amount_to_cents,
    cents_to_amount,
)


@dataclass
class InvoiceLineInput:
    description: str
    quantity: Decimal
    unit_price_excl_tax: Decimal
    tax_components: tuple[TaxComponent, ...]
    period_start: date | None = None
    period_end: date | None = None
    service_id: str | None = None

    @property
    def amount_excl_tax(self) -> Decimal:
        return rules.round_half_up(Decimal(self.quantity) * Decimal(self.unit_price_excl_tax))


def lock_counter(session: Session, year: int) -> InvoiceNumberCounter:
    """The year's counter row, locked until the transaction ends (created at the first invoice)."""
    counter = session.get(InvoiceNumberCounter, year, with_for_update=True)
    if counter is None:
        try:
            with session.begin_nested():
                session.add(InvoiceNumberCounter(year=year, last_value=0))
        except IntegrityError:
            pass
        counter = session.get(
            InvoiceNumberCounter, year, with_for_update=True, populate_existing=True
        )
        assert counter is not None
    return counter


def next_invoice_number(session: Session, year: int) -> str:
    counter = lock_counter(session, year)
    counter.last_value += 1
    return rules.invoice_number(year, counter.last_value)


def customer_snapshot(session: Session, account_id: str) -> dict[str, Any]:
    from voipdesk.accounts.models import Account

    account = session.get(Account, account_id)
    if account is None:
        return {}
    return {
        "handle": account.handle,
        "name": account.display_name,
        "kind": account.kind,
        "registration_number": account.registration_number,
        "address_line1": account.address_line1,
        "address_line2": account.address_line2,
        "postal_code": account.postal_code,
        "city": account.city,
        "country": account.country,
        "email": account.email,
        "language": account.language,
    }


def operator_snapshot(platform: Platform) -> dict[str, Any]:
    settings = platform.settings
    return {
        "name": settings.operator_name,
        "address": settings.operator_postal_address,
        "email": settings.operator_email,
        "vat_number": settings.operator_vat_number,
        "country": settings.operator_country,
        "legal_name": settings.operator_legal_name,
        "legal_form": settings.operator_legal_form,
        "share_capital": settings.operator_share_capital,
        "registration_number": settings.operator_registration_number,
        "registry": settings.operator_registry,
        "street": settings.operator_street,
        "postal_code": settings.operator_postal_code,
        "city": settings.operator_city,
        "iban": settings.operator_iban,
        "bic": settings.operator_bic,
        "iban_ch": settings.operator_iban_ch,
    }


def issue_invoice(
    session: Session,
    platform: Platform,
    *,
    account_id: str,
    lines: list[InvoiceLineInput],
    order_id: str | None = None,
    billing_group_id: str | None = None,
    issued_on: date,
    paid: bool,
    order_reference: str | None = None,
    currency: str | None = None,
) -> Invoice:
    """Numbers and stores an invoice in the caller's transaction. The PDF is rendered when it is
    downloaded (`render_invoice_pdf`), from what is stored here, so it never changes."""
    if order_id is not None:
        existing = session.scalar(select(Invoice).where(Invoice.order_id == order_id))
        if existing is not None:
            return existing  # one invoice per order, even if asked twice
    customer = customer_snapshot(session, account_id)
    if order_reference:
        customer["order_reference"] = order_reference  # the buyer's order the invoice bills
    amounts = [amount_to_cents(line.amount_excl_tax) for line in lines]
    breakdown = rules.tax_breakdown(
        (amount, [(c.label, c.rate) for c in line.tax_components])
        for amount, line in zip(amounts, lines, strict=True)
    )
    total_excl = sum(amounts)
    total_tax = sum(item.tax_cents for item in breakdown)
    now = platform.now()
    invoice = Invoice(
        id=new_id(),
        number=next_invoice_number(session, issued_on.year),
        account_id=account_id,
        billing_group_id=billing_group_id,
        order_id=order_id,
        renewal_period=None,
        issued_on=issued_on,
        tax_country=customer.get("country") or platform.settings.operator_country,
        currency=currency or currency_of(customer.get("country")),
        total_excl_tax_cents=total_excl,
        total_tax_cents=total_tax,
        total_incl_tax_cents=total_excl + total_tax,
        status=INVOICE_PAID if paid else INVOICE_UNPAID,
        paid_at=now if paid else None,
        created_at=now,
    )
    session.add(invoice)
    session.flush()
    for amount, line in zip(amounts, lines, strict=True):
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                description=line.description[:300],
                quantity=Decimal(line.quantity),
                unit_price_e4=int((Decimal(line.unit_price_excl_tax) * 10_000).to_integral_value()),
                amount_excl_tax_cents=amount,
                tax_components=[
                    {"label": c.label, "rate": str(c.rate)} for c in line.tax_components
                ],
                period_start=line.period_start,
                period_end=line.period_end,
                service_id=line.service_id,
            )
        )
    for item in breakdown:
        session.add(
            InvoiceTax(
                invoice_id=invoice.id,
                label=item.label,
                rate_ppm=item.rate_ppm,
                base_cents=item.base_cents,
                tax_cents=item.tax_cents,
            )
        )
    session.add(
        InvoiceParty(invoice_id=invoice.id, customer=customer, operator=operator_snapshot(platform))
    )
    session.flush()
    announce_issued(session, platform, invoice)
    if paid:
        announce_paid(session, platform, invoice)
    return invoice


ISSUED = "invoices.issued"
PAID = "invoices.paid"


def _facts(invoice: Invoice) -> dict[str, Any]:
    incl_tax = Money(cents_to_amount(invoice.total_incl_tax_cents), invoice.currency)
    return {
        "invoice_id": invoice.id,
        "account_id": invoice.account_id,
        "number": invoice.number,
        "order_id": invoice.order_id,
        "billing_group_id": invoice.billing_group_id,
        "incl_tax": incl_tax.as_json(),
    }


def announce_issued(session: Session, platform: Platform, invoice: Invoice) -> None:
    """`invoices.issued`, once per invoice (in the caller's transaction)."""
    facts = _facts(invoice) | {"issued_on": invoice.issued_on.isoformat()}
    publish(session, ISSUED, facts, now=platform.now(), key=invoice.id)


def announce_paid(session: Session, platform: Platform, invoice: Invoice) -> None:
    """`invoices.paid`, once per invoice, whoever records the payment (in the caller's
    transaction)."""
    paid_at = invoice.paid_at.isoformat() if invoice.paid_at else None
    publish(
        session, PAID, _facts(invoice) | {"paid_at": paid_at}, now=platform.now(), key=invoice.id
    )
