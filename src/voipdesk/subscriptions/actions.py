"""What customers and staff do with billing groups and services.

Functions take the caller's session (the API or page opens ONE transaction per action). Changes
that wait for the next renewal are `PendingChange` rows, cancellable until they apply; the renewal
run (billing area) applies them with set-based SQL.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.db import new_id
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import errors, rules
from voipdesk.subscriptions.models import (
    BillingContactChange,
    BillingGroup,
    DeletionRequest,
    PendingChange,
    PhoneLoan,
    Service,
    ServiceEvent,
    price_to_units,
    units_to_price,
)

OFFER_LABELS = {
    catalogue_rules.SIP_DECOUVERTE: "Découverte",
    catalogue_rules.SIP_ENTREPRISE: "Entreprise",
    catalogue_rules.SIP_TRUNK: "Trunk",
}


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------
def list_groups(session: Session, account_id: str) -> list[BillingGroup]:
    return list(
        session.scalars(
            select(BillingGroup)
            .where(BillingGroup.account_id == account_id)
            .order_by(BillingGroup.created_at, BillingGroup.id)
        )
    )


def get_group(session: Session, account_id: str, group_id: str, lock: bool = False) -> BillingGroup:
    group = session.get(BillingGroup, group_id, with_for_update=lock)
    if group is None or group.account_id != account_id:
        raise errors.BillingGroupNotFound()
    return group


def group_services(
    session: Session, group_id: str, kinds: tuple[str, ...] | None = None
) -> list[Service]:
    query = select(Service).where(
        Service.billing_group_id == group_id, Service.state.in_(rules.LIVE_STATES)
    )
    if kinds:
        query = query.where(Service.kind.in_(kinds))
    return list(session.scalars(query.order_by(Service.number_e164, Service.kind, Service.id)))


def get_numbered_service(
    session: Session, account_id: str, group_id: str, number: str, kinds: tuple[str, ...]
) -> Service:
    group = get_group(session, account_id, group_id)
    service = session.scalar(
        select(Service)
        .where(
            Service.billing_group_id == group.id,
            Service.number_e164 == number,
            Service.kind.in_(kinds),
            Service.state.in_(rules.LIVE_STATES),
        )
        .with_for_update()
    )
    if service is None:
        raise errors.ServiceNotFound()
    return service


def get_account_service(session: Session, account_id: str, service_id: str) -> Service:
    service = session.get(Service, service_id, with_for_update=True)
    if service is None or service.account_id != account_id or service.state == rules.DELETED:
        raise errors.ServiceNotFound()
    return service


def list_account_services(session: Session, account_id: str) -> list[Service]:
    return list(
        session.scalars(
            select(Service)
            .where(Service.account_id == account_id, Service.state != rules.DELETED)
            .order_by(Service.billing_group_id, Service.number_e164, Service.id)
        )
    )


def pending_changes(
    session: Session, group_id: str, service_id: str | None = None
) -> list[PendingChange]:
    query = select(PendingChange).where(
        PendingChange.billing_group_id == group_id, PendingChange.state == rules.PENDING
    )
    if service_id is not None:
        query = query.where(PendingChange.service_id == service_id)
    return list(session.scalars(query.order_by(PendingChange.requested_at, PendingChange.id)))


def has_auto_renewing_services(session: Session, account_id: str) -> bool:
    """For the orders area: the default payment method is needed while this is true."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Service)
            .where(
                Service.account_id == account_id,
                Service.renewal_mode == rules.AUTOMATIC,
                Service.state.in_(rules.LIVE_STATES),
            )
        )
    )


def live_services_count(session: Session, account_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Service)
            .where(Service.account_id == account_id, Service.state.in_(rules.LIVE_STATES))
        )
        or 0
    )


# --------------------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------------------
def record(
    session: Session,
    platform: Platform,
    group_id: str,
    service_id: str | None,
    actor: str,
    what: str,
) -> None:
    session.add(
        ServiceEvent(
            billing_group_id=group_id,
            service_id=service_id,
            at=platform.now(),
            actor=actor,
            what=what[:200],
        )
    )


def _effective_on(platform: Platform) -> date:
    return rules.effective_on(platform.now(), platform.settings.timezone)


