"""What the telephony area (above) reads and writes about lent hardware and ported numbers: plain
dataclasses, no ORM objects crossing. Subscriptions stays the one writer of `phone_loan` and
`service`: telephony asks it to attach a lent phone to a line, open or refuse its return, and to
add the numbers a portability brought in as alias numbers of the group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.db import new_id
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import errors, rules
from voipdesk.subscriptions.actions.changes import record
from voipdesk.subscriptions.actions.end_of_service import open_hardware_return
from voipdesk.subscriptions.listeners import services_changed
from voipdesk.subscriptions.models import BillingGroup, PhoneLoan, Service, price_to_units


@dataclass(frozen=True)
class LoanView:
    id: str
    account_id: str
    billing_group_id: str
    service_id: str | None
    line_number: str | None
    order_id: str | None
    hardware_code: str
    deposit: Decimal
    state: str  # rules.LOAN_*
    lent_at: datetime
    return_opened_on: date | None
    return_due_on: date | None
    received_on: date | None
    refund_due_on: date | None
    refunded_at: datetime | None


def _view(session: Session, loan: PhoneLoan) -> LoanView:
    number = None
    if loan.service_id is not None:
        service = session.get(Service, loan.service_id)
        number = service.number_e164 if service is not None else None
    return LoanView(
        id=loan.id,
        account_id=loan.account_id,
        billing_group_id=loan.billing_group_id,
        service_id=loan.service_id,
        line_number=number,
        order_id=loan.order_id,
        hardware_code=loan.hardware_code,
        deposit=loan.deposit,
        state=loan.state,
        lent_at=loan.lent_at,
        return_opened_on=loan.return_opened_on,
        return_due_on=loan.return_due_on,
        received_on=loan.received_on,
        refund_due_on=loan.refund_due_on,
        refunded_at=loan.refunded_at,
    )


def group_loans(session: Session, group_id: str) -> list[LoanView]:
    """Every phone lent to the group, whatever its state, oldest first."""
    loans = session.scalars(
        select(PhoneLoan)
        .where(PhoneLoan.billing_group_id == group_id)
        .order_by(PhoneLoan.lent_at, PhoneLoan.id)
    )
    return [_view(session, loan) for loan in loans]


def loan(session: Session, loan_id: str, lock: bool = False) -> LoanView | None:
    row = session.get(PhoneLoan, loan_id, with_for_update=lock)
    return _view(session, row) if row is not None else None


def loans_in_states(session: Session, states: tuple[str, ...]) -> list[LoanView]:
    loans = session.scalars(
        select(PhoneLoan)
        .where(PhoneLoan.state.in_(states))
        .order_by(PhoneLoan.return_due_on, PhoneLoan.id)
    )
    return [_view(session, row) for row in loans]


def _locked(session: Session, loan_id: str) -> PhoneLoan:
    row = session.get(PhoneLoan, loan_id, with_for_update=True)
    if row is None:
        raise errors.LoanNotFound()
    return row


def attach_loan(
    session: Session,
    platform: Platform,
    loan_id: str,
    service_id: str | None,
    actor: str,
    what: str,
) -> LoanView:
    """Attaches a lent phone to a line of its group (None: to no line). The caller checked the
    line is live and of the loan's group."""
    row = _locked(session, loan_id)
    if row.state != rules.LOAN_LENT:
        raise errors.LoanNotReturnable()
    row.service_id = service_id
    record(session, platform, row.billing_group_id, service_id, actor, what)
    return _view(session, row)


def open_return(session: Session, platform: Platform, loan_id: str, actor: str) -> LoanView:
    """The customer sends a lent phone back: due within RETURN_WITHIN_DAYS days (a return
    already open stays as it is)."""
    row = _locked(session, loan_id)
    if row.state == rules.LOAN_LENT:
        open_hardware_return(row, platform.today())
        record(
            session,
            platform,
            row.billing_group_id,
            row.service_id,
            actor,
            f"hardware {row.id} return opened (due {row.return_due_on})",
        )
    elif row.state != rules.LOAN_RETURN_OPENED:
        raise errors.LoanNotReturnable()
    return _view(session, row)


