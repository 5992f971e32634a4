"""Invoice refusals, each with a stable code."""

from __future__ import annotations

from voipdesk.core.errors import NotFound


class InvoiceNotFound(NotFound):
    code = "invoice-not-found"
    message = "No such invoice."