def _check_live(service: Service) -> None:
    if service.state not in rules.LIVE_STATES:
        raise errors.ServiceNotLive(state=service.state)


def _new_change(
    session: Session,
    platform: Platform,
    service: Service | None,
    group_id: str,
    kind: str,
    actor: str,
    **values: object,
) -> PendingChange:
    """Stores a pending change; a newer exclusive change of the same service replaces the older."""
    now = platform.now()
    if service is not None:
        replaced_kinds = rules.EXCLUSIVE_CHANGES if kind in rules.EXCLUSIVE_CHANGES else {kind}
        for older in session.scalars(
            select(PendingChange).where(
                PendingChange.service_id == service.id,
                PendingChange.state == rules.PENDING,
                PendingChange.kind.in_(replaced_kinds),
            )
        ):
            older.state = rules.CANCELLED
            older.cancelled_at = now
    change = PendingChange(
        id=new_id(),
        billing_group_id=group_id,
        service_id=service.id if service is not None else None,
        kind=kind,
        effective_on=_effective_on(platform),
        state=rules.PENDING,
        requested_at=now,
        requested_by=actor,
        params={},
        **values,
    )
    session.add(change)
    record(session, platform, group_id, change.service_id, actor, f"requested {kind}")
    session.flush()
    return change


def cancel_pending_change(
    session: Session, platform: Platform, account_id: str, group_id: str, change_id: str
) -> PendingChange:
    """Cancels a change that has not applied yet. Cancelling twice is harmless."""
    group = get_group(session, account_id, group_id)
    change = session.get(PendingChange, change_id, with_for_update=True)
    if change is None or change.billing_group_id != group.id:
        raise errors.PendingChangeNotFound()
    if change.state == rules.PENDING:
        change.state = rules.CANCELLED
        change.cancelled_at = platform.now()
        record(
            session,
            platform,
            group.id,
            change.service_id,
            f"account:{account_id}",
            f"cancelled {change.kind}",
        )
    elif change.state == rules.APPLIED:
        raise errors.ServiceNotLive(state="applied")
    return change


def cancel_service_change(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    kinds: tuple[str, ...],
    service_kinds: tuple[str, ...],
) -> list[PendingChange]:
    """Cancels the pending change(s) of these kinds on one line or number (nothing pending: ok)."""
    service = get_numbered_service(session, account_id, group_id, number, service_kinds)
    cancelled = []
    for change in pending_changes(session, group_id, service.id):
        if change.kind in kinds:
            cancelled.append(
                cancel_pending_change(session, platform, account_id, group_id, change.id)
            )
    return cancelled


# --------------------------------------------------------------------------------------------------
# Offers
# --------------------------------------------------------------------------------------------------
def offer_monthly_price(
    session: Session, offer_code: str, country: str, on: date, calls: int = 1
) -> Decimal:
    """The monthly price of a line on `offer_code` with `calls` simultaneous calls."""
    from voipdesk.catalogue.queries import prices_on

    try:
        prices = prices_on(session, offer_code, country, on)
    except Exception:  # no catalogue price: keep the change possible, priced at 0 extra
        prices = {}
    monthly = prices.get("monthly", Decimal("0"))
    extra_price = prices.get("extra_call_monthly", rules.EXTRA_CALL_MONTHLY_PRICE)
    calls_range = catalogue_rules.simultaneous_calls_range(offer_code)
    extra = calls_range.extra_calls(calls) if calls_range else 0
    return monthly + extra_price * extra


def available_offers(service: Service) -> list[str]:
    return sorted(catalogue_rules.allowed_offer_changes(service.offer_code))


