"""Portability use cases, one transaction each (the caller's), with the injected clock. The
customer requests, cancels or changes the date; staff move the request along its timeline, to a
failure (SMS and e-mail with the reason and what to do) or to the activation (the numbers become
alias numbers of the group and are taken in the catalogue inventory). Every change is in the
group's history (who, when, what) and in the request's own timeline."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.accounts.sms import send_service_sms
from voipdesk.catalogue import services as catalogue
from voipdesk.core import events
from voipdesk.core.i18n import gettext
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import loans
from voipdesk.subscriptions import queries as subscriptions
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.subscriptions import services as subscription_services
from voipdesk.telephony.aliases import queries as aliases
from voipdesk.telephony.aliases import rules as alias_rules
from voipdesk.telephony.portability import errors, rules
from voipdesk.telephony.portability.models import Portability, PortabilityEvent, PortingNumber

ALIAS_MONTHLY_PRICE = Decimal("1.00")  # excl. tax, as an alias number ordered here
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class EventView:
    step: str
    at: datetime
    actor: str
    note: str | None


@dataclass(frozen=True)
class PortabilityView:
    id: str
    reference: str
    billing_group_id: str
    account_id: str
    country: str
    numbers: list[str]
    current_operator: str
    rio: str | None
    donor_reference: str | None
    holder_kind: str
    holder_name: str
    registration_number: str | None
    desired_date: date | None
    destination_line: str | None
    destination_configuration: str | None
    step: str
    failure_reason: str | None
    failure_details: str | None
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    events: list[EventView] = field(default_factory=list)

    @property
    def changeable(self) -> bool:
        return rules.is_changeable(self.step)

    @property
    def ongoing(self) -> bool:
        return self.step in rules.ONGOING_STEPS


@dataclass(frozen=True)
class PortabilityRequest:
    country: str
    numbers: list[str]
    current_operator: str
    holder_kind: str
    holder_name: str
    rio: str | None = None
    donor_reference: str | None = None
    registration_number: str | None = None
    desired_date: date | None = None
    destination_line: str | None = None
    destination_configuration: str | None = None


STEP_EVENT = "portability.step_changed"  # a request reached a step (failed and cancelled too)


def view_of(session: Session, row: Portability) -> PortabilityView:
    events = session.scalars(
        select(PortabilityEvent)
        .where(PortabilityEvent.portability_id == row.id)
        .order_by(PortabilityEvent.id)
    )
    return PortabilityView(
        id=row.id,
        reference=row.reference,
        billing_group_id=row.billing_group_id,
        account_id=row.account_id,
        country=row.country,
        numbers=list(row.numbers or []),
        current_operator=row.current_operator,
        rio=row.rio,
        donor_reference=row.donor_reference,
        holder_kind=row.holder_kind,
        holder_name=row.holder_name,
        registration_number=row.registration_number,
        desired_date=row.desired_date,
        destination_line=row.destination_line,
        destination_configuration=row.destination_configuration,
        step=row.step,
        failure_reason=row.failure_reason,
        failure_details=row.failure_details,
        created_at=row.created_at,
        updated_at=row.updated_at,
        activated_at=row.activated_at,
        events=[EventView(e.step, e.at, e.actor, e.note) for e in events],
    )


def _event(
    session: Session, platform: Platform, row: Portability, actor: str, note: str | None = None
) -> None:
    event = PortabilityEvent(
        portability_id=row.id,
        step=row.step,
        at=platform.now(),
        actor=actor[:60],
        note=(note or None) and note[:300],
    )
    session.add(event)
    row.updated_at = platform.now()
    session.flush()
    # Operators' systems follow the timeline (webhooks): once per step reached.
    events.publish(
        session,
        STEP_EVENT,
        {
            "portability_id": row.id,
            "reference": row.reference,
            "account_id": row.account_id,
            "billing_group_id": row.billing_group_id,
            "numbers": list(row.numbers or []),
            "step": row.step,
            "failure_reason": row.failure_reason if row.step == rules.FAILED else None,
        },
        now=platform.now(),
        key=f"{row.id}:{event.id}",
    )


def _history(session: Session, platform: Platform, row: Portability, actor: str, what: str) -> None:
    subscription_services.record_history(
        session, platform, row.billing_group_id, None, actor, f"portability {row.reference}: {what}"
    )


def _new_reference(session: Session) -> str:
    while True:
        reference = "PO-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(7))
        if session.scalar(select(Portability.id).where(Portability.reference == reference)) is None:
            return reference


def _check_request(
    session: Session, platform: Platform, group_id: str, request: PortabilityRequest
) -> PortabilityRequest:
    country = rules.check_country(request.country)
    numbers = rules.normalise_numbers(list(request.numbers), country)
    operator = (request.current_operator or "").strip()
    if not operator:
        raise errors.OperatorRequired(fields={"current_operator": "Required."})
    if request.holder_kind not in rules.HOLDER_KINDS:
        raise errors.HolderKindInvalid(fields={"holder_kind": "individual or company."})
    holder = (request.holder_name or "").strip()
    if not holder:
        raise errors.HolderNameRequired(fields={"holder_name": "Required."})
    registration = None
    if request.holder_kind == rules.COMPANY:
        registration = rules.normalise_registration(country, request.registration_number or "")
    rio = donor = None
    if country == "FR":
        if not (request.rio or "").strip():
            raise errors.RioRequired(fields={"rio": "Required."})
        rio = rules.check_rio(request.rio or "", numbers)
    else:
        donor = (request.donor_reference or "").strip()
        if not donor:
            raise errors.DonorReferenceRequired(
                country=country, fields={"donor_reference": "Required."}
            )
    desired = rules.check_desired_date(request.desired_date, platform.today(), country)
    destination = None
    if request.destination_line:
        lines = {
            s.number
            for s in subscriptions.group_services(session, group_id, subscription_rules.LINE_KINDS)
        }
        destination = request.destination_line.strip().replace(" ", "")
        if destination not in lines:
            raise errors.PortabilityDestinationInvalid(
                number=destination, fields={"destination_line": "Not a line of this group."}
            )
    configuration = None
    if request.destination_configuration:
        if destination is not None:
            raise errors.PortabilityTwoDestinations(
                fields={"destination_configuration": "A line is chosen already."}
            )
        configuration = request.destination_configuration.strip().replace(" ", "")
        configured = aliases.group_configuration_types(session, group_id)
        if configured.get(configuration, alias_rules.NONE) == alias_rules.NONE:
            raise errors.PortabilityConfigurationInvalid(
                number=configuration,
                fields={"destination_configuration": "Not a configured alias number here."},
            )
    for number in numbers:
        if catalogue.number_in_inventory(session, number) or loans.number_is_held(session, number):
            raise errors.PortabilityNumberAlreadyOurs(
                number=number, fields={"numbers": "Already one of our numbers."}
            )
        porting = session.get(PortingNumber, number)
        if porting is not None:
            other = session.get(Portability, porting.portability_id)
            raise errors.PortabilityNumberAlreadyPorting(
                number=number,
                reference=other.reference if other is not None else "—",
                fields={"numbers": "Already being ported."},
            )
    return PortabilityRequest(
        country=country,
        numbers=numbers,
        current_operator=operator[:80],
        holder_kind=request.holder_kind,
        holder_name=holder[:140],
        rio=rio,
        donor_reference=donor[:60] if donor else None,
        registration_number=registration,
        desired_date=desired,
        destination_line=destination,
        destination_configuration=configuration,
    )


def _account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    assert account is not None
    return account


def _email(
    session: Session, platform: Platform, row: Portability, kind: str, **context: object
) -> None:
    from voipdesk.accounts.emails import send_service_email

    send_service_email(
        session,
        platform,
        account=_account(session, row.account_id),
        kind=f"portability-{kind}",
        template=f"telephony/portability_{kind}",
        context={"portability": row, "numbers": list(row.numbers or []), **context},
    )


def request_portability(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    request: PortabilityRequest,
    actor: str,
) -> PortabilityView:
    """A port-in request (step "form sent": the customer's form reached us, staff check it next):
    every rule checked before anything is stored; its summary is e-mailed."""
    group = subscriptions.account_group(session, account_id, group_id)
    subscription_services.lock_group(session, group.id)
    checked = _check_request(session, platform, group.id, request)
    now = platform.now()
    row = Portability(
        reference=_new_reference(session),
        billing_group_id=group.id,
        account_id=group.account_id,
        country=checked.country,
        numbers=checked.numbers,
        current_operator=checked.current_operator,
        rio=checked.rio,
        donor_reference=checked.donor_reference,
        holder_kind=checked.holder_kind,
        holder_name=checked.holder_name,
        registration_number=checked.registration_number,
        desired_date=checked.desired_date,
        destination_line=checked.destination_line,
        destination_configuration=checked.destination_configuration,
        step=rules.FORM_SENT,
        created_at=now,
        created_by=actor[:60],
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            for number in checked.numbers:
                session.add(PortingNumber(number=number, portability_id=row.id))
            session.flush()
    except IntegrityError:  # another request took one of the numbers meanwhile
        raise errors.PortabilityNumberAlreadyPorting(
            number=", ".join(checked.numbers), reference="—", fields={"numbers": "Already."}
        ) from None
    _event(session, platform, row, actor)
    when = checked.desired_date.isoformat() if checked.desired_date else "as soon as possible"
    _history(
        session,
        platform,
        row,
        actor,
        f"requested for {', '.join(checked.numbers)} from {checked.current_operator} ({when})",
    )
    _email(session, platform, row, "requested")
    return view_of(session, row)


def _of_account(
    session: Session, account_id: str, group_id: str, portability_id: str
) -> Portability:
    group = subscriptions.account_group(session, account_id, group_id)
    row = session.get(Portability, portability_id, with_for_update=True)
    if row is None or row.billing_group_id != group.id:
        raise errors.PortabilityNotFound()
    return row


def _by_id(session: Session, portability_id: str) -> Portability:
    row = session.get(Portability, portability_id, with_for_update=True)
    if row is None:
        raise errors.PortabilityNotFound()
    return row


def _release_numbers(session: Session, row: Portability) -> None:
    for porting in session.scalars(
        select(PortingNumber).where(PortingNumber.portability_id == row.id)
    ):
        session.delete(porting)


def cancel(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    portability_id: str,
    actor: str,
) -> PortabilityView:
    row = _of_account(session, account_id, group_id, portability_id)
    rules.check_changeable(row.step)
    rules.check_move(row.step, rules.CANCELLED)
    row.step = rules.CANCELLED
    _release_numbers(session, row)
    _event(session, platform, row, actor)
    _history(session, platform, row, actor, "cancelled")
    return view_of(session, row)


def change_date(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    portability_id: str,
    desired: date | None,
    actor: str,
) -> PortabilityView:
    row = _of_account(session, account_id, group_id, portability_id)
    rules.check_changeable(row.step)
    checked = rules.check_desired_date(desired, platform.today(), row.country)
    if checked == row.desired_date:
        return view_of(session, row)
    row.desired_date = checked
    when = checked.isoformat() if checked else "as soon as possible"
    _event(session, platform, row, actor, f"date: {when}")
    _history(session, platform, row, actor, f"date changed to {when}")
    return view_of(session, row)


def advance(
    session: Session, platform: Platform, portability_id: str, to: str, actor: str
) -> PortabilityView:
    """Staff move a request to its next step (or resume a failed one at "received"); the last
    step activates the numbers."""
    row = _by_id(session, portability_id)
    if to not in rules.STAFF_TARGETS and to != rules.ACTIVATED:
        raise errors.PortabilityStepNotAllowed(step=row.step, to=to)
    rules.check_move(row.step, to)
    resumed = row.step == rules.FAILED
    row.step = to
    if to == rules.ACTIVATED:
        _activate(session, platform, row, actor)
    else:
        if resumed:
            row.failure_reason = None
            row.failure_details = None
        _event(session, platform, row, actor, "resumed after the failure" if resumed else None)
        _history(session, platform, row, actor, f"step {to}" + (" (resumed)" if resumed else ""))
    return view_of(session, row)


def _activate(session: Session, platform: Platform, row: Portability, actor: str) -> None:
    numbers = list(row.numbers or [])
    row.activated_at = platform.now()
    _release_numbers(session, row)
    loans.add_ported_alias_numbers(
        session, platform, row.billing_group_id, numbers, ALIAS_MONTHLY_PRICE, actor
    )
    catalogue.record_ported_numbers(session, numbers, row.account_id, row.country)
    if row.destination_line:
        from voipdesk.telephony.aliases.actions import apply_default_redirects

        apply_default_redirects(
            session,
            platform,
            row.billing_group_id,
            [{"number": n, "for_line": row.destination_line} for n in numbers],
            actor,
        )
    elif row.destination_configuration:
        from voipdesk.telephony.aliases.copying import copy_configuration

        copy_configuration(
            session, platform, row.billing_group_id, row.destination_configuration, numbers, actor
        )
    _event(session, platform, row, actor)
    _history(session, platform, row, actor, f"activated: {', '.join(numbers)} are alias numbers")
    _email(session, platform, row, "activated")


def fail(
    session: Session,
    platform: Platform,
    portability_id: str,
    reason: str,
    details: str | None,
    actor: str,
) -> PortabilityView:
    """Staff record a failure: the customer gets an SMS (to the account's mobile) and an e-mail,
    each with the reason and what to do."""
    row = _by_id(session, portability_id)
    found = rules.failure_reason(reason)
    rules.check_move(row.step, rules.FAILED)
    row.step = rules.FAILED
    row.failure_reason = found.code
    row.failure_details = (details or "").strip()[:1000] or None
    account = _account(session, row.account_id)
    language = account.language
    text = gettext(
        language,
        "%(operator)s: your portability %(reference)s failed. %(reason)s %(what)s",
        operator=platform.settings.operator_name,
        reference=row.reference,
        reason=gettext(language, found.label),
        what=gettext(language, found.what_to_do),
    )
    sms = send_service_sms(session, platform, account=account, kind="portability-failed", text=text)
    _email(
        session,
        platform,
        row,
        "failed",
        reason=found.label,
        what_to_do=found.what_to_do,
        details=row.failure_details,
    )
    told = "SMS and e-mail" if sms is not None else "e-mail (no mobile number for the SMS)"
    _event(session, platform, row, actor, f"{found.code}; customer told by {told}")
    _history(session, platform, row, actor, f"failed ({found.code}); customer told by {told}")
    return view_of(session, row)
