"""Terminations of services and groups, and the return of loaned phones (deposits)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.subscriptions import errors, rules
from voipdesk.subscriptions.actions.changes import (
    _check_live,
    _new_change,
    record,
)
from voipdesk.subscriptions.actions.reading import (
    get_group,
    get_numbered_service,
    pending_changes,
)
from voipdesk.subscriptions.models import (
    PendingChange,
    PhoneLoan,
    Service,
)


# Terminations
# --------------------------------------------------------------------------------------------------
def _check_reason(reason: str, details: str | None) -> None:
    problem = rules.termination_reason_problem(reason, details)
    if problem is not None:
        field = "details" if reason in rules.TERMINATION_REASONS else "reason"
        raise errors.InvalidTerminationReason(fields={field: problem})


def pool_members(session: Session, service: Service) -> list[Service]:
    if service.pool_id is None:
        return [service]
    return list(
        session.scalars(
            select(Service)
            .where(Service.pool_id == service.pool_id, Service.state.in_(rules.LIVE_STATES))
            .order_by(Service.number_e164)
        )
    )


def request_termination(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    kinds: tuple[str, ...],
    reason: str,
    details: str | None,
    confirm_pool: bool = False,
) -> PendingChange:
    """Terminates a line, trunk, fax line or alias number at the next renewal. A pool number
    terminates the whole pool: refused until the customer confirms it knowing so."""
    service = get_numbered_service(session, account_id, group_id, number, kinds)
    _check_live(service)
    _check_reason(reason, details)
    members = pool_members(session, service)
    if len(members) > 1 and not confirm_pool:
        raise errors.PoolTerminationNeedsConfirmation(
            number=number,
            count=len(members),
            extra={"pool_numbers": [m.number_e164 for m in members]},
        )
    return _new_change(
        session,
        platform,
        service,
        group_id,
        rules.CHANGE_TERMINATION,
        f"account:{account_id}",
        reason=reason,
        details=(details or "").strip() or None,
    )


def terminate_group(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    reason: str,
    details: str | None,
) -> PendingChange:
    group = get_group(session, account_id, group_id, lock=True)
    if group.state != "active":
        raise errors.ServiceNotLive(state=group.state)
    _check_reason(reason, details)
    for older in pending_changes(session, group.id):
        if older.kind == rules.CHANGE_GROUP_TERMINATION:
            older.state = rules.CANCELLED
            older.cancelled_at = platform.now()
    return _new_change(
        session,
        platform,
        None,
        group.id,
        rules.CHANGE_GROUP_TERMINATION,
        f"account:{account_id}",
        reason=reason,
        details=(details or "").strip() or None,
    )


# --------------------------------------------------------------------------------------------------
# Hardware returns
# --------------------------------------------------------------------------------------------------
def record_hardware_received(
    session: Session, platform: Platform, loan_id: str, staff_id: str
) -> PhoneLoan:
    """Staff record the receipt; the deposit is refunded 10 days later (job)."""
    loan = session.get(PhoneLoan, loan_id, with_for_update=True)
    if loan is None:
        raise errors.LoanNotFound()
    if loan.state in (rules.LOAN_RECEIVED, rules.LOAN_REFUNDING, rules.LOAN_REFUNDED):
        return loan
    if loan.state != rules.LOAN_RETURN_OPENED:
        raise errors.LoanNotReturnable()
    today = platform.today()
    loan.state = rules.LOAN_RECEIVED
    loan.received_on = today
    loan.refund_due_on = today + timedelta(days=rules.REFUND_AFTER_RECEIPT_DAYS)
    record(
        session,
        platform,
        loan.billing_group_id,
        loan.service_id,
        f"staff:{staff_id}",
        f"hardware {loan.id} received",
    )
    return loan


def refund_due_deposits(platform: Platform) -> int:
    """Asks the refund of the deposits whose day has come: the loan waits in `refunding` until the
    outbox handler has refunded it through the payment provider (`loans.refund_deposit`)."""
    from voipdesk.core.outbox import enqueue

    today = platform.today()
    with platform.transaction() as session:
        loans = session.scalars(
            select(PhoneLoan)
            .where(PhoneLoan.state == rules.LOAN_RECEIVED, PhoneLoan.refund_due_on <= today)
            .with_for_update(skip_locked=True)
        ).all()
        for loan in loans:
            loan.state = rules.LOAN_REFUNDING
            enqueue(
                session,
                "subscriptions.refund_deposit",
                {"loan_id": loan.id, "account_id": loan.account_id, "amount": str(loan.deposit)},
                platform.now(),
                dedup_key=f"deposit-refund:{loan.id}",
            )
        return len(loans)


# --------------------------------------------------------------------------------------------------
