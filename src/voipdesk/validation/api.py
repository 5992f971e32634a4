"""Validation API: the customer's VoIP procedure, and the staff's review of procedures."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from voipdesk.accounts.models import Account
from voipdesk.core.errors import NotAuthenticated
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.pagination import Page, cursor_query
from voipdesk.core.platform import Platform
from voipdesk.validation import actions, rules
from voipdesk.validation.models import VoipProcedure

try:
    from voipdesk.accounts.api_auth import current_account, current_staff
except ImportError:  # pragma: no cover - until the accounts area ships its API authentication

    def current_account() -> Account:  # type: ignore[misc]
        raise NotAuthenticated()

    def current_staff() -> Account:  # type: ignore[misc]
        raise NotAuthenticated()


router = APIRouter(tags=["validation"])


# --- Schemas -------------------------------------------------------------------------------------
class ProcedureIn(BaseModel):
    """Either the bank account holder's details, or one of your SEPA payment methods."""

    holder_name: str | None = Field(None, max_length=300, description="the bank account holder")
    holder_address: str | None = Field(None, max_length=600)
    iban: str | None = Field(None, max_length=60, examples=["FR76 3000 6000 0112 3456 7890 189"])
    bic: str | None = Field(None, max_length=20, description="checked against the IBAN's bank")
    payment_method_id: str | None = Field(
        None, max_length=32, description="an existing SEPA direct-debit payment method instead"
    )


class DocumentIn(BaseModel):
    code: str = Field(max_length=40, description="a document code of this procedure")
    status: Literal["received", "valid", "invalid"]
    note: str = Field("", max_length=500, description="required when invalid: what is wrong")


class RejectIn(BaseModel):
    reason: str = Field(max_length=1000, description="what is missing or wrong (e-mailed)")


class DocumentOut(BaseModel):
    code: str
    text: str
    status: str | None = Field(None, description="received, valid, invalid, or null if not yet")
    note: str = ""
    recorded_at: str | None = None


class DestinationOut(BaseModel):
    channel: str = Field(description="post or email")
    address: str
    originals_required: bool


class EventOut(BaseModel):
    at: str
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    note: str
    details: dict[str, Any]


class ProcedureOut(BaseModel):
    id: str
    status: str
    status_label: str
    reason: str
    reason_label: str
    mandate_reference: str
    holder_name: str | None
    holder_address: str | None
    iban: str | None
    bic: str | None
    customer_kind: str
    country: str
    created_at: str
    sent_at: str | None
    decided_at: str | None
    rejection_reason: str | None
    documents: list[DocumentOut]
    send_to: DestinationOut
    pdf_url: str
    action_needed: str | None


class ExpectedOut(BaseModel):
    documents: list[DocumentOut]
    send_to: DestinationOut


class ProcedureStatusOut(BaseModel):
    available: bool = Field(description="the procedure exists for the account's country")
    expected: ExpectedOut | None = Field(
        None, description="the documents asked of your type of account, and where they go"
    )
    validated: bool
    validated_at: str | None
    required: bool = Field(description="an order or a billing-contact change waits for it")
    orders_waiting: list[str]
    procedure: ProcedureOut | None


class AccountSummaryOut(BaseModel):
    id: str
    handle: str
    name: str
    kind: str
    country: str
    email: str


class StaffProcedureOut(ProcedureOut):
    account: AccountSummaryOut
    age_business_days: int
    context: dict[str, Any]
    history: list[EventOut]


class StaffProcedurePage(Page[StaffProcedureOut]):
    pass