def request_offer_change(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    numbers: list[str],
    offer_code: str,
) -> list[PendingChange]:
    """One line or several at once: all are checked before any is changed."""
    lines = [
        get_numbered_service(session, account_id, group_id, number, rules.LINE_KINDS)
        for number in dict.fromkeys(numbers)
    ]
    if not lines:
        raise errors.ServiceNotFound()
    for line in lines:
        _check_live(line)
        if not catalogue_rules.is_offer_change_allowed(line.offer_code, offer_code):
            refusal = (
                errors.EntrepriseNeverDecouverte
                if (line.offer_code, offer_code)
                == (catalogue_rules.SIP_ENTREPRISE, catalogue_rules.SIP_DECOUVERTE)
                else errors.OfferChangeNotAllowed
            )
            raise refusal(
                number=line.number_e164,
                current=OFFER_LABELS.get(line.offer_code, line.offer_code),
                target=OFFER_LABELS.get(offer_code, offer_code),
                fields={"offer": "This offer is not available for this line."},
            )
    changes = []
    on = _effective_on(platform)
    for line in lines:
        calls_range = catalogue_rules.simultaneous_calls_range(offer_code)
        calls = (
            max(line.simultaneous_calls, calls_range.minimum)
            if calls_range
            else line.simultaneous_calls
        )
        if calls_range:
            calls = min(calls, calls_range.maximum)
        price = offer_monthly_price(session, offer_code, line.tax_country, on, calls)
        changes.append(
            _new_change(
                session,
                platform,
                line,
                group_id,
                rules.CHANGE_OFFER,
                f"account:{account_id}",
                new_offer_code=offer_code,
                new_simultaneous_calls=calls,
                new_monthly_price_e4=price_to_units(price),
            )
        )
    return changes


# --------------------------------------------------------------------------------------------------
# Simultaneous calls
# --------------------------------------------------------------------------------------------------
@dataclass
class CallsIncrease:
    """An increase: the purchase order to pay (prorated for the current month)."""

    service_id: str
    current_calls: int
    new_calls: int
    prorated_excl_tax: Decimal
    monthly_increase_excl_tax: Decimal
    order_id: str | None


def set_simultaneous_calls(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    total: int,
    accept_terms: bool,
) -> PendingChange | CallsIncrease:
    line = get_numbered_service(session, account_id, group_id, number, rules.LINE_KINDS)
    _check_live(line)
    calls_range = catalogue_rules.simultaneous_calls_range(line.offer_code)
    if calls_range is None or not calls_range.adjustable:
        raise errors.SimultaneousCallsFixed(
            offer=OFFER_LABELS.get(line.offer_code, line.offer_code),
            calls=calls_range.maximum if calls_range else 1,
        )
    if not calls_range.allows(total):
        raise errors.SimultaneousCallsOutOfRange(
            minimum=calls_range.minimum,
            maximum=calls_range.maximum,
            calls=total,
            fields={"simultaneous_calls": "Out of the offer's range."},
        )
    if total == line.simultaneous_calls:
        raise errors.SimultaneousCallsUnchanged(calls=total)
    if total < line.simultaneous_calls:
        # A decrease waits for the renewal; never below what the offer includes (checked above).
        price = line.monthly_price_excl_tax - rules.EXTRA_CALL_MONTHLY_PRICE * (
            calls_range.extra_calls(line.simultaneous_calls) - calls_range.extra_calls(total)
        )
        return _new_change(
            session,
            platform,
            line,
            group_id,
            rules.CHANGE_CALLS_DECREASE,
            f"account:{account_id}",
            new_simultaneous_calls=total,
            new_monthly_price_e4=price_to_units(max(price, Decimal("0"))),
        )
    if not accept_terms:
        raise errors.TermsNotAccepted(fields={"accept_terms": "Required."})
    extra = total - line.simultaneous_calls
    monthly = rules.EXTRA_CALL_MONTHLY_PRICE * extra
    today = platform.today()
    prorated = rules.prorated_amount(monthly, today, rules.end_of_month(today))
    order_id = _order_calls_increase(session, platform, account_id, line, total, prorated, monthly)
    record(
        session,
        platform,
        group_id,
        line.id,
        f"account:{account_id}",
        f"ordered {total} simultaneous calls",
    )
    return CallsIncrease(line.id, line.simultaneous_calls, total, prorated, monthly, order_id)


def _order_calls_increase(
    session: Session,
    platform: Platform,
    account_id: str,
    line: Service,
    total: int,
    prorated: Decimal,
    monthly: Decimal,
) -> str | None:
    """The purchase order through the orders area, which calls `apply_calls_increase` (outbox
    topic "subscriptions.calls_increase_paid") once it is paid."""
    from voipdesk.core.i18n import gettext
    from voipdesk.orders.actions import create_custom_order

    label = "Simultaneous calls: +%(count)s (%(number)s)"
    values = {"count": total - line.simultaneous_calls, "number": line.number_e164}
    order = create_custom_order(
        session,
        platform,
        account_id=account_id,
        description=gettext("en", label, **values),
        description_fr=gettext("fr", label, **values),
        amount_excl_tax=prorated,
        monthly_excl_tax=monthly,
        billing_group_id=line.billing_group_id,
        on_paid=(
            "subscriptions.calls_increase_paid",
            {"service_id": line.id, "simultaneous_calls": total},
        ),
    )
    return str(order.id)


