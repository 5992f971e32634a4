"""Plug & Phone use cases, one transaction each (the caller's): attach a lent phone (by its MAC)
to a line of its group, detach it, serve its provisioning file, send it back (e-mail with the
return address and the 15-day deadline), and staff's receipt or refusal of what came back. The
loan itself (deposit, line, return states) is subscriptions' (`subscriptions.loans`); every change
is in the group's history with who and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import loans
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.subscriptions import services as subscriptions
from voipdesk.subscriptions.rules import digest_ha1
from voipdesk.telephony.actions.credentials import strong_password
from voipdesk.telephony.phones import errors, rules
from voipdesk.telephony.phones.models import HardwareReturn, Phone

OPEN_RETURN_STATES = (subscription_rules.LOAN_RETURN_OPENED,)


@dataclass(frozen=True)
class PhoneView:
    loan_id: str
    billing_group_id: str
    hardware_code: str
    model: str
    mac: str | None  # "00:15:65:..." once known
    line: str | None  # E.164 of the attached line
    deposit: Decimal
    state: str  # subscriptions.rules.LOAN_*
    lent_at: datetime
    return_due_on: date | None
    received_on: date | None
    refund_due_on: date | None
    refunded_at: datetime | None
    return_notified_at: datetime | None
    return_refused_reason: str | None
    last_provisioned_at: datetime | None

    @property
    def deposit_money(self) -> Money:
        return Money(self.deposit)

    @property
    def provisioning_path(self) -> str | None:
        return f"/provisioning/{self.mac.replace(':', '').lower()}.cfg" if self.mac else None


def _view(session: Session, loan: loans.LoanView) -> PhoneView:
    phone = session.scalar(select(Phone).where(Phone.loan_id == loan.id))
    notice = session.get(HardwareReturn, loan.id)
    return PhoneView(
        loan_id=loan.id,
        billing_group_id=loan.billing_group_id,
        hardware_code=loan.hardware_code,
        model=rules.model_of(loan.hardware_code).name,
        mac=rules.mac_shown(phone.mac) if phone is not None else None,
        line=loan.line_number,
        deposit=loan.deposit,
        state=loan.state,
        lent_at=loan.lent_at,
        return_due_on=loan.return_due_on,
        received_on=loan.received_on,
        refund_due_on=loan.refund_due_on,
        refunded_at=loan.refunded_at,
        return_notified_at=notice.notified_at if notice is not None else None,
        return_refused_reason=notice.refused_reason if notice is not None else None,
        last_provisioned_at=phone.last_provisioned_at if phone is not None else None,
    )


def group_phones(session: Session, account_id: str, group_id: str) -> list[PhoneView]:
    from voipdesk.subscriptions import queries

    group = queries.account_group(session, account_id, group_id)
    return [_view(session, loan) for loan in loans.group_loans(session, group.id)]


def line_phone(
    session: Session, account_id: str, group_id: str, number: str
) -> tuple[PhoneView | None, list[PhoneView]]:
    """The phone attached to the line (or None), and the group's lent phones free to attach."""
    facts = subscriptions.line_of_account(session, account_id, group_id, number, lock=False)
    phones = [_view(session, loan) for loan in loans.group_loans(session, facts.billing_group_id)]
    attached = next(
        (p for p in phones if p.line == facts.number and p.state == subscription_rules.LOAN_LENT),
        None,
    )
    free = [p for p in phones if p.line is None and p.state == subscription_rules.LOAN_LENT]
    return attached, free


