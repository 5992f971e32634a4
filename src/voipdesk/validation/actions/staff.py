"""What staff do in the back office: list procedures, record documents, approve, reject."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.core import pagination
from voipdesk.core.clock import as_utc
from voipdesk.core.errors import InvalidInput
from voipdesk.core.events import publish
from voipdesk.core.i18n import translator
from voipdesk.core.platform import Platform
from voipdesk.validation import rules
from voipdesk.validation.actions.procedures import (
    _lock,
    _procedure_query,
    _record,
    missing_documents,
    orders_waiting,
    recorded_documents,
)
from voipdesk.validation.actions.sending import (
    _email_context,
)
from voipdesk.validation.errors import (
    DocumentsIncomplete,
    MandateIncomplete,
    ProcedureAlreadyDecided,
    ProcedureTransitionRefused,
    RejectionReasonMissing,
    UnknownDocument,
)
from voipdesk.validation.models import (
    VoipProcedure,
    VoipProcedureDocument,
    VoipValidation,
)

APPROVED = "validation.approved"
REJECTED = "validation.rejected"


# =================================================================================================
# Staff actions (back office)
# =================================================================================================
def encode_cursor(created_at: datetime, procedure_id: str) -> str:
    return pagination.encode_cursor(as_utc(created_at), procedure_id)


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor of `list_procedures` holds (InvalidCursor when it is not ours)."""
    key = pagination.cursor_key(cursor, datetime, str)
    if key is None:
        raise pagination.InvalidCursor()
    return as_utc(key[0]), key[1]


def list_procedures(
    session: Session,
    statuses: list[str] | None,
    limit: int = 50,
    cursor: str | None = None,
    sort: str | None = None,
) -> tuple[list[VoipProcedure], str | None]:
    """Procedures in these states (the open ones by default), oldest first, or newest first
    when `sort` is "-date" (any other sort is the default)."""
    wanted = statuses or sorted(rules.OPEN_STATES)
    unknown = [status for status in wanted if status not in rules.STATES]
    if unknown:
        raise InvalidInput(
            fields={"status": "Use todo, waiting_for_customer, doing, done or cancelled."}
        )
    newest_first = sort == "-date"
    query = _procedure_query().where(VoipProcedure.status.in_(wanted))
    if cursor:
        stamp, last_id = decode_cursor(cursor)
        if newest_first:
            query = query.where(
                (VoipProcedure.created_at < stamp)
                | ((VoipProcedure.created_at == stamp) & (VoipProcedure.id < last_id))
            )
        else:
            query = query.where(
                (VoipProcedure.created_at > stamp)
                | ((VoipProcedure.created_at == stamp) & (VoipProcedure.id > last_id))
            )
    order = (
        (VoipProcedure.created_at.desc(), VoipProcedure.id.desc())
        if newest_first
        else (VoipProcedure.created_at, VoipProcedure.id)
    )
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    next_cursor = (
        encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    )
    return rows[:limit], next_cursor


def record_document(
    session: Session,
    platform: Platform,
    staff: Account,
    procedure_id: str,
    code: str,
    status: str,
    note: str = "",
) -> VoipProcedure:
    """Staff record one document as received, valid or invalid (with a note)."""
    procedure = _lock(session, procedure_id)
    if status not in rules.DOCUMENT_STATUSES:
        raise InvalidInput(fields={"status": "Use received, valid or invalid."})
    if code not in rules.document_codes(procedure.customer_kind, procedure.country):
        raise UnknownDocument(document=code, fields={"code": "Not a document of this procedure."})
    note = (note or "").strip()
    if len(note) > rules.DOCUMENT_NOTE_MAX:
        raise InvalidInput(fields={"note": "The note is too long (500 characters at most)."})
    if status == rules.INVALID and not note:
        raise InvalidInput(fields={"note": "Say why the document is not valid."})
    if procedure.status in rules.FINAL_STATES:
        raise ProcedureAlreadyDecided(state=procedure.status)
    now = platform.now()
    target = rules.DOING if procedure.status == rules.WAITING_FOR_CUSTOMER else None
    if procedure.status == rules.TODO:
        raise ProcedureTransitionRefused(state=procedure.status, action="reviewed")
    row = recorded_documents(procedure).get(code)
    if row is None:
        row = VoipProcedureDocument(procedure_id=procedure.id, code=code)
        procedure.documents.append(row)
    row.status = status
    row.note = note
    row.recorded_at = now
    row.recorded_by = staff.id
    _record(
        session,
        procedure,
        now,
        f"staff:{staff.id}",
        "document_recorded",
        to_status=target,
        note=note,
        details={"code": code, "status": status},
    )
    return procedure


def record_documents(
    session: Session,
    platform: Platform,
    staff: Account,
    procedure_id: str,
    entries: list[tuple[str, str, str]],
) -> VoipProcedure:
    """Staff record several documents at once, (code, status, note) each, in one transaction:
    all of them or none (the first refused one names its document). A document given with the
    status and note it already has is left as it is."""
    procedure = _lock(session, procedure_id)
    if not entries:
        raise InvalidInput(fields={"documents": "Record at least one document."})
    current = recorded_documents(procedure)
    for code, status, note in entries:
        row = current.get(code)
        if row is not None and row.status == status and (row.note or "") == (note or "").strip():
            continue
        try:
            procedure = record_document(session, platform, staff, procedure_id, code, status, note)
        except InvalidInput as error:
            error.fields = {f"{name}:{code}": text for name, text in (error.fields or {}).items()}
            raise
    return procedure