def apply_calls_increase(session: Session, platform: Platform, service_id: str, total: int) -> None:
    """Takes effect as soon as the order is paid (idempotent: a repeat changes nothing)."""
    line = session.get(Service, service_id, with_for_update=True)
    if line is None or line.state not in rules.LIVE_STATES or line.simultaneous_calls >= total:
        return
    added = total - line.simultaneous_calls
    line.simultaneous_calls = total
    line.monthly_price_e4 += price_to_units(rules.EXTRA_CALL_MONTHLY_PRICE * added)
    record(
        session, platform, line.billing_group_id, line.id, "order", f"simultaneous calls -> {total}"
    )


# --------------------------------------------------------------------------------------------------
# Conversions
# --------------------------------------------------------------------------------------------------
def convert_line_to_alias(
    session: Session, platform: Platform, account_id: str, group_id: str, number: str
) -> PendingChange:
    line = get_numbered_service(session, account_id, group_id, number, rules.LINE_KINDS)
    _check_live(line)
    price = offer_monthly_price(
        session, catalogue_rules.ALIAS_NUMBER, line.tax_country, _effective_on(platform)
    )
    return _new_change(
        session,
        platform,
        line,
        group_id,
        rules.CHANGE_TO_ALIAS,
        f"account:{account_id}",
        new_kind=rules.KIND_ALIAS_NUMBER,
        new_offer_code=catalogue_rules.ALIAS_NUMBER,
        new_monthly_price_e4=price_to_units(price or Decimal("1.00")),
    )


def convert_alias_to_line(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    offer_code: str,
    accept_contracts: bool,
) -> PendingChange:
    alias = get_numbered_service(session, account_id, group_id, number, (rules.KIND_ALIAS_NUMBER,))
    _check_live(alias)
    if alias.pool_id is not None:
        raise errors.PoolNumberConversion(number=number)
    if offer_code not in (
        catalogue_rules.SIP_DECOUVERTE,
        catalogue_rules.SIP_ENTREPRISE,
        catalogue_rules.SIP_TRUNK,
    ):
        raise errors.OfferChangeNotAllowed(
            number=number,
            current="alias",
            target=offer_code,
            fields={"offer": "Choose a SIP line offer."},
        )
    if not accept_contracts:
        raise errors.TermsNotAccepted(fields={"accept_contracts": "Required."})
    calls_range = catalogue_rules.simultaneous_calls_range(offer_code)
    calls = calls_range.minimum if calls_range else 1
    price = offer_monthly_price(
        session, offer_code, alias.tax_country, _effective_on(platform), calls
    )
    return _new_change(
        session,
        platform,
        alias,
        group_id,
        rules.CHANGE_TO_LINE,
        f"account:{account_id}",
        new_kind=rules.KIND_SIP_LINE,
        new_offer_code=offer_code,
        new_simultaneous_calls=calls,
        new_monthly_price_e4=price_to_units(price),
    )


# --------------------------------------------------------------------------------------------------
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
    if loan.state in (rules.LOAN_RECEIVED, rules.LOAN_REFUNDED):
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
    """Marks deposits refunded once their day has come (the refund goes through the outbox)."""
    from voipdesk.core.outbox import enqueue

    today = platform.today()
    with platform.transaction() as session:
        loans = session.scalars(
            select(PhoneLoan)
            .where(PhoneLoan.state == rules.LOAN_RECEIVED, PhoneLoan.refund_due_on <= today)
            .with_for_update(skip_locked=True)
        ).all()
        for loan in loans:
            loan.state = rules.LOAN_REFUNDED
            loan.refunded_at = platform.now()
            enqueue(
                session,
                "subscriptions.refund_deposit",
                {"loan_id": loan.id, "account_id": loan.account_id, "amount": str(loan.deposit)},
                platform.now(),
                dedup_key=f"deposit-refund:{loan.id}",
            )
        return len(loans)


