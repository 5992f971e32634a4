"""The invoices API: `/me/invoices` (a page of them, newest first), one invoice, its PDF."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from voipdesk.accounts.api_auth import current_account, current_staff
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.money import Money
from voipdesk.core.pagination import Page, cursor_query
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
    cursor: str | None = cursor_query(),
    sort: str = Query(
        "-date",
        pattern=r"^-?(date|amount)$",
        description="date or amount (incl. tax), with - for descending; newest first by default",
    ),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> InvoicePage:
    with platform.session() as session:
        invoices, next_cursor = actions.list_invoices(session, account.id, limit, cursor, sort=sort)
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
                unit_price_excl_tax=Money(line.unit_price_excl_tax, invoice.currency).as_json(),
                amount_excl_tax=_money(line.amount_excl_tax_cents, invoice.currency),
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
                base_excl_tax=_money(t.base_cents, invoice.currency),
                tax=_money(t.tax_cents, invoice.currency),
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


# --- Credit notes ----------------------------------------------------------------------------
class CreditLineIn(BaseModel):
    description: str = Field(min_length=1, max_length=300)
    amount_excl_tax: Decimal = Field(gt=0, description="Credited amount excluding tax.")
    vat_rate: Decimal | None = Field(
        None, description="The invoice's VAT rate it belongs to (0.20); optional with one rate."
    )


class CreditNoteIn(BaseModel):
    reason: str = Field(min_length=1, max_length=300, description="Refund, re-rating, …")
    lines: list[CreditLineIn] | None = Field(
        None, description="What is credited; none: everything not credited yet (a full credit)."
    )


class CreditNoteOut(BaseModel):
    id: str
    number: str
    invoice_id: str
    issued_on: date
    reason: str
    excl_tax: dict[str, str]
    tax: dict[str, str]
    incl_tax: dict[str, str]
    invoice_status: str
    pdf_url: str


def credit_note_out(note: Any, invoice: Invoice) -> CreditNoteOut:
    return CreditNoteOut(
        id=note.id,
        number=note.number,
        invoice_id=note.invoice_id,
        issued_on=note.issued_on,
        reason=note.reason,
        excl_tax=_money(note.total_excl_tax_cents, note.currency),
        tax=_money(note.total_tax_cents, note.currency),
        incl_tax=_money(note.total_incl_tax_cents, note.currency),
        invoice_status=invoice.status,
        pdf_url=f"/api/v1/me/credit-notes/{note.id}/pdf",
    )


@router.post(
    "/backoffice/invoices/{invoice_id}/credit-notes",
    response_model=CreditNoteOut,
    status_code=201,
    tags=["backoffice"],
    summary="Credit (part of) an invoice: refund or re-rating (staff)",
)
def create_credit_note(
    invoice_id: str,
    body: CreditNoteIn,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> CreditNoteOut:
    from voipdesk.invoices.crediting import CreditLineInput, issue_credit_note

    with platform.transaction() as session:
        note = issue_credit_note(
            session,
            platform,
            invoice_id,
            reason=body.reason,
            actor=f"staff:{staff.id}",
            lines=[
                CreditLineInput(line.description, line.amount_excl_tax, line.vat_rate)
                for line in body.lines
            ]
            if body.lines
            else None,
        )
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        return credit_note_out(note, invoice)


class CreditNotePage(Page[CreditNoteOut]):
    pass


@router.get("/me/credit-notes", response_model=CreditNotePage, summary="Credit notes, newest first")
def list_credit_notes(
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> CreditNotePage:
    from voipdesk.invoices.models import CreditNote

    with platform.session() as session:
        notes = session.scalars(
            select(CreditNote)
            .where(CreditNote.account_id == account.id)
            .order_by(CreditNote.number.desc())
            .limit(200)
        ).all()
        items = [credit_note_out(n, session.get(Invoice, n.invoice_id)) for n in notes]  # type: ignore[arg-type]
        return CreditNotePage(items=items, next_cursor=None)


@router.get(
    "/me/credit-notes/{credit_note_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def credit_note_pdf(
    credit_note_id: str,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    from voipdesk.invoices.crediting import CreditNoteNotFound, render_credit_note_pdf
    from voipdesk.invoices.models import CreditNote

    with platform.session() as session:
        note = session.get(CreditNote, credit_note_id)
        if note is None or note.account_id != account.id:
            raise CreditNoteNotFound()
        language = account.language or request_language(request)
        pdf = render_credit_note_pdf(session, note, language)
    name = invoice_filename(note.number, language, kind="credit_note")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
