"""What customers, staff and other areas do with VoIP validation procedures.

Each function takes the caller's session: the API and pages open one transaction per action,
and the orders and subscriptions areas compose these into theirs.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from voipdesk.accounts.models import Account
from voipdesk.core.clock import as_utc
from voipdesk.core.errors import InvalidInput
from voipdesk.core.i18n import translator
from voipdesk.core.outbox import enqueue
from voipdesk.core.platform import Platform
from voipdesk.validation import rules
from voipdesk.validation.errors import (
    DocumentsIncomplete,
    PaymentMethodNotUsable,
    ProcedureAlreadyDecided,
    ProcedureNotAvailable,
    ProcedureNotFound,
    ProcedureTransitionRefused,
    RejectionReasonMissing,
    UnknownDocument,
)
from voipdesk.validation.models import (
    VoipProcedure,
    VoipProcedureDocument,
    VoipProcedureEvent,
    VoipValidation,
)

SEND_TOPIC = "validation.send_procedure"


# =================================================================================================
# Reads
# =================================================================================================
def is_validated(session: Session, account_id: str) -> bool:
    """Whether this billing account was validated for VoIP (its procedure approved)."""
    return session.get(VoipValidation, account_id) is not None


def validation_of(session: Session, account_id: str) -> VoipValidation | None:
    return session.get(VoipValidation, account_id)


def _procedure_query():  # type: ignore[no-untyped-def]
    return select(VoipProcedure).options(
        selectinload(VoipProcedure.documents), selectinload(VoipProcedure.events)
    )


def open_procedure_of(session: Session, account_id: str) -> VoipProcedure | None:
    return session.scalar(_procedure_query().where(VoipProcedure.open_for_account == account_id))


def current_procedure(session: Session, account_id: str) -> VoipProcedure | None:
    """The open procedure, else the latest one (validated or cancelled)."""
    open_one = open_procedure_of(session, account_id)
    if open_one is not None:
        return open_one
    return session.scalar(
        _procedure_query()
        .where(VoipProcedure.account_id == account_id)
        .order_by(VoipProcedure.created_at.desc(), VoipProcedure.id.desc())
        .limit(1)
    )


def get_procedure(session: Session, account_id: str | None, procedure_id: str) -> VoipProcedure:
    """One procedure; another customer's answers exactly like a missing one."""
    procedure = session.scalar(_procedure_query().where(VoipProcedure.id == procedure_id))
    if procedure is None or (account_id is not None and procedure.account_id != account_id):
        raise ProcedureNotFound()
    return procedure


def _lock(session: Session, procedure_id: str, account_id: str | None = None) -> VoipProcedure:
    procedure = session.scalar(
        select(VoipProcedure).where(VoipProcedure.id == procedure_id).with_for_update()
    )
    if procedure is None or (account_id is not None and procedure.account_id != account_id):
        raise ProcedureNotFound()
    session.refresh(procedure)
    return procedure


def orders_waiting(session: Session, account_id: str) -> list[str]:
    """Ids of this account's orders held in validation (empty when the orders area is absent)."""
    try:
        from voipdesk.orders.actions import order_ids_in_validation
    except ImportError:
        return []
    return list(order_ids_in_validation(session, account_id))


def is_required(session: Session, account_id: str) -> bool:
    """Something waits for this account's procedure: an order in validation or an open one."""
    if is_validated(session, account_id):
        return False
    return (
        bool(orders_waiting(session, account_id))
        or open_procedure_of(session, account_id) is not None
    )


def destination_for(platform: Platform, country: str) -> rules.Destination:
    settings = platform.settings
    return rules.destination(
        country,
        postal_address=settings.operator_postal_address,
        email_be=settings.operator_validation_email_be,
        email_ch=settings.operator_validation_email_ch,
    )


def recorded_documents(procedure: VoipProcedure) -> dict[str, VoipProcedureDocument]:
    return {document.code: document for document in procedure.documents}


