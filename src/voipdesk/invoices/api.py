"""The invoices API: `/me/invoices` (a page of them, newest first), one invoice, its PDF."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.money import Money
from voipdesk.core.pagination import Page
from voipdesk.core.platform import Platform
from voipdesk.invoices import queries as actions
from voipdesk.invoices.models import Invoice, InvoiceLine, InvoiceTax, cents_to_amount
from voipdesk.invoices.pdf import invoice_filename, render_invoice_pdf

router = APIRouter(tags=["invoices"])


class InvoiceLineOut(BaseModel):
    description: str
    quantity: str
    unit_price_excl_tax: dict[str, str]
    amount_excl_tax: dict[str, str]
    period_start: date | None
    period_end: date | None
    service_id: str | None


class TaxOut(BaseModel):
    label: str
    rate: str
    base_excl_tax: dict[str, str]
    tax: dict[str, str]


class InvoiceOut(BaseModel):
    id: str
    number: str
    issued_on: date
    billing_group_id: str | None
    order_id: str | None
    renewal_period: date | None
    status: str
    paid_at: datetime | None
    excl_tax: dict[str, str]
    tax: dict[str, str]
    incl_tax: dict[str, str]
    pdf_url: str
    lines: list[InvoiceLineOut] | None = None
    taxes: list[TaxOut] | None = None


class InvoicePage(Page[InvoiceOut]):
    pass


def _money(cents: int, currency: str = "EUR") -> dict[str, str]:
    return Money(cents_to_amount(cents), currency).as_json()


def invoice_out(invoice: Invoice) -> InvoiceOut:
    return InvoiceOut(
        id=invoice.id,
        number=invoice.number,
        issued_on=invoice.issued_on,
        billing_group_id=invoice.billing_group_id,
        order_id=invoice.order_id,
        renewal_period=invoice.renewal_period,
        status=invoice.status,
        paid_at=invoice.paid_at,
        excl_tax=_money(invoice.total_excl_tax_cents, invoice.currency),
        tax=_money(invoice.total_tax_cents, invoice.currency),
        incl_tax=_money(invoice.total_incl_tax_cents, invoice.currency),
        pdf_url=f"/api/v1/me/invoices/{invoice.id}/pdf",
    )


@router.get("/me/invoices", response_model=InvoicePage, summary="Invoices, newest first")
def list_invoices(
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = None,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> InvoicePage:
    with platform.session() as session:
        invoices, next_cursor = actions.list_invoices(session, account.id, limit, cursor)
        return InvoicePage(items=[invoice_out(i) for i in invoices], next_cursor=next_cursor)


@router.get("/me/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(
    invoice_id: str,
    request: Request,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> InvoiceOut:
    with platform.session() as session:
        invoice = actions.get_invoice(session, account.id, invoice_id)
        out = invoice_out(invoice)
        out.lines = [
            InvoiceLineOut(
                description=line.description,
                quantity=f"{line.quantity.normalize():f}",
                unit_price_excl_tax=Money(line.unit_price_excl_tax).as_json(),
                amount_excl_tax=_money(line.amount_excl_tax_cents),
                period_start=line.period_start,
                period_end=line.period_end,
                service_id=line.service_id,
            )
            for line in session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice.id)
                .order_by(InvoiceLine.id)
            )
        ]
        out.taxes = [
            TaxOut(
                label=gettext(request_language(request), t.label),
                rate=f"{t.rate.normalize():f}",
                base_excl_tax=_money(t.base_cents),
                tax=_money(t.tax_cents),
            )
            for t in session.scalars(
                select(InvoiceTax)
                .where(InvoiceTax.invoice_id == invoice.id)
                .order_by(InvoiceTax.id)
            )
        ]
        return out


@router.get(
    "/me/invoices/{invoice_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def invoice_pdf(
    invoice_id: str,
    request: Request,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.session() as session:
        invoice = actions.get_invoice(session, account.id, invoice_id)
        language = account.language or request_language(request)
        pdf = render_invoice_pdf(session, invoice, language)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": (
                f'attachment; filename="{invoice_filename(invoice.number, language)}"'
            )
        },
    )
