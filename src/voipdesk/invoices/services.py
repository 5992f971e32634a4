"""The invoices area's public interface for the areas above it (orders issue the invoice of a paid
order; billing's renewal takes numbers and the operator's snapshot, and marks invoices paid)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from voipdesk.invoices.document import register_payment_source
from voipdesk.invoices.issuing import (
    ISSUED,
    PAID,
    InvoiceLineInput,
    announce_paid,
    customer_snapshot,
    issue_invoice,
    lock_counter,
    next_invoice_number,
    operator_snapshot,
)
from voipdesk.invoices.queries import get_invoice, list_invoices, unpaid_invoices


def invoice_pdf(session: Session, invoice_id: str, language: str) -> bytes | None:
    """The PDF of an issued invoice in `language` (None if there is no such invoice)."""
    from voipdesk.invoices.models import Invoice
    from voipdesk.invoices.pdf import render_invoice_pdf

    invoice = session.get(Invoice, invoice_id)
    return None if invoice is None else render_invoice_pdf(session, invoice, language)


__all__ = [
    "ISSUED",
    "PAID",
    "InvoiceLineInput",
    "announce_paid",
    "customer_snapshot",
    "get_invoice",
    "invoice_pdf",
    "issue_invoice",
    "list_invoices",
    "lock_counter",
    "next_invoice_number",
    "operator_snapshot",
    "register_payment_source",
    "unpaid_invoices",
]