# --- Serialisation -------------------------------------------------------------------------------
def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def procedure_out(platform: Platform, procedure: VoipProcedure, language: str) -> dict[str, Any]:
    recorded = actions.recorded_documents(procedure)
    operator = platform.settings.operator_name
    destination = actions.destination_for(platform, procedure.country)
    documents = []
    for document in rules.required_documents(procedure.customer_kind, procedure.country):
        row = recorded.get(document.code)
        documents.append(
            {
                "code": document.code,
                "text": gettext(language, document.text, operator=operator),
                "status": row.status if row else None,
                "note": row.note if row else "",
                "recorded_at": _iso(row.recorded_at) if row else None,
            }
        )
    action_needed = None
    if procedure.status in (rules.TODO, rules.WAITING_FOR_CUSTOMER):
        action_needed = gettext(language, "Send your VoIP procedure and the documents it lists.")
    return {
        "id": procedure.id,
        "status": procedure.status,
        "status_label": gettext(language, rules.STATE_LABELS[procedure.status]),
        "reason": procedure.reason,
        "reason_label": gettext(language, rules.REASON_LABELS[procedure.reason]),
        "mandate_reference": procedure.mandate_reference,
        "holder_name": procedure.holder_name,
        "holder_address": procedure.holder_address,
        "iban": procedure.iban,
        "bic": procedure.bic,
        "customer_kind": procedure.customer_kind,
        "country": procedure.country,
        "created_at": _iso(procedure.created_at),
        "sent_at": _iso(procedure.sent_at),
        "decided_at": _iso(procedure.decided_at),
        "rejection_reason": procedure.rejection_reason,
        "documents": documents,
        "send_to": {
            "channel": destination.channel,
            "address": destination.address,
            "originals_required": destination.originals_required,
        },
        "pdf_url": f"/api/v1/telephony/procedure/{procedure.id}/pdf",
        "action_needed": action_needed,
    }


def expected_out(platform: Platform, account: Account, language: str) -> dict[str, Any] | None:
    """What the procedure asks of this account, before there is one."""
    if not rules.procedure_applies(account.country):
        return None
    operator = platform.settings.operator_name
    destination = actions.destination_for(platform, account.country)
    return {
        "documents": [
            {"code": document.code, "text": gettext(language, document.text, operator=operator)}
            for document in rules.required_documents(account.kind, account.country)
        ],
        "send_to": {
            "channel": destination.channel,
            "address": destination.address,
            "originals_required": destination.originals_required,
        },
    }


def staff_procedure_out(
    platform: Platform, procedure: VoipProcedure, account: Account, language: str
) -> dict[str, Any]:
    body = procedure_out(platform, procedure, language)
    body.update(
        account={
            "id": account.id,
            "handle": account.handle,
            "name": account.display_name,
            "kind": account.kind,
            "country": account.country,
            "email": account.email,
        },
        age_business_days=actions.age_in_business_days(platform, procedure),
        context=procedure.context or {},
        history=[
            {
                "at": _iso(event.at),
                "actor": event.actor,
                "action": event.action,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "note": event.note,
                "details": event.details or {},
            }
            for event in procedure.events
        ],
    )
    return body


def _staff_view(platform: Platform, procedure_id: str, language: str) -> dict[str, Any]:
    with platform.session() as session:
        procedure = actions.get_procedure(session, None, procedure_id)
        account = session.get(Account, procedure.account_id)
        assert account is not None
        return staff_procedure_out(platform, procedure, account, language)


