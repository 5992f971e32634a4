"""Customer-space pages for invoices (listed newest first, PDF rendered on download)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.invoices import queries as actions
from voipdesk.invoices.pdf import render_invoice_pdf
from voipdesk.web.auth import require_account
from voipdesk.web.rendering import render

router = APIRouter()


@router.get("/invoices", response_class=HTMLResponse)
def invoices_page(
    request: Request,
    cursor: str | None = None,
    status: str = "",
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    paid = {"paid": True, "unpaid": False}.get(status)
    with platform.session() as session:
        invoices, next_cursor = actions.list_invoices(session, account.id, 20, cursor, paid)
        rows = [
            {
                "id": invoice.id,
                "number": invoice.number,
                "issued_on": invoice.issued_on,
                "status": invoice.status,
                "excl_tax": Money(invoice.total_excl_tax, invoice.currency),
                "incl_tax": Money(invoice.total_incl_tax, invoice.currency),
            }
            for invoice in invoices
        ]
    return render(request, "billing/invoices.html", {"invoices": rows, "next_cursor": next_cursor})


@router.get("/invoices/{invoice_id}/pdf")
def invoice_pdf_page(
    invoice_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.session() as session:
        invoice = actions.get_invoice(session, account.id, invoice_id)
        pdf = render_invoice_pdf(session, invoice, request_language(request))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"'},
    )