def attach(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    mac_text: str,
    actor: str,
    loan_id: str | None = None,
) -> PhoneView:
    """Attaches a Plug & Phone lent to the group to this line (any line of the group, also one
    that had none), identified by the MAC printed under it. Refused, nothing stored: a malformed
    MAC, a MAC attached elsewhere, a line that has another phone, no lent phone free."""
    mac = rules.normalise_mac(mac_text)
    facts = subscriptions.line_of_account(session, account_id, group_id, number)
    subscriptions.lock_group(session, facts.billing_group_id)
    group_loans = {
        loan.id: loan
        for loan in loans.group_loans(session, facts.billing_group_id)
        if loan.state == subscription_rules.LOAN_LENT
    }
    known = session.scalar(select(Phone).where(Phone.mac == mac))
    if known is not None and known.loan_id not in group_loans:
        raise errors.MacAlreadyAttached(mac=rules.mac_shown(mac), fields={"mac": "Elsewhere."})
    with_mac = {
        loan_id_: mac_
        for loan_id_, mac_ in session.execute(
            select(Phone.loan_id, Phone.mac).where(Phone.loan_id.in_(list(group_loans)))
        )
    }
    on_line = [loan for loan in group_loans.values() if loan.line_number == facts.number]
    for loan in on_line:
        if known is not None and loan.id == known.loan_id:
            continue
        if known is None and loan.id not in with_mac:
            continue  # the phone lent for this line: its MAC is recorded now
        other = with_mac.get(loan.id)
        raise errors.LineHasPhone(
            number=facts.number,
            mac=rules.mac_shown(other) if other else rules.model_of(loan.hardware_code).name,
            fields={"mac": "The line has a phone."},
        )
    recorded = False
    if known is not None:
        chosen = group_loans[known.loan_id]
    else:
        recorded = True
        candidates = [loan for loan in group_loans.values() if loan.id not in with_mac]
        if loan_id is not None:
            free = [loan for loan in candidates if loan.id == loan_id]
        else:  # the one on this line first, then one attached to no line
            free = [loan for loan in candidates if loan.line_number == facts.number] + [
                loan for loan in candidates if loan.line_number is None
            ]
        if not free:
            raise errors.NoLentPhone()
        chosen = free[0]
        now = platform.now()
        known = Phone(
            loan_id=chosen.id,
            billing_group_id=chosen.billing_group_id,
            mac=mac,
            model_code=chosen.hardware_code,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(known)
                session.flush()
        except IntegrityError:  # the same MAC attached by a racing request
            raise errors.MacAlreadyAttached(
                mac=rules.mac_shown(mac), fields={"mac": "Elsewhere."}
            ) from None
    if chosen.line_number == facts.number:
        if recorded:
            subscriptions.record_history(
                session,
                platform,
                facts.billing_group_id,
                facts.service_id,
                actor,
                f"Plug & Phone {rules.model_of(chosen.hardware_code).name} "
                f"{rules.mac_shown(mac)} attached (its MAC recorded)",
            )
        return _view(session, chosen)
    known.updated_at = platform.now()
    model = rules.model_of(chosen.hardware_code).name
    updated = loans.attach_loan(
        session,
        platform,
        chosen.id,
        facts.service_id,
        actor,
        f"Plug & Phone {model} {rules.mac_shown(mac)} attached"
        + (f" (moved from {chosen.line_number})" if chosen.line_number else ""),
    )
    return _view(session, updated)


def detach(
    session: Session, platform: Platform, account_id: str, group_id: str, number: str, actor: str
) -> PhoneView:
    attached, _free = line_phone(session, account_id, group_id, number)
    if attached is None:
        raise errors.LineHasNoPhone(number=number)
    facts = subscriptions.line_of_account(session, account_id, group_id, number)
    loans.attach_loan(
        session,
        platform,
        attached.loan_id,
        None,
        actor,
        f"Plug & Phone {attached.model} {attached.mac or ''} detached from {facts.number}",
    )
    found = loans.loan(session, attached.loan_id)
    assert found is not None
    return _view(session, found)


# --- Provisioning --------------------------------------------------------------------------------
def provisioning_file(
    session: Session, platform: Platform, mac_text: str, user_agent: str | None
) -> str | None:
    """The configuration of the phone lent with this MAC, attached to a live line; None for any
    other MAC (not lent, not attached, or a User-Agent that is not this phone's). Each file
    carries a new SIP password: the line registers on this phone (the former password stops)."""
    try:
        mac = rules.normalise_mac(mac_text)
    except errors.MacMalformed:
        return None
    phone = session.scalar(select(Phone).where(Phone.mac == mac).with_for_update())
    if phone is None or not rules.user_agent_is_of(user_agent, mac):
        return None
    loan = loans.loan(session, phone.loan_id)
    if loan is None or loan.state != subscription_rules.LOAN_LENT or loan.service_id is None:
        return None
    facts = next(iter(subscriptions.service_facts(session, [loan.service_id])), None)
    if facts is None or not facts.live or not facts.is_line or not facts.number:
        return None
    account = session.get(Account, facts.owner_account_id)
    settings = platform.settings
    username = facts.sip_username or facts.number.lstrip("+")
    password = strong_password()
    subscriptions.set_sip_ha1(
        session,
        platform,
        facts.service_id,
        digest_ha1(username, settings.sip_domain, password),
        f"phone:{rules.mac_shown(mac)}",
    )
    phone.last_provisioned_at = platform.now()
    country = getattr(account, "country", None) or "FR"
    zone = rules.COUNTRY_ZONES.get(country, settings.timezone)
    from voipdesk.catalogue.queries import national_format

    return rules.yealink_config(
        rules.Provisioning(
            mac=mac,
            model=rules.model_of(phone.model_code),
            number=facts.number,
            label=national_format(facts.number),
            sip_username=username,
            sip_password=password,
            sip_server=settings.sip_domain,
            sip_port=settings.sip_port,
            sip_transport=settings.sip_transport,
            zone=zone,
            language=getattr(account, "language", None) or "fr",
        ),
        platform.now(),
    )


# --- Returns -------------------------------------------------------------------------------------
def _notify_return(session: Session, platform: Platform, loan: loans.LoanView) -> None:
    """The e-mail with the return address and the deadline, once per return."""
    from voipdesk.accounts.emails import send_service_email

    if session.get(HardwareReturn, loan.id) is not None:
        return
    account = session.get(Account, loan.account_id)
    if account is None:
        return
    phone = session.scalar(select(Phone).where(Phone.loan_id == loan.id))
    email = send_service_email(
        session,
        platform,
        account=account,
        kind="hardware-return",
        template="telephony/hardware_return",
        context={
            "model": rules.model_of(loan.hardware_code).name,
            "mac": rules.mac_shown(phone.mac) if phone is not None else None,
            "due_on": loan.return_due_on,
            "deposit": Money(loan.deposit),
            "address": platform.settings.operator_postal_address,
            "reference": loan.id[:8].upper(),
            "days": subscription_rules.RETURN_WITHIN_DAYS,
            "refund_days": subscription_rules.REFUND_AFTER_RECEIPT_DAYS,
            "group_id": loan.billing_group_id,
        },
    )
    session.add(
        HardwareReturn(
            loan_id=loan.id,
            billing_group_id=loan.billing_group_id,
            notified_at=platform.now(),
            email_id=email.id,
        )
    )
    session.flush()


def request_return(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    loan_id: str,
    actor: str,
) -> PhoneView:
    """The customer sends a lent phone back: it is detached from its line, the return is open
    for 15 days and the e-mail tells where to send it."""
    phones = {p.loan_id: p for p in group_phones(session, account_id, group_id)}
    if loan_id not in phones:
        raise errors.PhoneNotFound()
    current = phones[loan_id]
    if current.state not in (subscription_rules.LOAN_LENT, subscription_rules.LOAN_RETURN_OPENED):
        raise errors.PhoneNotReturnable(state=current.state)
    loan = loans.open_return(session, platform, loan_id, actor)
    _notify_return(session, platform, loan)
    return _view(session, loan)


def send_return_notices(session: Session, platform: Platform) -> int:
    """Returns opened elsewhere (a terminated or converted line, at the renewal) get their
    e-mail too (idempotent: once per return)."""
    told = set(session.scalars(select(HardwareReturn.loan_id)))
    sent = 0
    for loan in loans.loans_in_states(session, OPEN_RETURN_STATES):
        if loan.id not in told:
            _notify_return(session, platform, loan)
            sent += 1
    return sent


def staff_returns(session: Session, states: tuple[str, ...]) -> list[PhoneView]:
    return [_view(session, loan) for loan in loans.loans_in_states(session, states)]


def receive(session: Session, platform: Platform, loan_id: str, staff_id: str) -> PhoneView:
    """Staff received the phone: the deposit is refunded through the payment provider once its
    day comes (10 days later)."""
    found = loans.loan(session, loan_id, lock=True)
    if found is None:
        raise errors.PhoneNotFound()
    if found.state not in (
        subscription_rules.LOAN_RETURN_OPENED,
        subscription_rules.LOAN_RECEIVED,
        subscription_rules.LOAN_REFUNDING,
        subscription_rules.LOAN_REFUNDED,
    ):
        raise errors.ReturnNotOpen(state=found.state)
    loan = loans.receive_return(session, platform, loan_id, staff_id)
    notice = session.get(HardwareReturn, loan_id)
    if notice is not None and notice.refused_at is not None:
        notice.refused_reason = None  # the right hardware came back after all
    return _view(session, loan)


def refuse(
    session: Session, platform: Platform, loan_id: str, reason: str, staff_id: str
) -> PhoneView:
    """Staff refuse what came back (not this phone, damaged, incomplete): the deposit is kept,
    the return stays open, and the customer is told why by e-mail."""
    from voipdesk.accounts.emails import send_service_email

    text = (reason or "").strip()
    if not text:
        raise errors.RefusalReasonRequired(fields={"reason": "Required."})
    found = loans.loan(session, loan_id, lock=True)
    if found is None:
        raise errors.PhoneNotFound()
    if found.state != subscription_rules.LOAN_RETURN_OPENED:
        raise errors.ReturnNotOpen(state=found.state)
    loan = loans.refuse_return(session, platform, loan_id, f"staff:{staff_id}", text)
    _notify_return(session, platform, loan)
    notice = session.get(HardwareReturn, loan_id)
    assert notice is not None
    notice.refused_at = platform.now()
    notice.refused_by = f"staff:{staff_id}"
    notice.refused_reason = text[:1000]
    account = session.get(Account, loan.account_id)
    if account is not None:
        send_service_email(
            session,
            platform,
            account=account,
            kind="hardware-return-refused",
            template="telephony/hardware_return_refused",
            context={
                "model": rules.model_of(loan.hardware_code).name,
                "reason": text,
                "address": platform.settings.operator_postal_address,
                "due_on": loan.return_due_on,
            },
        )
    return _view(session, loan)