def refuse_return(
    session: Session, platform: Platform, loan_id: str, actor: str, reason: str
) -> LoanView:
    """Staff refuse what came back (not the lent phone, damaged, incomplete): the deposit is
    kept, the return stays open for the right hardware."""
    row = _locked(session, loan_id)
    if row.state != rules.LOAN_RETURN_OPENED:
        raise errors.LoanNotReturnable()
    record(
        session,
        platform,
        row.billing_group_id,
        row.service_id,
        actor,
        f"hardware {row.id} return refused: {reason}"[:200],
    )
    return _view(session, row)


def number_is_held(session: Session, number: str) -> bool:
    """A live service (of anyone) already has this number."""
    return (
        session.scalar(
            select(Service.id).where(
                Service.number_e164 == number, Service.state.in_(rules.LIVE_STATES)
            )
        )
        is not None
    )


def add_ported_alias_numbers(
    session: Session,
    platform: Platform,
    group_id: str,
    numbers: list[str],
    monthly_price_excl_tax: Decimal,
    actor: str,
) -> list[str]:
    """The numbers a portability brought in become alias numbers of the group (a number the group
    already holds is left as it is). Returns the new services' ids."""
    group = session.get(BillingGroup, group_id, with_for_update=True)
    if group is None:
        raise errors.BillingGroupNotFound()
    now = platform.now()
    created: list[str] = []
    for number in numbers:
        existing = session.scalar(
            select(Service.id).where(
                Service.billing_group_id == group.id,
                Service.number_e164 == number,
                Service.state.in_(rules.LIVE_STATES),
            )
        )
        if existing is not None:
            continue
        service = Service(
            id=new_id(),
            billing_group_id=group.id,
            account_id=group.billing_account_id,
            tax_country=group.tax_country,
            renewal_mode=rules.AUTOMATIC,
            state=rules.ACTIVE,
            expiry_on=rules.end_of_month(platform.today()),
            kind=rules.KIND_ALIAS_NUMBER,
            number_e164=number,
            offer_code="alias-number",
            outgoing_calls=False,
            monthly_price_e4=price_to_units(monthly_price_excl_tax),
            created_at=now,
        )
        session.add(service)
        session.flush()
        created.append(service.id)
        record(session, platform, group.id, service.id, actor, f"alias_number {number} ported in")
    if created:
        services_changed(session, platform, created)
    return created


def refund_due_on(received_on: date) -> date:
    return received_on + timedelta(days=rules.REFUND_AFTER_RECEIPT_DAYS)


def refund_deposit(session: Session, platform: Platform, loan_id: str) -> LoanView | None:
    """Refunds a received phone's deposit through the payment provider, against the order's
    successful card or direct-debit payment. Without one (paid by bank transfer, or lent with no
    order), nothing goes to the provider: the history says the deposit waits for a transfer."""
    from voipdesk.payments import services as payments

    row = session.get(PhoneLoan, loan_id, with_for_update=True)
    if row is None or row.state != rules.LOAN_REFUNDING:
        return _view(session, row) if row is not None else None
    paid = [
        payment
        for payment in (payments.payments_of(session, row.order_id) if row.order_id else [])
        if payment.status == payments.SUCCEEDED and payment.provider_reference
    ]
    if not paid:
        record(
            session,
            platform,
            row.billing_group_id,
            row.service_id,
            "payments",
            f"hardware {row.id}: deposit {row.deposit:.2f} to refund by bank transfer "
            "(no card or direct-debit payment to refund)",
        )
        return _view(session, row)
    payment = paid[-1]
    reference = payments.get_provider(platform).refund(
        session,
        payment.provider_reference or "",
        amount=row.deposit,
        idempotency_key=f"deposit-refund:{row.id}",
    )
    row.state = rules.LOAN_REFUNDED
    row.refunded_at = platform.now()
    record(
        session,
        platform,
        row.billing_group_id,
        row.service_id,
        "payments",
        f"hardware {row.id}: deposit {row.deposit:.2f} {payment.currency} refunded through "
        f"the payment provider ({reference or payment.provider_reference})",
    )
    return _view(session, row)


def receive_return(session: Session, platform: Platform, loan_id: str, staff_id: str) -> LoanView:
    """Staff record the lent phone came back: its deposit is refunded 10 days later (job)."""
    from voipdesk.subscriptions.actions.terminations import record_hardware_received

    row = record_hardware_received(session, platform, loan_id, staff_id)
    return _view(session, row)
