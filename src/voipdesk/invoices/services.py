"""The invoices area's public interface for the areas above it (orders issue the invoice of a paid
order; billing's renewal takes numbers and the operator's snapshot, and marks invoices paid)."""

from __future__ import annotations

from voipdesk.invoices.document import register_payment_source
from voipdesk.invoices.issuing import (
    InvoiceLineInput,
    customer_snapshot,
    issue_invoice,
    lock_counter,
    next_invoice_number,
    operator_snapshot,
)
from voipdesk.invoices.queries import get_invoice, list_invoices, unpaid_invoices

__all__ = [
    "InvoiceLineInput",
    "customer_snapshot",
    "get_invoice",
    "issue_invoice",
    "list_invoices",
    "lock_counter",
    "next_invoice_number",
    "operator_snapshot",
    "register_payment_source",
    "unpaid_invoices",
]
