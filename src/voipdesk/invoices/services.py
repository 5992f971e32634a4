"""The invoices area's public interface for the areas above it (orders issue the invoice of a paid
order; billing's renewal takes numbers and the operator's snapshot, and marks invoices paid)."""

from __future__ import annotations

from voipdesk.invoices.issuing import (
    InvoiceLineInput,
    announce_paid,
    customer_snapshot,
    issue_invoice,
    lock_counter,
    next_invoice_number,
    operator_snapshot,
)
from voipdesk.invoices.queries import get_invoice, list_invoices, unpaid_invoices

__all__ = [
    "InvoiceLineInput",
    "announce_paid",
    "customer_snapshot",
    "get_invoice",
    "issue_invoice",
    "list_invoices",
    "lock_counter",
    "next_invoice_number",
    "operator_snapshot",
    "unpaid_invoices",
]
