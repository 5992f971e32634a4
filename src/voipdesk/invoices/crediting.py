"""Credit notes: a refund or a re-rating gives back (part of) one invoice, with the tax of each
rate computed so that crediting the whole invoice, at once or in parts, gives back exactly what
it charged (`rules.credit_tax_cents`); never more (`rules.creditable`). They are numbered in
their own gap-free yearly sequence (AV-2026-000001), apart from the invoices'. An unpaid
invoice credited in full is no longer due (status `credited`: no dunning, no closure block)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voipdesk.core.db import new_id
from voipdesk.core.errors import Conflict, InvalidInput, NotFound
from voipdesk.invoices import rules
from voipdesk.invoices.document import DocumentLine, DocumentTax, InvoiceDocument, invoice_document
from voipdesk.invoices.models import (
    INVOICE_CREDITED,
    INVOICE_UNPAID,
    CreditNote,
    CreditNoteNumberCounter,
    Invoice,
    InvoiceTax,
    amount_to_cents,
    cents_to_amount,
)

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


class CreditNoteNotFound(NotFound):
    code = "credit-note-not-found"
    message = "No such credit note."


class CreditExceedsInvoice(Conflict):
    code = "credit-exceeds-invoice"
    message = (
        "A credit note cannot give back more than invoice %(number)s charged: %(left)s excl. tax "
        "is left to credit at that rate."
    )


@dataclass(frozen=True)
class CreditLineInput:
    description: str
    amount_excl_tax: Decimal
    vat_rate: Decimal | None = None  # 0.20; None: the invoice's only rate (or its taxes, Québec)


def _next_number(session: Session, year: int) -> str:
    counter = session.get(CreditNoteNumberCounter, year, with_for_update=True)
    if counter is None:
        try:
            with session.begin_nested():
                session.add(CreditNoteNumberCounter(year=year, last_value=0))
        except IntegrityError:
            pass
        counter = session.get(
            CreditNoteNumberCounter, year, with_for_update=True, populate_existing=True
        )
        assert counter is not None
    counter.last_value += 1
    return rules.credit_note_number(year, counter.last_value)


def credit_notes_of(session: Session, invoice_id: str) -> list[CreditNote]:
    return list(
        session.scalars(
            select(CreditNote)
            .where(CreditNote.invoice_id == invoice_id)
            .order_by(CreditNote.number)
        )
    )


def _credited(notes: list[CreditNote]) -> dict[tuple[str, int], int]:
    done: dict[tuple[str, int], int] = {}
    for note in notes:
        for tax in note.taxes:
            key = (str(tax["label"]), int(tax["ppm"]))
            done[key] = done.get(key, 0) + int(tax["base"])
    return done


def _matches(tax: InvoiceTax, line: CreditLineInput, taxes: list[InvoiceTax]) -> bool:
    """Whether a credited amount is a base of that tax: a VAT of the line's rate (or of the
    invoice's only rate), or the taxes of a country without VAT (Québec: GST and QST)."""
    if tax.label != "VAT" or line.vat_rate is None:
        return True
    return tax.rate_ppm == rules.rate_to_ppm(line.vat_rate)