# --------------------------------------------------------------------------------------------------
# End of service (service management)
# --------------------------------------------------------------------------------------------------
def set_renewal_mode(
    session: Session, platform: Platform, account_id: str, service_id: str, mode: str
) -> Service:
    service = get_account_service(session, account_id, service_id)
    _check_live(service)
    if mode not in rules.RENEWAL_MODES:
        from voipdesk.core.errors import InvalidInput

        raise InvalidInput(fields={"renewal_mode": "Choose automatic or manual."})
    if service.renewal_mode != mode:
        service.renewal_mode = mode
        record(
            session,
            platform,
            service.billing_group_id,
            service.id,
            f"account:{account_id}",
            f"renewal {mode}",
        )
    return service


def cancel_at_expiry(
    session: Session,
    platform: Platform,
    account_id: str,
    service_id: str,
    reason: str,
    details: str | None,
) -> Service:
    service = get_account_service(session, account_id, service_id)
    _check_live(service)
    _check_reason(reason, details)
    service.cancel_at_expiry = True
    service.cancel_reason = reason
    service.cancel_details = (details or "").strip() or None
    record(
        session,
        platform,
        service.billing_group_id,
        service.id,
        f"account:{account_id}",
        "cancel at expiry",
    )
    return service


def undo_cancel_at_expiry(
    session: Session, platform: Platform, account_id: str, service_id: str
) -> Service:
    service = get_account_service(session, account_id, service_id)
    _check_live(service)
    if service.cancel_at_expiry:
        service.cancel_at_expiry = False
        service.cancel_reason = None
        service.cancel_details = None
        record(
            session,
            platform,
            service.billing_group_id,
            service.id,
            f"account:{account_id}",
            "cancel undone",
        )
    return service


DELETE_LINK_VALID = timedelta(hours=24)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_delete_now(
    session: Session, platform: Platform, account_id: str, service_id: str
) -> str:
    """Sends the e-mail with a single-use confirmation link; returns the token (for the e-mail)."""
    from voipdesk.accounts.emails import send_service_email

    service = get_account_service(session, account_id, service_id)
    _check_live(service)
    token = secrets.token_urlsafe(32)
    now = platform.now()
    session.add(
        DeletionRequest(
            id=new_id(),
            service_id=service.id,
            account_id=account_id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + DELETE_LINK_VALID,
        )
    )
    account = session.get(Account, account_id)
    assert account is not None
    link = f"{platform.settings.base_url.rstrip('/')}/services/delete-now/{token}"
    send_service_email(
        session,
        platform,
        account=account,
        kind="service-delete-confirmation",
        template="subscriptions/delete_now",
        context={"service": describe(service), "link": link, "token": token},
    )
    return token


def confirm_delete_now(
    session: Session, platform: Platform, account_id: str | None, token: str
) -> Service:
    request = session.scalar(
        select(DeletionRequest)
        .where(DeletionRequest.token_hash == _token_hash(token))
        .with_for_update()
    )
    now = platform.now()
    if (
        request is None
        or request.used_at is not None
        or request.expires_at <= now
        or (account_id is not None and request.account_id != account_id)
    ):
        raise errors.DeletionLinkInvalid()
    request.used_at = now
    service = session.get(Service, request.service_id, with_for_update=True)
    assert service is not None
    delete_service_now(session, platform, service, f"account:{request.account_id}")
    return service


def delete_service_now(session: Session, platform: Platform, service: Service, actor: str) -> None:
    """Deleted at once and for good: the service, its options (a pool number takes its pool)."""
    now = platform.now()
    targets = (
        pool_members(session, service) if service.kind == rules.KIND_ALIAS_NUMBER else [service]
    )
    ids = [target.id for target in targets]
    targets += list(
        session.scalars(
            select(Service).where(
                Service.parent_service_id.in_(ids), Service.state != rules.DELETED
            )
        )
    )
    for target in targets:
        target.state = rules.DELETED
        target.deleted_at = now
        target.sip_password = None
        record(session, platform, target.billing_group_id, target.id, actor, "deleted now")
    for change in session.scalars(
        select(PendingChange).where(
            PendingChange.service_id.in_([t.id for t in targets]),
            PendingChange.state == rules.PENDING,
        )
    ):
        change.state = rules.CANCELLED
        change.cancelled_at = now
    for loan in session.scalars(
        select(PhoneLoan).where(
            PhoneLoan.service_id.in_([t.id for t in targets]), PhoneLoan.state == rules.LOAN_LENT
        )
    ):
        open_hardware_return(loan, platform.today())