def missing_documents(procedure: VoipProcedure) -> list[rules.Document]:
    """Required documents not recorded as valid, in the guide's order."""
    statuses = {code: row.status for code, row in recorded_documents(procedure).items()}
    required = rules.required_documents(procedure.customer_kind, procedure.country)
    missing = set(rules.missing_for_approval((d.code for d in required), statuses))
    return [document for document in required if document.code in missing]


def age_in_business_days(platform: Platform, procedure: VoipProcedure) -> int:
    from zoneinfo import ZoneInfo

    import holidays

    start = as_utc(procedure.created_at).astimezone(ZoneInfo(platform.settings.timezone)).date()
    today = platform.today()
    public = holidays.country_holidays(
        platform.settings.operator_country, years=range(start.year, today.year + 1)
    )
    return rules.business_days_between(start, today, public)


# =================================================================================================
# History and state changes
# =================================================================================================
def _record(
    session: Session,
    procedure: VoipProcedure,
    now: datetime,
    actor: str,
    action: str,
    *,
    to_status: str | None = None,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    from_status = procedure.status
    if to_status is not None and to_status != procedure.status:
        if not rules.can_transition(procedure.status, to_status):
            raise ProcedureTransitionRefused(state=procedure.status, action=action)
        procedure.status = to_status
        procedure.status_since = now
        if to_status in rules.FINAL_STATES:
            procedure.open_for_account = None
    procedure.updated_at = now
    session.add(
        VoipProcedureEvent(
            procedure_id=procedure.id,
            at=now,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=procedure.status,
            note=note,
            details=details or {},
        )
    )
    session.flush()


@dataclass(frozen=True)
class HolderDetails:
    holder_name: str | None
    holder_address: str | None
    iban: str | None
    bic: str | None
    payment_method_id: str | None = None


def _sepa_method(session: Session, account_id: str, method_id: str | None = None) -> Any:
    """The account's SEPA payment method: the one named, else the default, else the newest."""
    try:
        from voipdesk.orders.models import PaymentMethod
    except ImportError:
        return None
    query = select(PaymentMethod).where(
        PaymentMethod.account_id == account_id,
        PaymentMethod.method_type == "sepa_debit",
        PaymentMethod.removed_at.is_(None),
    )
    if method_id is not None:
        return session.scalar(query.where(PaymentMethod.id == method_id))
    return session.scalar(
        query.order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at.desc()).limit(1)
    )


def _details_from_method(method: Any) -> HolderDetails:
    return HolderDetails(
        method.holder_name, method.holder_address, method.iban, method.bic, method.id
    )


def open_or_reuse(
    session: Session,
    account: Account,
    reason: str,
    now: datetime,
    actor: str,
    details: HolderDetails | None = None,
    context: dict[str, Any] | None = None,
) -> tuple[VoipProcedure, bool]:
    """The account's open procedure, or a new one in `todo`. Returns (procedure, created)."""
    if not rules.procedure_applies(account.country):
        raise ProcedureNotAvailable()
    existing = open_procedure_of(session, account.id)
    if existing is not None:
        return existing, False
    if details is None:
        method = _sepa_method(session, account.id)
        details = _details_from_method(method) if method is not None else None
    # The SEPA mandate reference: unique, made of the characters SEPA allows.
    reference = f"VOIP-{account.handle.upper()}-{secrets.token_hex(4).upper()}"
    procedure = VoipProcedure(
        account_id=account.id,
        open_for_account=account.id,
        status=rules.TODO,
        reason=reason,
        customer_kind=account.kind,
        country=account.country,
        mandate_reference=reference[:35],
        holder_name=details.holder_name if details else None,
        holder_address=details.holder_address if details else None,
        iban=details.iban if details else None,
        bic=details.bic if details else None,
        payment_method_id=details.payment_method_id if details else None,
        context=context or {},
        created_at=now,
        updated_at=now,
        status_since=now,
    )
    try:
        with session.begin_nested():
            session.add(procedure)
            session.flush()
    except IntegrityError:
        # Another request opened one at the same moment: that one is the account's procedure.
        existing = open_procedure_of(session, account.id)
        if existing is None:
            raise
        return existing, False
    _record(
        session,
        procedure,
        now,
        actor,
        "created",
        details={"reason": reason, **({"context": context} if context else {})},
    )
    return procedure, True


