"""Validation procedures: reading them, their history, opening one (the account's open one is
reused), and which orders of the orders area wait for an account (a registry orders fills in)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from voipdesk.accounts.models import Account
from voipdesk.core.clock import as_utc
from voipdesk.core.platform import Platform
from voipdesk.validation import rules
from voipdesk.validation.errors import (
    ProcedureNotAvailable,
    ProcedureNotFound,
    ProcedureTransitionRefused,
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


# The orders area says which of its orders wait for an account's procedure (validation is below
# orders and never imports it): `voipdesk.validation.services.register_waiting_orders`.
WaitingOrders = Callable[[Session, str], list[str]]
_WAITING_ORDERS: dict[str, WaitingOrders] = {}


def register_waiting_orders(function: WaitingOrders) -> WaitingOrders:
    """Registers `function(session, account_id) -> order ids held in validation`."""
    _WAITING_ORDERS[f"{function.__module__}.{function.__qualname__}"] = function
    return function


def orders_waiting(session: Session, account_id: str) -> list[str]:
    """Ids of this account's orders held in validation (empty when no area registered any)."""
    return [
        order_id
        for function in _WAITING_ORDERS.values()
        for order_id in function(session, account_id)
    ]


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
    from voipdesk.payments.services import list_payment_methods

    methods = [
        method
        for method in list_payment_methods(session, account_id)
        if method.method_type == "sepa_debit"
    ]
    if method_id is not None:
        return next((method for method in methods if method.id == method_id), None)
    methods.sort(key=lambda method: (method.is_default, as_utc(method.created_at)), reverse=True)
    return methods[0] if methods else None


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