def open_hardware_return(loan: PhoneLoan, today: date) -> None:
    loan.state = rules.LOAN_RETURN_OPENED
    loan.return_opened_on = today
    loan.return_due_on = today + timedelta(days=rules.RETURN_WITHIN_DAYS)


def describe(service: Service) -> str:
    label = OFFER_LABELS.get(service.offer_code, service.offer_code)
    return f"{label} {service.number_e164 or ''}".strip()


def monthly_price(service: Service) -> Decimal:
    return units_to_price(service.monthly_price_e4)


# --------------------------------------------------------------------------------------------------
# Billing contact
# --------------------------------------------------------------------------------------------------
def find_contact(session: Session, handle_or_email: str) -> Account:
    """A customer account named by its handle or e-mail (closed and staff accounts excluded)."""
    wanted = (handle_or_email or "").strip().lower()
    account = (
        session.scalar(
            select(Account).where(
                or_(Account.handle == wanted, func.lower(Account.email) == wanted),
                Account.closed_at.is_(None),
                Account.is_staff.is_(False),
            )
        )
        if wanted
        else None
    )
    if account is None:
        raise errors.BillingContactUnknown(
            contact=handle_or_email,
            fields={"billing_contact": "Give the handle or e-mail of an open customer account."},
        )
    return account


def waiting_contact_change(session: Session, group_id: str) -> BillingContactChange | None:
    return session.scalar(
        select(BillingContactChange).where(BillingContactChange.waiting_for_group == group_id)
    )


def request_billing_contact_change(
    session: Session, platform: Platform, account_id: str, group_id: str, new_contact: str
) -> BillingContactChange:
    """The owner names a new billing contact for the group; that contact is asked to accept."""
    from voipdesk.accounts.emails import send_service_email

    group = get_group(session, account_id, group_id, lock=True)
    contact = find_contact(session, new_contact)
    if contact.id == group.billing_account_id:
        raise errors.BillingContactUnchanged(
            contact=contact.handle, fields={"billing_contact": "Name another account."}
        )
    waiting = waiting_contact_change(session, group.id)
    if waiting is not None:
        waiting_for = session.get(Account, waiting.to_account_id)
        raise errors.BillingContactChangeWaiting(
            contact=waiting_for.handle if waiting_for else waiting.to_account_id
        )
    actor = f"account:{account_id}"
    change = BillingContactChange(
        id=new_id(),
        billing_group_id=group.id,
        waiting_for_group=group.id,
        from_account_id=group.billing_account_id,
        to_account_id=contact.id,
        state=rules.CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE,
        requested_at=platform.now(),
        requested_by=actor,
    )
    session.add(change)
    record(session, platform, group.id, None, actor, f"billing contact change to {contact.handle}")
    session.flush()
    owner = session.get(Account, group.account_id)
    assert owner is not None
    send_service_email(
        session,
        platform,
        account=contact,
        kind="billing-contact-request",
        template="subscriptions/billing_contact_request",
        context={
            "group_name": group.name,
            "owner": f"{owner.display_name} ({owner.handle})",
            "requests_url": f"{platform.settings.base_url.rstrip('/')}/telephony",
        },
    )
    return change


def incoming_contact_requests(session: Session, account_id: str) -> list[BillingContactChange]:
    """Requests to become the billing contact of someone's group, waiting for this account."""
    return list(
        session.scalars(
            select(BillingContactChange)
            .where(
                BillingContactChange.to_account_id == account_id,
                BillingContactChange.state == rules.CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE,
            )
            .order_by(BillingContactChange.requested_at, BillingContactChange.id)
        )
    )