def issue_credit_note(
    session: Session,
    platform: Platform,
    invoice_id: str,
    *,
    reason: str,
    actor: str,
    lines: list[CreditLineInput] | None = None,
) -> CreditNote:
    """Credits `lines` of the invoice, or everything not yet credited when `lines` is None."""
    invoice = session.get(Invoice, invoice_id, with_for_update=True)  # credits serialise here
    if invoice is None:
        from voipdesk.invoices.errors import InvoiceNotFound

        raise InvoiceNotFound()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(fields={"reason": "Say why the invoice is credited."})
    taxes = list(
        session.scalars(
            select(InvoiceTax).where(InvoiceTax.invoice_id == invoice.id).order_by(InvoiceTax.id)
        )
    )
    notes = credit_notes_of(session, invoice.id)
    credited = _credited(notes)
    if lines is None:  # the rest of the invoice, one line per VAT rate (or one for its taxes)
        left_by_base: dict[int, int] = {}
        for tax in taxes:
            rest = tax.base_cents - credited.get((tax.label, tax.rate_ppm), 0)
            ppm = tax.rate_ppm if tax.label == "VAT" else -1
            left_by_base[ppm] = max(left_by_base.get(ppm, 0), rest)
        lines = [
            CreditLineInput(
                f"Credit of invoice {invoice.number}",
                cents_to_amount(rest),
                Decimal(ppm) / rules.PPM if ppm >= 0 else None,
            )
            for ppm, rest in left_by_base.items()
            if rest > 0
        ]
        if not lines:
            raise CreditExceedsInvoice(number=invoice.number, left="0.00")
    amounts = [amount_to_cents(line.amount_excl_tax) for line in lines]
    if any(amount <= 0 for amount in amounts):
        raise InvalidInput(fields={"lines": "Each credited amount must be more than zero."})
    vat_rates = {tax.rate_ppm for tax in taxes if tax.label == "VAT"}
    for line in lines:
        if taxes and not any(_matches(tax, line, taxes) for tax in taxes):
            raise InvalidInput(fields={"lines": "A credited rate is not one of the invoice's."})
        if line.vat_rate is None and len(vat_rates) > 1:
            raise InvalidInput(fields={"lines": "Name the VAT rate of each credited amount."})
    tax_rows: list[dict[str, Any]] = []
    for tax in taxes:
        now_base = sum(
            amount
            for amount, line in zip(amounts, lines, strict=True)
            if _matches(tax, line, taxes)
        )
        if now_base == 0:
            continue
        before = credited.get((tax.label, tax.rate_ppm), 0)
        if not rules.creditable(tax.base_cents, before, now_base):
            left = cents_to_amount(tax.base_cents - before)
            raise CreditExceedsInvoice(number=invoice.number, left=f"{left:.2f}")
        tax_rows.append(
            {
                "label": tax.label,
                "ppm": tax.rate_ppm,
                "base": now_base,
                "tax": rules.credit_tax_cents(before, now_base, tax.rate_ppm),
            }
        )
    total_excl = sum(amounts)
    if not taxes and total_excl > invoice.total_excl_tax_cents - sum(
        n.total_excl_tax_cents for n in notes
    ):
        raise CreditExceedsInvoice(number=invoice.number, left="0.00")
    total_tax = sum(int(row["tax"]) for row in tax_rows)
    today = platform.today()
    note = CreditNote(
        id=new_id(),
        number=_next_number(session, today.year),
        invoice_id=invoice.id,
        account_id=invoice.account_id,
        issued_on=today,
        reason=reason[:300],
        currency=invoice.currency,
        lines=[
            {
                "description": line.description[:300],
                "cents": amount,
                "vat_ppm": rules.rate_to_ppm(line.vat_rate) if line.vat_rate is not None else None,
            }
            for amount, line in zip(amounts, lines, strict=True)
        ],
        taxes=tax_rows,
        total_excl_tax_cents=total_excl,
        total_tax_cents=total_tax,
        total_incl_tax_cents=total_excl + total_tax,
        created_at=platform.now(),
        created_by=actor,
    )
    session.add(note)
    session.flush()
    credited_incl = sum(n.total_incl_tax_cents for n in notes) + note.total_incl_tax_cents
    if invoice.status == INVOICE_UNPAID and credited_incl >= invoice.total_incl_tax_cents:
        invoice.status = INVOICE_CREDITED  # nothing is due any more
    return note


def credit_note_document(session: Session, note: CreditNote) -> InvoiceDocument:
    invoice = session.get(Invoice, note.invoice_id)
    assert invoice is not None
    base = invoice_document(session, invoice)
    return InvoiceDocument(
        kind="credit_note",
        number=note.number,
        issued_on=note.issued_on,
        due_on=note.issued_on,
        currency=note.currency,
        seller=base.seller,
        buyer=base.buyer,
        buyer_vat_number=base.buyer_vat_number,
        order_reference=base.order_reference,
        period=base.period,
        lines=[
            DocumentLine(
                description=str(line["description"]),
                quantity=Decimal(1),
                unit_price=cents_to_amount(int(line["cents"])),
                amount=cents_to_amount(int(line["cents"])),
                vat_rate=Decimal(line["vat_ppm"]) / rules.PPM
                if line.get("vat_ppm") is not None
                else None,
                period_start=None,
                period_end=None,
            )
            for line in note.lines
        ],
        taxes=[
            DocumentTax(
                str(tax["label"]),
                Decimal(int(tax["ppm"])) / rules.PPM,
                cents_to_amount(int(tax["base"])),
                cents_to_amount(int(tax["tax"])),
            )
            for tax in note.taxes
        ],
        total_excl_tax=cents_to_amount(note.total_excl_tax_cents),
        total_tax=cents_to_amount(note.total_tax_cents),
        total_incl_tax=cents_to_amount(note.total_incl_tax_cents),
        paid=False,
        paid_at=None,
        payment_method=None,
        related_invoice=invoice.number,
        notes=[note.reason],
    )


def render_credit_note_pdf(session: Session, note: CreditNote, language: str) -> bytes:
    from voipdesk.invoices import facturx
    from voipdesk.invoices.pdf import render_document_pdf

    doc = credit_note_document(session, note)
    pdf = render_document_pdf(doc, language)
    if facturx.applies_to(doc):
        pdf = facturx.embed(pdf, doc)
    return pdf