# =================================================================================================
# The PDF and the e-mail
# =================================================================================================
def procedure_pdf(session: Session, platform: Platform, procedure: VoipProcedure) -> bytes:
    from voipdesk.validation.pdf import MandateData, render_procedure_pdf

    account = session.get(Account, procedure.account_id)
    assert account is not None
    settings = platform.settings
    return render_procedure_pdf(
        MandateData(
            language=account.language,
            operator_name=settings.operator_name,
            operator_postal_address=settings.operator_postal_address,
            creditor_identifier=settings.operator_sepa_creditor_id,
            mandate_reference=procedure.mandate_reference,
            customer_handle=account.handle,
            customer_name=account.display_name,
            customer_kind=procedure.customer_kind,
            country=procedure.country,
            holder_name=procedure.holder_name,
            holder_address=procedure.holder_address,
            iban=procedure.iban,
            bic=procedure.bic,
            created_at=as_utc(procedure.created_at),
            destination=destination_for(platform, procedure.country),
        )
    )


def pdf_filename(procedure: VoipProcedure) -> str:
    return f"procedure-voip-{procedure.mandate_reference}.pdf"


def _email_context(
    session: Session, platform: Platform, procedure: VoipProcedure, account: Account
) -> dict[str, Any]:
    settings = platform.settings
    _ = translator(account.language)
    destination = destination_for(platform, procedure.country)
    return {
        "operator": settings.operator_name,
        "account": account,
        "procedure": procedure,
        "reference": procedure.mandate_reference,
        "documents": [
            _(document.text, operator=settings.operator_name)
            for document in rules.required_documents(procedure.customer_kind, procedure.country)
        ],
        "missing": [
            _(document.text, operator=settings.operator_name)
            for document in missing_documents(procedure)
        ],
        "destination": destination,
        "by_post": destination.channel == rules.BY_POST,
        "procedure_url": f"{settings.base_url.rstrip('/')}/voip-procedure",
        "waiting_orders": len(orders_waiting(session, account.id)),
    }


def send_procedure(
    session: Session, platform: Platform, procedure: VoipProcedure, actor: str
) -> None:
    """E-mails the PDF to the billing contact (listed in service e-mails); todo -> waiting."""
    from voipdesk.accounts.emails import send_service_email

    account = session.get(Account, procedure.account_id)
    assert account is not None
    send_service_email(
        session,
        platform,
        account=account,
        kind="validation-procedure",
        template="validation/procedure_requested",
        context=_email_context(session, platform, procedure, account),
        attachments=[
            (
                pdf_filename(procedure),
                "application/pdf",
                procedure_pdf(session, platform, procedure),
            )
        ],
    )
    now = platform.now()
    procedure.sent_at = now
    target = rules.WAITING_FOR_CUSTOMER if procedure.status == rules.TODO else None
    _record(session, procedure, now, actor, "sent", to_status=target, note=account.email)


def deliver_pending_procedure(platform: Platform, session: Session, procedure_id: str) -> None:
    """Outbox delivery for procedures opened where no platform was at hand (order payment)."""
    procedure = session.scalar(
        select(VoipProcedure).where(VoipProcedure.id == procedure_id).with_for_update()
    )
    if procedure is None or procedure.status != rules.TODO or procedure.sent_at is not None:
        return  # already sent, or cancelled meanwhile
    send_procedure(session, platform, procedure, "system")


def enqueue_sending(session: Session, procedure: VoipProcedure, now: datetime) -> None:
    enqueue(
        session,
        SEND_TOPIC,
        {"procedure_id": procedure.id},
        now,
        dedup_key=f"validation-send:{procedure.id}",
    )