def _incoming(session: Session, account_id: str, change_id: str) -> BillingContactChange:
    change = session.get(BillingContactChange, change_id, with_for_update=True)
    if (
        change is None
        or change.to_account_id != account_id
        or change.state != rules.CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE
    ):
        raise errors.BillingContactRequestNotFound()
    return change


def accept_billing_contact_request(
    session: Session, platform: Platform, account_id: str, change_id: str
) -> BillingContactChange:
    """The named contact accepts. It applies at once when that contact is validated for VoIP (or
    its country has no procedure); otherwise it waits, and the contact gets the procedure."""
    from voipdesk.validation.gate import request_for_billing_contact_change

    change = _incoming(session, account_id, change_id)
    actor = f"account:{account_id}"
    record(session, platform, change.billing_group_id, None, actor, "billing contact accepted")
    procedure = request_for_billing_contact_change(
        session, platform, account_id, [change.billing_group_id]
    )
    if procedure is None:
        _apply_contact_change(session, platform, change, actor)
    else:
        _decide(change, rules.CONTACT_CHANGE_WAITING, platform)
        change.procedure_id = procedure.id
    return change


def refuse_billing_contact_request(
    session: Session, platform: Platform, account_id: str, change_id: str
) -> BillingContactChange:
    change = _incoming(session, account_id, change_id)
    _decide(change, rules.CONTACT_CHANGE_REFUSED, platform)
    record(
        session,
        platform,
        change.billing_group_id,
        None,
        f"account:{account_id}",
        "billing contact change refused",
    )
    return change


def cancel_billing_contact_change(
    session: Session, platform: Platform, account_id: str, group_id: str
) -> BillingContactChange:
    group = get_group(session, account_id, group_id, lock=True)
    change = waiting_contact_change(session, group.id)
    if change is None:
        raise errors.BillingContactChangeNotFound()
    _decide(change, rules.CONTACT_CHANGE_CANCELLED, platform)
    record(
        session,
        platform,
        group.id,
        None,
        f"account:{account_id}",
        "billing contact change cancelled",
    )
    return change


def release_billing_contact_changes(
    session: Session, platform: Platform, account_id: str
) -> list[BillingContactChange]:
    """Called when `account_id` is validated for VoIP: the changes waiting for it apply."""
    waiting = list(
        session.scalars(
            select(BillingContactChange)
            .where(
                BillingContactChange.to_account_id == account_id,
                BillingContactChange.state == rules.CONTACT_CHANGE_WAITING,
            )
            .order_by(BillingContactChange.requested_at, BillingContactChange.id)
            .with_for_update()
        )
    )
    for change in waiting:
        _apply_contact_change(session, platform, change, "validation")
    return waiting


def _decide(change: BillingContactChange, target: str, platform: Platform) -> None:
    if not rules.can_change_contact_state(change.state, target):
        raise errors.BillingContactChangeNotFound()
    change.state = target
    if target not in rules.CONTACT_CHANGE_OPEN_STATES:
        change.decided_at = platform.now()
        change.waiting_for_group = None


def _apply_contact_change(
    session: Session, platform: Platform, change: BillingContactChange, actor: str
) -> None:
    """The group and every service it holds are now invoiced to the new billing contact."""
    from voipdesk.accounts.emails import send_service_email

    group = session.get(BillingGroup, change.billing_group_id, with_for_update=True)
    assert group is not None
    _decide(change, rules.CONTACT_CHANGE_APPLIED, platform)
    group.billing_account_id = change.to_account_id
    session.execute(
        update(Service)
        .where(Service.billing_group_id == group.id, Service.state != rules.DELETED)
        .values(account_id=change.to_account_id)
    )
    new_contact = session.get(Account, change.to_account_id)
    assert new_contact is not None
    record(session, platform, group.id, None, actor, f"billing contact is now {new_contact.handle}")
    for recipient_id in dict.fromkeys((group.account_id, change.from_account_id, new_contact.id)):
        recipient = session.get(Account, recipient_id)
        if recipient is None or recipient.closed_at is not None:
            continue
        send_service_email(
            session,
            platform,
            account=recipient,
            kind="billing-contact-changed",
            template="subscriptions/billing_contact_changed",
            context={
                "group_name": group.name,
                "new_contact": f"{new_contact.display_name} ({new_contact.handle})",
                "is_new_contact": recipient.id == new_contact.id,
            },
        )