def approve(
    session: Session, platform: Platform, staff: Account, procedure_id: str
) -> VoipProcedure:
    """Validates the billing account, announces it (`validation.approved`: orders releases its
    orders in validation, subscriptions its waiting billing-contact changes), tells the customer."""
    procedure = _lock(session, procedure_id)
    if procedure.status in rules.FINAL_STATES:
        raise ProcedureAlreadyDecided(state=procedure.status)
    if procedure.status != rules.DOING:
        raise ProcedureTransitionRefused(state=procedure.status, action="approved")
    if not rules.mandate_complete(procedure.holder_name, procedure.iban):
        raise MandateIncomplete()
    missing = missing_documents(procedure)
    if missing:
        raise DocumentsIncomplete(
            missing=[document.code for document in missing],
            extra={"missing": [document.code for document in missing]},
        )
    now = platform.now()
    actor = f"staff:{staff.id}"
    procedure.decided_at = now
    procedure.decided_by = staff.id
    _record(session, procedure, now, actor, "approved", to_status=rules.DONE)
    if session.get(VoipValidation, procedure.account_id) is None:
        session.add(
            VoipValidation(
                account_id=procedure.account_id,
                validated_at=now,
                procedure_id=procedure.id,
                validated_by=actor,
            )
        )
        session.flush()
    _adopt_mandate(session, platform, procedure)
    # The orders waiting for this account are released by the orders area, and its waiting
    # billing-contact changes applied by subscriptions, both on this event (same transaction).
    released = orders_waiting(session, procedure.account_id)
    if released:
        _record(session, procedure, now, actor, "orders_released", details={"order_ids": released})
    publish(
        session,
        APPROVED,
        {"procedure_id": procedure.id, "account_id": procedure.account_id},
        now=now,
        key=procedure.id,
    )
    account = session.get(Account, procedure.account_id)
    assert account is not None
    from voipdesk.accounts.emails import send_service_email

    send_service_email(
        session,
        platform,
        account=account,
        kind="validation-approved",
        template="validation/procedure_approved",
        context=_email_context(session, platform, procedure, account) | {"released": len(released)},
    )
    return procedure


def _adopt_mandate(session: Session, platform: Platform, procedure: VoipProcedure) -> None:
    """The signed SEPA mandate of the procedure becomes the account's direct-debit payment
    method (same reference, bank details, and the day staff received it signed as its date)."""
    from zoneinfo import ZoneInfo

    from voipdesk.payments.services import adopt_signed_mandate

    if not procedure.iban or not procedure.holder_name:
        return  # no bank account given: nothing to debit
    account = session.get(Account, procedure.account_id)
    assert account is not None
    signed = recorded_documents(procedure).get(rules.SIGNED_MANDATE.code)
    when = signed.recorded_at if signed is not None else platform.now()
    method = adopt_signed_mandate(
        session,
        platform,
        account,
        mandate_reference=procedure.mandate_reference,
        iban=procedure.iban,
        bic=procedure.bic,
        holder_name=procedure.holder_name,
        holder_address=procedure.holder_address or "",
        signed_on=when.astimezone(ZoneInfo(platform.settings.timezone)).date(),
        replaces_method_id=procedure.payment_method_id,
    )
    procedure.payment_method_id = method.id


def reject(
    session: Session, platform: Platform, staff: Account, procedure_id: str, reason: str
) -> VoipProcedure:
    """Back to the customer with what is missing: an e-mail lists it with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise RejectionReasonMissing(fields={"reason": "The reason is required."})
    if len(reason) > rules.REJECTION_REASON_MAX:
        raise InvalidInput(fields={"reason": "The reason is too long (1000 characters at most)."})
    procedure = _lock(session, procedure_id)
    if procedure.status in rules.FINAL_STATES:
        raise ProcedureAlreadyDecided(state=procedure.status)
    if procedure.status != rules.DOING:
        raise ProcedureTransitionRefused(state=procedure.status, action="rejected")
    now = platform.now()
    procedure.rejection_reason = reason
    _record(
        session,
        procedure,
        now,
        f"staff:{staff.id}",
        "rejected",
        to_status=rules.WAITING_FOR_CUSTOMER,
        note=reason,
        details={"missing": [document.code for document in missing_documents(procedure)]},
    )
    publish(
        session,
        REJECTED,
        {
            "procedure_id": procedure.id,
            "account_id": procedure.account_id,
            "reason": reason,
            "missing": [document.code for document in missing_documents(procedure)],
        },
        now=now,
    )
    account = session.get(Account, procedure.account_id)
    assert account is not None
    from voipdesk.accounts.emails import send_service_email

    invalid_notes = {
        row.code: row.note
        for row in procedure.documents
        if row.status == rules.INVALID and row.note
    }
    context = _email_context(session, platform, procedure, account)
    _ = translator(account.language)
    context["missing"] = [
        _(document.text, operator=platform.settings.operator_name)
        + (f" — {invalid_notes[document.code]}" if document.code in invalid_notes else "")
        for document in missing_documents(procedure)
    ]
    context["reason"] = reason
    send_service_email(
        session,
        platform,
        account=account,
        kind="validation-rejected",
        template="validation/procedure_rejected",
        context=context,
    )
    return procedure


def mark_validated(
    session: Session, platform: Platform, account_id: str, actor: str = "system"
) -> None:
    """Records an account as validated for VoIP without a procedure (operator's decision, demo
    data, other areas' tests whose customers should go straight to delivery). Idempotent."""
    if session.get(VoipValidation, account_id) is None:
        session.add(
            VoipValidation(account_id=account_id, validated_at=platform.now(), validated_by=actor)
        )
        session.flush()