# =================================================================================================
# Customer actions
# =================================================================================================
@dataclass(frozen=True)
class ProcedureForm:
    """The bank account holder's details, or one of the customer's SEPA payment methods."""

    holder_name: str | None = None
    holder_address: str | None = None
    iban: str | None = None
    bic: str | None = None
    payment_method_id: str | None = None


def check_form(session: Session, account: Account, form: ProcedureForm) -> HolderDetails:
    """Checks every field (IBAN and BIC with schwifty); raises naming each bad one."""
    if form.payment_method_id:
        method = _sepa_method(session, account.id, form.payment_method_id)
        if method is None:
            raise PaymentMethodNotUsable(
                fields={
                    "payment_method_id": "Choose one of your SEPA direct-debit payment methods."
                }
            )
        return _details_from_method(method)
    name = (form.holder_name or "").strip()
    address = (form.holder_address or "").strip()
    fields: dict[str, str] = {}
    if not name:
        fields["holder_name"] = "The account holder's name is required."
    elif len(name) > rules.HOLDER_NAME_MAX:
        fields["holder_name"] = "The account holder's name is too long."
    if not address:
        fields["holder_address"] = "The account holder's address is required."
    elif len(address) > rules.HOLDER_ADDRESS_MAX:
        fields["holder_address"] = "The account holder's address is too long."
    if not (form.iban or "").strip():
        fields["iban"] = "The IBAN is required."
    if fields:
        raise InvalidInput(fields=fields)
    iban, bic = validate_iban_bic(form.iban or "", form.bic)
    return HolderDetails(name, address, iban, bic)


def validate_iban_bic(iban_text: str, bic_text: str | None) -> tuple[str, str | None]:
    """Same rule as a SEPA payment method: a valid IBAN of a SEPA country and its bank's BIC."""
    from voipdesk.orders.actions import validate_iban_bic as orders_validate

    iban, bic = orders_validate(iban_text, (bic_text or "").strip() or None)
    if bic is None:
        raise InvalidInput(fields={"bic": "The BIC is required for this IBAN."})
    return iban, bic


def request_procedure(
    session: Session, platform: Platform, account: Account, form: ProcedureForm
) -> tuple[VoipProcedure, bool]:
    """The customer asks for the procedure (in advance, or to complete an open one).

    A second request while one is open returns the open one; if that one still lacks the bank
    details (opened at an order), they are filled in and the PDF is sent again."""
    if not rules.procedure_applies(account.country):
        raise ProcedureNotAvailable()
    details = check_form(session, account, form)
    now = platform.now()
    actor = f"account:{account.id}"
    existing = open_procedure_of(session, account.id)
    if existing is not None:
        procedure = _lock(session, existing.id)
        if procedure.iban is None and procedure.status != rules.DOING:
            _fill(procedure, details)
            _record(session, procedure, now, actor, "details_completed")
            send_procedure(session, platform, procedure, actor)
        return procedure, False
    # Orders already waiting (a cancelled procedure, say): this one is for them.
    waiting = orders_waiting(session, account.id)
    reason = rules.REASON_FIRST_ORDER if waiting else rules.REASON_ON_DEMAND
    context = {"order_ids": waiting} if waiting else None
    procedure, created = open_or_reuse(session, account, reason, now, actor, details, context)
    if created:
        send_procedure(session, platform, procedure, actor)
    return procedure, created


def _fill(procedure: VoipProcedure, details: HolderDetails) -> None:
    procedure.holder_name = details.holder_name
    procedure.holder_address = details.holder_address
    procedure.iban = details.iban
    procedure.bic = details.bic
    procedure.payment_method_id = details.payment_method_id


def cancel_procedure(
    session: Session, platform: Platform, account: Account, procedure_id: str
) -> VoipProcedure:
    procedure = _lock(session, procedure_id, account.id)
    if procedure.status in rules.FINAL_STATES:
        raise ProcedureAlreadyDecided(state=procedure.status)
    _record(
        session,
        procedure,
        platform.now(),
        f"account:{account.id}",
        "cancelled",
        to_status=rules.CANCELLED,
    )
    procedure.cancelled_at = platform.now()
    return procedure


