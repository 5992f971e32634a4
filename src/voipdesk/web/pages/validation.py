"""Pages of the VoIP validation procedure: the customer's procedure and the staff's review."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from voipdesk.accounts.models import Account
from voipdesk.core.errors import DomainError
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.platform import Platform
from voipdesk.validation import actions, rules
from voipdesk.validation.api import expected_out, procedure_out, staff_procedure_out
from voipdesk.web.auth import require_account, require_staff
from voipdesk.web.rendering import form_errors, redirect, render

router = APIRouter()


def _sepa_methods(platform: Platform, account_id: str) -> list[Any]:
    try:
        from voipdesk.payments.models import PaymentMethod
    except ImportError:
        return []
    from sqlalchemy import select

    with platform.session() as session:
        return list(
            session.scalars(
                select(PaymentMethod).where(
                    PaymentMethod.account_id == account_id,
                    PaymentMethod.method_type == "sepa_debit",
                    PaymentMethod.removed_at.is_(None),
                )
            )
        )


def _decorate(session: Any, item: dict[str, Any], language: str) -> dict[str, Any]:
    """Adds what the back-office pages show: labels, instants as datetimes, who acted."""
    from datetime import datetime

    item["created_at_value"] = datetime.fromisoformat(item["created_at"])
    item["kind_label"] = gettext(language, rules.KIND_LABELS[item["customer_kind"]])
    names: dict[str, str] = {}
    documents = {doc.get("code"): doc.get("text") for doc in item.get("documents", [])}
    for event in item.get("history", []):
        event["at_value"] = datetime.fromisoformat(event["at"])
        event["action_label"] = gettext(
            language, rules.ACTION_LABELS.get(event["action"], event["action"])
        )
        if event["action"] == "document_recorded":
            status = event["details"].get("status", "")
            status_label = gettext(language, rules.DOCUMENT_STATUS_LABELS.get(status, status))
            code = event["details"].get("code", "")
            document = documents.get(code) or gettext(
                language, rules.DOCUMENT_LABELS.get(code, "Document")
            )
            event["action_label"] += f" — {document} — {status_label}"
        role, _, account_id = event["actor"].partition(":")
        if role == "staff":
            if account_id not in names:
                staff = session.get(Account, account_id)
                names[account_id] = staff.display_name if staff else account_id
            event["actor_label"] = names[account_id]
        elif role == "account":
            event["actor_label"] = gettext(language, "Customer")
        else:
            event["actor_label"] = gettext(language, "System")
    return item


def _customer_page(
    request: Request,
    platform: Platform,
    account: Account,
    *,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    language = request_language(request)
    with platform.session() as session:
        validation = actions.validation_of(session, account.id)
        procedure = actions.current_procedure(session, account.id)
        context: dict[str, Any] = {
            "validation": validation,
            "procedure": procedure_out(platform, procedure, language) if procedure else None,
            "open": procedure is not None and procedure.status in rules.OPEN_STATES,
            # Opened at an order paid by card: the mandate still needs its bank account, which
            # the customer gives here (staff cannot approve a mandate without it).
            "needs_bank_details": procedure is not None
            and procedure.status in rules.OPEN_STATES
            and not rules.mandate_complete(procedure.holder_name, procedure.iban),
            "required": actions.is_required(session, account.id),
            "orders_waiting": actions.orders_waiting(session, account.id),
            "expected": expected_out(platform, account, language),
        }
    context.update(
        sepa_methods=_sepa_methods(platform, account.id),
        form=form or {},
        error=error.detail(language) if error else None,
        errors=form_errors(error, language) if error else {},
    )
    return render(request, "validation/procedure.html", context, status=status_code)


@router.get("/voip-procedure", response_class=HTMLResponse)
def procedure_page(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _customer_page(request, platform, account)


@router.post("/voip-procedure")
async def procedure_submit(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    data = {key: str(value) for key, value in (await request.form()).items()}
    form = actions.ProcedureForm(
        holder_name=data.get("holder_name"),
        holder_address=data.get("holder_address"),
        iban=data.get("iban"),
        bic=data.get("bic"),
        payment_method_id=data.get("payment_method_id") or None,
    )
    try:
        with platform.transaction() as session:
            owner = session.get(Account, account.id)
            assert owner is not None
            actions.request_procedure(session, platform, owner, form)
    except DomainError as error:
        return _customer_page(
            request, platform, account, error=error, form=data, status_code=error.status
        )
    return redirect(
        request,
        "/voip-procedure",
        gettext(request_language(request), "Your VoIP procedure is ready."),
    )


@router.get("/voip-procedure/{procedure_id}/pdf")
def procedure_pdf(
    procedure_id: str,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    with platform.session() as session:
        procedure = actions.get_procedure(session, account.id, procedure_id)
        data = actions.procedure_pdf(session, platform, procedure)
        filename = actions.pdf_filename(procedure)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/voip-procedure/{procedure_id}/cancel")
def procedure_cancel(
    procedure_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    try:
        with platform.transaction() as session:
            owner = session.get(Account, account.id)
            assert owner is not None
            actions.cancel_procedure(session, platform, owner, procedure_id)
    except DomainError as error:
        if error.status == 404:
            raise
        return _customer_page(request, platform, account, error=error, status_code=error.status)
    return redirect(
        request,
        "/voip-procedure",
        gettext(request_language(request), "The procedure was cancelled."),
    )


# --- Back office ---------------------------------------------------------------------------------
@router.get("/backoffice/procedures")
def backoffice_list(
    request: Request,
    status: str = "",
    cursor: str | None = None,
    sort: str = "",
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = request_language(request)
    wanted = [status] if status in rules.STATES else None
    with platform.session() as session:
        rows, next_cursor = actions.list_procedures(session, wanted, 50, cursor, sort)
        items = []
        for procedure in rows:
            owner = session.get(Account, procedure.account_id)
            assert owner is not None
            items.append(
                _decorate(
                    session, staff_procedure_out(platform, procedure, owner, language), language
                )
            )
    return render(
        request,
        "validation/backoffice_list.html",
        {
            "procedures": items,
            "status": status if wanted else "",
            "states": rules.STATES,
            "state_labels": rules.STATE_LABELS,
            "next_cursor": next_cursor,
            "sort": "-date" if sort == "-date" else "date",
        },
    )


def _staff_page(
    request: Request,
    platform: Platform,
    procedure_id: str,
    *,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    language = request_language(request)
    with platform.session() as session:
        procedure = actions.get_procedure(session, None, procedure_id)
        owner = session.get(Account, procedure.account_id)
        assert owner is not None
        item = _decorate(
            session, staff_procedure_out(platform, procedure, owner, language), language
        )
    return render(
        request,
        "validation/backoffice_detail.html",
        {
            "item": item,
            "open": item["status"] in rules.OPEN_STATES,
            "document_statuses": rules.DOCUMENT_STATUSES,
            "document_status_labels": rules.DOCUMENT_STATUS_LABELS,
            "error": error.detail(language) if error else None,
        },
        status=status_code,
    )


@router.get("/backoffice/procedures/{procedure_id}")
def backoffice_detail(
    procedure_id: str,
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _staff_page(request, platform, procedure_id)


def _staff_action(
    request: Request, platform: Platform, procedure_id: str, run: Any, done: str
) -> Response:
    try:
        with platform.transaction() as session:
            run(session)
    except DomainError as error:
        if error.status == 404:
            raise
        return _staff_page(request, platform, procedure_id, error=error, status_code=error.status)
    return redirect(
        request, f"/backoffice/procedures/{procedure_id}", gettext(request_language(request), done)
    )


@router.post("/backoffice/procedures/{procedure_id}/documents")
async def backoffice_document(
    procedure_id: str,
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    data = await request.form()
    if "code" in data:  # one document (a form of one row)
        entries = [(str(data["code"]), str(data.get("status", "")), str(data.get("note", "")))]
    else:  # the page's one form: every document with a status chosen
        entries = [
            (key.removeprefix("status:"), str(value), str(data.get(f"note:{key[7:]}", "")))
            for key, value in data.multi_items()
            if key.startswith("status:") and str(value)
        ]
    return _staff_action(
        request,
        platform,
        procedure_id,
        lambda session: actions.record_documents(session, platform, staff, procedure_id, entries),
        N_("The documents were recorded."),
    )


@router.post("/backoffice/procedures/{procedure_id}/approve")
def backoffice_approve(
    procedure_id: str,
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _staff_action(
        request,
        platform,
        procedure_id,
        lambda session: actions.approve(session, platform, staff, procedure_id),
        N_("The procedure was approved: the account is validated for VoIP."),
    )


@router.post("/backoffice/procedures/{procedure_id}/reject")
async def backoffice_reject(
    procedure_id: str,
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> Response:
    data = await request.form()
    return _staff_action(
        request,
        platform,
        procedure_id,
        lambda session: actions.reject(
            session, platform, staff, procedure_id, str(data.get("reason", ""))
        ),
        N_("The procedure was sent back to the customer."),
    )
