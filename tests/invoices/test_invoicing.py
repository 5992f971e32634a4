"""Issuing invoices: numbers, tax per rate on totals, the PDF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.accounts.factories import make_account
from voipdesk.catalogue.rules import tax_components
from voipdesk.invoices.issuing import InvoiceLineInput, issue_invoice
from voipdesk.invoices.pdf import render_invoice_pdf


def test_invoices_are_numbered_without_gaps_and_taxed_per_rate(platform):
    account = make_account(platform)
    vat = tax_components("FR", date(2026, 3, 1))
    lines = [
        InvoiceLineInput(
            "Line A", Decimal(1), Decimal("0.125"), vat, date(2026, 3, 1), date(2026, 3, 31)
        ),
        InvoiceLineInput("Line B", Decimal(1), Decimal("0.125"), vat),
        InvoiceLineInput("Deposit", Decimal(1), Decimal("60.00"), ()),
    ]
    with platform.transaction() as session:
        first = issue_invoice(
            session,
            platform,
            account_id=account.id,
            lines=lines,
            issued_on=date(2026, 3, 2),
            paid=True,
        )
        second = issue_invoice(
            session,
            platform,
            account_id=account.id,
            lines=lines[:1],
            issued_on=date(2026, 3, 2),
            paid=False,
        )
        third = issue_invoice(
            session,
            platform,
            account_id=account.id,
            lines=lines[:1],
            issued_on=date(2027, 1, 2),
            paid=False,
        )
    assert (first.number, second.number, third.number) == (
        "2026-000001",
        "2026-000002",
        "2027-000001",
    )
    # 0.13 + 0.13 = 0.26 at 20 % -> 0.052 -> 0.05 (on the total of the rate, not per line)
    assert first.total_excl_tax == Decimal("60.26")
    assert first.total_tax == Decimal("0.05")
    assert first.total_incl_tax == Decimal("60.31")
    with platform.session() as session:
        pdf = render_invoice_pdf(session, first, "fr")
    assert pdf.startswith(b"%PDF")