# =================================================================================================
# Other areas: orders (through gate.py) and billing-contact changes
# =================================================================================================
def request_for_billing_contact_change(
    session: Session, platform: Platform, account_id: str, billing_groups: list[str] | None = None
) -> VoipProcedure | None:
    """A billing-contact change of VoIP services to `account_id`: it waits for the new billing
    contact to be validated. Returns its procedure (opened and e-mailed if needed), or None when
    nothing is to wait for: the account is validated, or its country has no procedure."""
    if is_validated(session, account_id):
        return None
    account = session.get(Account, account_id)
    if account is None:
        raise ProcedureNotFound()
    if not rules.procedure_applies(account.country):
        return None
    now = platform.now()
    context = {"billing_groups": list(billing_groups)} if billing_groups else None
    procedure, created = open_or_reuse(
        session,
        account,
        rules.REASON_BILLING_CONTACT_CHANGE,
        now,
        "system",
        context=context,
    )
    if created:
        send_procedure(session, platform, procedure, "system")
    elif billing_groups:
        known = list(procedure.context.get("billing_groups", []))
        procedure.context = {
            **procedure.context,
            "billing_groups": known + [g for g in billing_groups if g not in known],
        }
    return procedure


# =================================================================================================
# Staff actions (back office)
# =================================================================================================
def encode_cursor(created_at: datetime, procedure_id: str) -> str:
    raw = f"{as_utc(created_at).isoformat()}|{procedure_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, procedure_id = raw.split("|", 1)
        return as_utc(datetime.fromisoformat(stamp)), procedure_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(fields={"cursor": "This cursor is not one we gave."}) from None


def list_procedures(
    session: Session, statuses: list[str] | None, limit: int = 50, cursor: str | None = None
) -> tuple[list[VoipProcedure], str | None]:
    """Procedures in these states (the open ones by default), oldest first."""
    wanted = statuses or sorted(rules.OPEN_STATES)
    unknown = [status for status in wanted if status not in rules.STATES]
    if unknown:
        raise InvalidInput(
            fields={"status": "Use todo, waiting_for_customer, doing, done or cancelled."}
        )
    query = _procedure_query().where(VoipProcedure.status.in_(wanted))
    if cursor:
        stamp, last_id = decode_cursor(cursor)
        query = query.where(
            (VoipProcedure.created_at > stamp)
            | ((VoipProcedure.created_at == stamp) & (VoipProcedure.id > last_id))
        )
    rows = list(
        session.scalars(query.order_by(VoipProcedure.created_at, VoipProcedure.id).limit(limit + 1))
    )
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


def approve(
    session: Session, platform: Platform, staff: Account, procedure_id: str
) -> VoipProcedure:
    """Validates the billing account, releases its orders in validation and its waiting
    billing-contact changes, and tells the customer."""
    procedure = _lock(session, procedure_id)
    if procedure.status in rules.FINAL_STATES:
        raise ProcedureAlreadyDecided(state=procedure.status)
    if procedure.status != rules.DOING:
        raise ProcedureTransitionRefused(state=procedure.status, action="approved")
    missing = missing_documents(procedure)
    if missing:
        raise DocumentsIncomplete(
            missing=", ".join(document.code for document in missing),
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
    released = _release_waiting(session, platform, procedure.account_id)
    if released:
        _record(session, procedure, now, actor, "orders_released", details={"order_ids": released})
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


def _release_waiting(session: Session, platform: Platform, account_id: str) -> list[str]:
    released: list[str] = []
    order_ids = orders_waiting(session, account_id)
    if order_ids:
        from voipdesk.orders.actions import release_order_after_validation

        for order_id in order_ids:
            release_order_after_validation(session, platform, order_id)
            released.append(order_id)
    # Billing-contact changes of VoIP services waiting for this account (subscriptions area).
    from voipdesk.subscriptions.actions import release_billing_contact_changes

    release_billing_contact_changes(session, platform, account_id)
    return released


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
