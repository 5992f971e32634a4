"""Customer-space pages for invoices (listed newest first, PDF rendered on download)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voipdesk.accounts.models import Account
from voipdesk.billing import invoice_payments
from voipdesk.billing import rules as billing_rules
from voipdesk.catalogue.queries import allowed_payment_methods
from voipdesk.catalogue.rules import PAYMENT_METHOD_LABELS
from voipdesk.core.errors import DomainError, InvalidInput, NotFound
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.invoices import queries as actions
from voipdesk.invoices.pdf import invoice_filename, render_invoice_pdf
from voipdesk.payments.services import CardInput, list_payment_methods
from voipdesk.web.auth import require_account
from voipdesk.web.rendering import render

router = APIRouter()


@router.get("/invoices", response_class=HTMLResponse)
def invoices_page(
    request: Request,
    cursor: str | None = None,
    status: str = "",
    sort: str = "",
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    paid = {"paid": True, "unpaid": False}.get(status)
    with platform.session() as session:
        invoices, next_cursor = actions.list_invoices(
            session, account.id, 20, cursor, paid, sort or None
        )
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
    if not sort:
        rows.sort(key=lambda row: row["status"] != "unpaid")  # what is to pay comes first
    return render(
        request,
        "billing/invoices.html",
        {"invoices": rows, "next_cursor": next_cursor, "sort": sort},
    )


@router.get("/invoices/{invoice_id}/pdf")
def invoice_pdf_page(
    invoice_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
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


_STATE_LABELS = {
    "pending": "Awaiting the bank's answer",
    "requires_confirmation": "Waiting for your confirmation",
    "awaiting_transfer": "Waiting for your transfer",
    "succeeded": "Paid",
    "failed": "Failed",
    "returned": "Returned by the bank",
    "cancelled": "Cancelled",
}


def _invoice_context(
    platform: Platform, account: Account, invoice_id: str, error: str | None = None
) -> dict[str, Any]:
    with platform.session() as session:
        invoice = actions.get_invoice(session, account.id, invoice_id)
        allowed = allowed_payment_methods(session, account.country, account.kind)
        methods = [
            {"id": m.id, "label": m.label, "type": m.method_type, "is_default": m.is_default}
            for m in list_payment_methods(session, account.id)
            if m.method_type in ("card", "sepa_debit") and m.method_type in allowed
        ]
        attempts = invoice_payments.payments_of_invoice(session, invoice.id)
        awaiting = next((a for a in attempts if a.state == "awaiting_transfer"), None)
        return {
            "invoice": {
                "id": invoice.id,
                "number": invoice.number,
                "issued_on": invoice.issued_on,
                "due_on": billing_rules.due_on(invoice.issued_on),
                "status": invoice.status,
                "excl_tax": Money(invoice.total_excl_tax, invoice.currency),
                "tax": Money(invoice.total_tax, invoice.currency),
                "incl_tax": Money(invoice.total_incl_tax, invoice.currency),
            },
            "methods": methods,
            "card_allowed": "card" in allowed,
            "transfer_allowed": "bank_transfer" in allowed,
            "in_flight": invoice_payments.payment_in_flight(session, invoice.id),
            "attempts": [
                {
                    "created_at": a.created_at,
                    "method": PAYMENT_METHOD_LABELS.get(a.method_type, a.method_type),
                    "state": _STATE_LABELS.get(a.state, a.state),
                    "confirmation_url": a.confirmation_url
                    if a.state == "requires_confirmation"
                    else None,
                }
                for a in attempts
            ],
            "transfer": {
                "beneficiary": platform.settings.operator_name,
                "iban": platform.settings.operator_iban,
                "bic": platform.settings.operator_bic,
                "reference": awaiting.transfer_reference,
            }
            if awaiting is not None
            else None,
            "error": error,
        }


@router.get("/invoices/{invoice_id}", response_class=HTMLResponse)
def invoice_page(
    invoice_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    context = _invoice_context(platform, account, invoice_id)
    return render(request, "billing/invoice.html", context)


@router.post("/invoices/{invoice_id}/pay")
def invoice_pay(
    invoice_id: str,
    request: Request,
    choice: str = Form(...),  # a saved method id, "new-card" or "bank-transfer"
    card_number: str = Form(""),
    card_exp: str = Form(""),
    card_cvc: str = Form(""),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    try:
        if choice == "new-card":
            try:
                month_text, year_text = card_exp.replace(" ", "").split("/", 1)
                month, year = int(month_text), int(year_text)
            except ValueError:
                raise InvalidInput(fields={"card_exp": "Give the expiry as MM/YY."}) from None
            card = CardInput(
                number=card_number,
                exp_month=month,
                exp_year=year + 2000 if year < 100 else year,
                cvc=card_cvc.strip(),
            )
            payment_request = invoice_payments.InvoicePaymentRequest(method="card", card=card)
        elif choice == "bank-transfer":
            payment_request = invoice_payments.InvoicePaymentRequest(method="bank_transfer")
        else:
            with platform.session() as session:
                chosen = next(
                    (m for m in list_payment_methods(session, account.id) if m.id == choice), None
                )
            if chosen is None:
                raise InvalidInput(fields={"choice": "Choose a payment method."})
            payment_request = invoice_payments.InvoicePaymentRequest(
                method=chosen.method_type, payment_method_id=chosen.id
            )
        with platform.transaction() as session:
            owner = session.get(Account, account.id)
            assert owner is not None
            payment = invoice_payments.pay_invoice(
                session, platform, owner, invoice_id, payment_request
            )
            confirmation = (
                payment.confirmation_url if payment.state == "requires_confirmation" else None
            )
            state = payment.state
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        context = _invoice_context(platform, account, invoice_id, error=error.detail(language))
        return render(request, "billing/invoice.html", context, status=error.status)
    if confirmation:
        return RedirectResponse(
            confirmation.replace(platform.settings.base_url.rstrip("/"), ""), status_code=303
        )
    return RedirectResponse(f"/invoices/{invoice_id}?result={state}", status_code=303)