# --- Customer routes -----------------------------------------------------------------------------
@router.get("/telephony/procedure", response_model=ProcedureStatusOut)
def get_current_procedure(
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    """Your current VoIP validation procedure, and whether one is required."""
    language = request_language(request)
    with platform.session() as session:
        validation = actions.validation_of(session, account.id)
        procedure = actions.current_procedure(session, account.id)
        waiting = actions.orders_waiting(session, account.id) if validation is None else []
        return {
            "available": rules.procedure_applies(account.country),
            "expected": expected_out(platform, account, language),
            "validated": validation is not None,
            "validated_at": _iso(validation.validated_at) if validation else None,
            "required": actions.is_required(session, account.id),
            "orders_waiting": waiting,
            "procedure": procedure_out(platform, procedure, language) if procedure else None,
        }


@router.post(
    "/telephony/procedure",
    response_model=ProcedureOut,
    status_code=201,
    responses={200: {"description": "a procedure was already open: it is returned"}},
)
def create_procedure(
    body: ProcedureIn,
    request: Request,
    response: Response,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    """Generates the procedure (PDF e-mailed to you) from the bank account holder's details.
    While one is open, that one is returned (200) instead of making a second."""
    language = request_language(request)
    form = actions.ProcedureForm(**body.model_dump())
    with platform.transaction() as session:
        owner = session.get(Account, account.id)
        assert owner is not None
        procedure, created = actions.request_procedure(session, platform, owner, form)
        procedure_id = procedure.id
    if not created:
        response.status_code = 200
    with platform.session() as session:
        return procedure_out(
            platform, actions.get_procedure(session, account.id, procedure_id), language
        )


@router.get("/telephony/procedure/{procedure_id}", response_model=ProcedureOut)
def get_procedure(
    procedure_id: str,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.session() as session:
        procedure = actions.get_procedure(session, account.id, procedure_id)
        return procedure_out(platform, procedure, request_language(request))


@router.get(
    "/telephony/procedure/{procedure_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def download_procedure_pdf(
    procedure_id: str,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    """The procedure's PDF again: the SEPA mandate and the documents to send."""
    with platform.session() as session:
        procedure = actions.get_procedure(session, account.id, procedure_id)
        data = actions.procedure_pdf(session, platform, procedure)
        filename = actions.pdf_filename(procedure)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/telephony/procedure/{procedure_id}/cancel", response_model=ProcedureOut)
def cancel_procedure(
    procedure_id: str,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.transaction() as session:
        owner = session.get(Account, account.id)
        assert owner is not None
        actions.cancel_procedure(session, platform, owner, procedure_id)
    with platform.session() as session:
        procedure = actions.get_procedure(session, account.id, procedure_id)
        return procedure_out(platform, procedure, request_language(request))


# --- Staff routes --------------------------------------------------------------------------------
@router.get("/backoffice/procedures", response_model=StaffProcedurePage)
def list_procedures(
    request: Request,
    status: list[str] | None = Query(
        None, description="todo, waiting_for_customer, doing, done, cancelled (default: open ones)"
    ),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = cursor_query(),
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    """Procedures by state, oldest first, with their age in business days."""
    language = request_language(request)
    statuses = [part for value in status or [] for part in value.split(",") if part]
    with platform.session() as session:
        rows, next_cursor = actions.list_procedures(session, statuses or None, limit, cursor)
        items = []
        for procedure in rows:
            account = session.get(Account, procedure.account_id)
            assert account is not None
            items.append(staff_procedure_out(platform, procedure, account, language))
        return {"items": items, "next_cursor": next_cursor}


@router.get("/backoffice/procedures/{procedure_id}", response_model=StaffProcedureOut)
def staff_get_procedure(
    procedure_id: str,
    request: Request,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    return _staff_view(platform, procedure_id, request_language(request))


@router.post("/backoffice/procedures/{procedure_id}/documents", response_model=StaffProcedureOut)
def record_document(
    procedure_id: str,
    body: DocumentIn,
    request: Request,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    """Records one document as received, valid or invalid (with a note)."""
    with platform.transaction() as session:
        actions.record_document(
            session, platform, staff, procedure_id, body.code, body.status, body.note
        )
    return _staff_view(platform, procedure_id, request_language(request))


@router.post("/backoffice/procedures/{procedure_id}/approve", response_model=StaffProcedureOut)
def approve_procedure(
    procedure_id: str,
    request: Request,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    """Validates the billing account and releases its waiting orders and contact changes."""
    with platform.transaction() as session:
        actions.approve(session, platform, staff, procedure_id)
    return _staff_view(platform, procedure_id, request_language(request))


@router.post("/backoffice/procedures/{procedure_id}/reject", response_model=StaffProcedureOut)
def reject_procedure(
    procedure_id: str,
    body: RejectIn,
    request: Request,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    """Sends the procedure back to the customer; an e-mail says what is missing and why."""
    with platform.transaction() as session:
        actions.reject(session, platform, staff, procedure_id, body.reason)
    return _staff_view(platform, procedure_id, request_language(request))
