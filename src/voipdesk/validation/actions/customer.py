"""What a customer does with the procedure; the billing-contact change asked by subscriptions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.core.errors import InvalidInput
from voipdesk.core.platform import Platform
from voipdesk.validation import rules
from voipdesk.validation.actions.procedures import (
    HolderDetails,
    _details_from_method,
    _lock,
    _record,
    _sepa_method,
    is_validated,
    open_or_reuse,
    open_procedure_of,
    orders_waiting,
)
from voipdesk.validation.actions.sending import (
    send_procedure,
)
from voipdesk.validation.errors import (
    PaymentMethodNotUsable,
    ProcedureAlreadyDecided,
    ProcedureNotAvailable,
    ProcedureNotFound,
)
from voipdesk.validation.models import (
    VoipProcedure,
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
    from voipdesk.payments.services import validate_iban_bic as payments_validate

    iban, bic = payments_validate(iban_text, (bic_text or "").strip() or None)
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
        # Completing the mandate is allowed under review too: staff cannot approve without it.
        if procedure.iban is None:
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
