"""The billing API: paying an unpaid invoice (card, one-off direct debit, bank transfer) and
its attempts; staff record a bank transfer or a returned direct debit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from voipdesk.accounts.api_auth import current_account, current_staff
from voipdesk.accounts.models import Account
from voipdesk.billing import invoice_payments
from voipdesk.billing.models import InvoicePayment
from voipdesk.core.http import get_platform
from voipdesk.core.money import Money
from voipdesk.core.pagination import Page, PageParams, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.invoices.models import Invoice, cents_to_amount
from voipdesk.orders.services import run_idempotent
from voipdesk.payments.schemas import CardIn, card_input

router = APIRouter(tags=["invoices"])


class InvoicePaymentIn(BaseModel):
    method: Literal["card", "sepa_debit", "bank_transfer"] = Field(
        description="card (a saved card, or `card` for a new one), sepa_debit (a one-off "
        "debit on a saved mandate) or bank_transfer (answers the reference to quote)."
    )
    payment_method_id: str | None = Field(
        None, description="A saved card or mandate; default: the default one of that kind."
    )
    card: CardIn | None = Field(None, description="A new card (not saved).")


class TransferInstructions(BaseModel):
    beneficiary: str
    iban: str
    bic: str
    reference: str = Field(description="To quote on the transfer, so that it is matched.")
    amount: dict[str, str]


class InvoicePaymentOut(BaseModel):
    id: str
    invoice_id: str
    invoice_number: str
    method: str
    state: str = Field(
        description="pending, requires_confirmation, awaiting_transfer, succeeded, failed, "
        "returned or cancelled"
    )
    amount: dict[str, str]
    invoice_status: str = Field(description="paid or unpaid, after this attempt")
    confirmation_url: str | None = None
    transfer: TransferInstructions | None = None
    failure_code: str | None = None
    created_at: datetime
    settled_at: datetime | None = None


def payment_json(platform: Platform, payment: InvoicePayment, invoice: Invoice) -> dict[str, Any]:
    amount = Money(cents_to_amount(payment.amount_cents), invoice.currency).as_json()
    settings = platform.settings
    transfer = (
        {
            "beneficiary": settings.operator_name,
            "iban": settings.operator_iban,
            "bic": settings.operator_bic,
            "reference": payment.transfer_reference,
            "amount": amount,
        }
        if payment.transfer_reference
        else None
    )
    return InvoicePaymentOut(
        id=payment.id,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        method=payment.method_type,
        state=payment.state,
        amount=amount,
        invoice_status=invoice.status,
        confirmation_url=payment.confirmation_url
        if payment.state == "requires_confirmation"
        else None,
        transfer=TransferInstructions(**transfer) if transfer else None,
        failure_code=payment.failure_code,
        created_at=payment.created_at,
        settled_at=payment.settled_at,
    ).model_dump(mode="json")


@router.post(
    "/me/invoices/{invoice_id}/payments",
    status_code=201,
    response_model=InvoicePaymentOut,
    summary="Pay an unpaid invoice by card, one-off direct debit or bank transfer",
)
def pay_invoice(
    invoice_id: str,
    body: InvoicePaymentIn,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> JSONResponse:
    def act(session: Any) -> tuple[int, dict[str, Any]]:
        owner = session.get(Account, account.id)
        payment = invoice_payments.pay_invoice(
            session,
            platform,
            owner,
            invoice_id,
            invoice_payments.InvoicePaymentRequest(
                method=body.method,
                payment_method_id=body.payment_method_id,
                card=card_input(body.card),
            ),
        )
        invoice = session.get(Invoice, invoice_id)
        return 201, payment_json(platform, payment, invoice)

    status, answer = run_idempotent(
        platform,
        account.id,
        f"invoices.pay:{invoice_id}",
        idempotency_key,
        body.model_dump(),
        act,
    )
    return JSONResponse(answer, status_code=status)


class InvoicePaymentPage(Page[InvoicePaymentOut]):
    pass


@router.get(
    "/me/invoices/{invoice_id}/payments",
    response_model=InvoicePaymentPage,
    summary="Payment attempts of an invoice, oldest first",
)
def list_invoice_payments(
    invoice_id: str,
    page: PageParams = Depends(page_params),
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    from voipdesk.invoices.services import get_invoice

    with platform.session() as session:
        invoice = get_invoice(session, account.id, invoice_id)
        payments, next_cursor = paginate(
            invoice_payments.payments_of_invoice(session, invoice.id),
            key=lambda payment: (payment.created_at, payment.id),
            page=page,
        )
        return {
            "items": [payment_json(platform, p, invoice) for p in payments],
            "next_cursor": next_cursor,
        }


@router.post(
    "/backoffice/invoices/{invoice_id}/bank-transfer",
    response_model=InvoicePaymentOut,
    tags=["backoffice"],
    summary="Record a bank transfer received for an invoice (staff)",
)
def record_transfer(
    invoice_id: str,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.transaction() as session:
        payment = invoice_payments.record_invoice_transfer(session, platform, invoice_id, staff.id)
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        return payment_json(platform, payment, invoice)


class DebitReturnIn(BaseModel):
    reason_code: str = Field(
        min_length=4, max_length=4, description="The ISO 20022 return reason (AM04, MD01, …)."
    )


class InvoiceStatusOut(BaseModel):
    invoice_id: str
    number: str
    status: str


@router.post(
    "/backoffice/invoices/{invoice_id}/direct-debit-return",
    response_model=InvoiceStatusOut,
    tags=["backoffice"],
    summary="Record a returned direct debit (R-transaction): the invoice is unpaid again",
)
def record_debit_return(
    invoice_id: str,
    body: DebitReturnIn,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.transaction() as session:
        invoice = invoice_payments.record_direct_debit_return(
            session, platform, invoice_id, body.reason_code.upper()
        )
        return {"invoice_id": invoice.id, "number": invoice.number, "status": invoice.status}
