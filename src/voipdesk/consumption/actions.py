"""Use cases of the consumption area, each in the caller's transaction (one per call of a page,
the API, the worker or the renewal run).

Rating works per line and month: the month's calls are rated again together, oldest first, so
that inclusions are consumed in call order whatever order the records arrived in; the rated rows
replace the old ones (same call keys). Rating again gives the same rows: it is idempotent.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import structlog
from sqlalchemy import Date, bindparam, delete, func, insert, select, text
from sqlalchemy.orm import Session

from voipdesk.accounts.emails import send_service_email
from voipdesk.accounts.models import Account
from voipdesk.catalogue import queries as catalogue_queries
from voipdesk.consumption import errors, rules
from voipdesk.consumption.models import (
    ANY_PLAN,
    Adjustment,
    CapMonth,
    Inclusion,
    Rate,
    RatedCall,
    SpendingCap,
    Statement,
)
from voipdesk.core.db import UTCDateTime
from voipdesk.core.money import Money
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscription_queries
from voipdesk.subscriptions import services as subscriptions
from voipdesk.switch import services as switch
from voipdesk.switch.models import CallRecord
from voipdesk.telephony import services as telephony

log = structlog.get_logger(__name__)

E4 = Decimal(10000)
PENDING_BATCH = 5000  # unrated call records looked at per transaction


def e4_of(amount: Decimal) -> int:
    return int((amount * E4).to_integral_value())


def amount_of_e4(value: int) -> Decimal:
    return (Decimal(int(value)) / E4).quantize(rules.PRICE_QUANTUM)


def amount_of_cents(value: int) -> Decimal:
    return (Decimal(int(value)) / 100).quantize(rules.CENT)


# --- Rate book: the stored rate tables, effective-dated ------------------------------------------
class RateBook:
    """The rate tables as stored (read once per use case), with the built-in defaults of `rules`
    for what they do not price."""

    def __init__(self, session: Session) -> None:
        self._rates: dict[tuple[str, str], list[tuple[date, date | None, rules.Rate]]] = (
            defaultdict(list)
        )
        for row in session.scalars(select(Rate).order_by(Rate.valid_from)):
            self._rates[(row.plan, row.destination)].append(
                (
                    row.valid_from,
                    row.valid_until,
                    rules.Rate(
                        per_minute=row.per_minute,
                        connection_fee=row.connection_fee,
                        first_increment=row.first_increment,
                        next_increment=row.next_increment,
                    ),
                )
            )
        self._inclusions: dict[str, list[Inclusion]] = defaultdict(list)
        for inclusion in session.scalars(
            select(Inclusion).order_by(Inclusion.position, Inclusion.id)
        ):
            self._inclusions[inclusion.plan].append(inclusion)
        self._plans: dict[tuple[str, tuple[str, ...], date], rules.Plan] = {}

    def _rate(self, plan: str, destination: str, day: date) -> rules.Rate | None:
        periods = self._rates.get((plan, destination))
        if not periods:
            return None
        index = bisect_right([p[0] for p in periods], day) - 1
        if index < 0:
            return None
        _start, until, rate = periods[index]
        return rate if until is None or day < until else None

    def _included(self, code: str, day: date) -> tuple[rules.Inclusion, ...]:
        rows = self._inclusions.get(code)
        if rows is None or not rows:
            return tuple(rules.DEFAULT_INCLUSIONS.get(code, ()))
        return tuple(
            rules.Inclusion(row.name, frozenset(row.destinations), row.seconds)
            for row in rows
            if row.valid_from <= day and (row.valid_until is None or day < row.valid_until)
        )

    def plan(self, offer: str, options: Iterable[str], day: date) -> rules.Plan:
        key = (offer, tuple(sorted(options)), day)
        found = self._plans.get(key)
        if found is not None:
            return found
        rates: dict[str, rules.Rate] = {}
        for destination in rules.DESTINATIONS:
            rate = self._rate(offer, destination, day) or self._rate(ANY_PLAN, destination, day)
            rates[destination] = rate or rules.DEFAULT_RATES[destination]
        inclusions = list(self._included(offer, day))
        for option in key[1]:
            inclusions.extend(self._included(option, day))
        found = self._plans[key] = rules.Plan(rates, tuple(inclusions))
        return found


@dataclass(frozen=True)
class LineInfo:
    number: str
    billing_group_id: str | None
    offer: str
    options: tuple[str, ...]
    region: str | None


def line_info(session: Session, number: str, group_id: str | None) -> LineInfo:
    """The offer and options that price a line's calls (a line no longer live: the general
    rates, no inclusions)."""
    view = subscription_queries.live_line_by_number(session, number)
    if view is None:
        return LineInfo(number, group_id, ANY_PLAN, (), rules.region_of(number))
    facts = subscriptions.service_facts(session, [view.id])
    options = tuple(sorted(facts[0].options)) if facts else ()
    return LineInfo(
        number, view.billing_group_id, view.offer_code, options, rules.region_of(number)
    )


def _facts(call: switch.Call) -> rules.CallFacts:
    return rules.CallFacts(
        call_key=call.call_key,
        started_at=call.started_at,
        direction=call.direction,
        callee=call.callee,
        duration_seconds=call.duration_seconds,
        answered=call.disposition == "answered" and call.duration_seconds > 0,
    )


def rate_line_month(
    session: Session,
    book: RateBook,
    number: str,
    month: date,
    classifier: rules.DestinationCache | None = None,
) -> tuple[str | None, int]:
    """Rates (again) one line's calls of one month; returns its group and the month's e4 total."""
    start, end = rules.month_bounds(month)
    calls = switch.calls_between(session, start, end, line_numbers=[number])
    group = next((c.billing_group_id for c in calls if c.billing_group_id), None)
    info = line_info(session, number, group)
    group = group or info.billing_group_id
    rated = rules.rate_month(
        [_facts(c) for c in calls],
        info.region,
        lambda day: book.plan(info.offer, info.options, day),
        classifier or rules.classify,
    )
    by_key = {c.call_key: c for c in calls}
    session.execute(
        delete(RatedCall).where(RatedCall.line_number == number, RatedCall.month == month)
    )
    rows = [
        {
            "call_key": r.call_key,
            "billing_group_id": by_key[r.call_key].billing_group_id or group,
            "line_number": number,
            "month": r.month,
            "started_at": by_key[r.call_key].started_at,
            "destination": r.destination,
            "billed_seconds": r.billed_seconds,
            "included_seconds": r.included_seconds,
            "price_e4": e4_of(r.price),
        }
        for r in rated
    ]
    if rows:
        session.execute(insert(RatedCall), rows)
    return group, sum(e4_of(r.price) for r in rated)


def unrated_line_months(session: Session, limit: int = PENDING_BATCH) -> set[tuple[str, date]]:
    """Lines and months that have call records not rated yet (a bounded look)."""
    rows = session.execute(
        select(CallRecord.line_number, CallRecord.started_at)
        .outerjoin(RatedCall, RatedCall.call_key == CallRecord.call_key)
        .where(RatedCall.call_key.is_(None), CallRecord.line_number.is_not(None))
        .limit(limit)
    ).all()
    return {(str(number), rules.month_of(started)) for number, started in rows}


def rate_pending(session: Session, platform: Platform, limit: int = PENDING_BATCH) -> int:
    """Rates the lines and months with new call records; checks their groups' spending caps at
    once (warnings, block). Returns how many line-months were rated."""
    pairs = unrated_line_months(session, limit)
    if not pairs:
        return 0
    book = RateBook(session)
    classifier = rules.DestinationCache()
    groups: set[tuple[str, date]] = set()
    for number, month in sorted(pairs):
        group, _total = rate_line_month(session, book, number, month, classifier)
        if group:
            groups.add((group, month))
    session.flush()
    for group, month in sorted(groups):
        check_cap(session, platform, group, month)
    return len(pairs)


# --- Spending cap ---------------------------------------------------------------------------------
CAP_EMAIL_KIND = "spending_cap"


def _owner(session: Session, group_id: str) -> Account | None:
    group = subscription_queries.group_by_id(session, group_id)
    return session.get(Account, group.account_id) if group is not None else None


def cap_limits(session: Session, platform: Platform, group_id: str) -> rules.CapLimits:
    """The group's default cap and range, by the catalogue's policy of today and its owner's
    age (a new customer's are lower)."""
    owner = _owner(session, group_id)
    policy = catalogue_queries.spending_cap_policy(session, platform.today())
    return rules.cap_limits(policy, owner.created_at if owner is not None else None, platform.now())


def cap_of(session: Session, platform: Platform, group_id: str) -> Decimal:
    row = session.get(SpendingCap, group_id)
    return row.amount if row is not None else cap_limits(session, platform, group_id).default


def spent_e4(session: Session, group_id: str, month: date) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(RatedCall.price_e4), 0)).where(
                RatedCall.billing_group_id == group_id, RatedCall.month == month
            )
        )
        or 0
    )


def current_month(platform: Platform) -> date:
    return rules.month_of(platform.now())


def check_cap(session: Session, platform: Platform, group_id: str, month: date) -> CapMonth:
    """The group's beyond-plan amount of the month against its cap: each warning e-mailed once
    per arming (50, 80, 90 %; armed again when the amount falls below it, e.g. the cap raised:
    `rules.cap_warnings`), and at 100 % the switch told (the lines' routing records) until the
    cap is raised above the amount or the month ends."""
    now = platform.now()
    row = session.get(CapMonth, (group_id, month), with_for_update=True)
    if row is None:
        row = CapMonth(
            billing_group_id=group_id, month=month, spent_e4=0, warned=[], reached=False,
            updated_at=now,
        )  # fmt: skip
        session.add(row)
    spent = spent_e4(session, group_id, month)
    cap = cap_of(session, platform, group_id)
    spent_amount = amount_of_e4(spent)
    reached = rules.thresholds_reached(spent_amount, cap)
    live = month == current_month(platform)
    row.spent_e4 = spent
    row.updated_at = now
    if live:
        warnings = rules.cap_warnings(row.warned or [], spent_amount, cap)
        for threshold in warnings.send:
            _cap_email(session, platform, group_id, month, threshold, spent_amount, cap)
        row.warned = list(warnings.warned)
    row.reached = live and rules.BLOCK_THRESHOLD in reached
    session.flush()
    if live and telephony.set_spending_cap_reached(session, platform, group_id, row.reached):
        state = "reached: calls beyond the plan blocked" if row.reached else "lifted"
        subscriptions.record_history(
            session, platform, group_id, None, "system:spending-cap",
            f"spending cap {state} ({spent_amount.quantize(rules.CENT)} of {cap} EUR)",
        )  # fmt: skip
    return row


def _cap_email(
    session: Session,
    platform: Platform,
    group_id: str,
    month: date,
    threshold: int,
    spent: Decimal,
    cap: Decimal,
) -> None:
    owner = _owner(session, group_id)
    group = subscription_queries.group_by_id(session, group_id)
    if owner is None or group is None:
        return
    send_service_email(
        session,
        platform,
        account=owner,
        kind=CAP_EMAIL_KIND,
        template="consumption/spending_cap",
        context={
            "group": group.name,
            "threshold": threshold,
            "blocked": threshold >= rules.BLOCK_THRESHOLD,
            "spent": Money(spent.quantize(rules.CENT)),
            "cap": Money(cap),
            "month": month,
            "url": f"{platform.settings.base_url.rstrip('/')}/telephony/{group_id}/spending-cap",
        },
    )
    log.info(
        "consumption.cap_warning", group=group_id, month=month.isoformat(), threshold=threshold
    )


@dataclass(frozen=True)
class CapView:
    billing_group_id: str
    amount: Decimal
    is_default: bool
    limits: rules.CapLimits
    month: date
    spent: Decimal
    reached: bool
    warned: tuple[int, ...]

    @property
    def percent(self) -> int:
        return int(self.spent * 100 / self.amount) if self.amount > 0 else 100


def spending_cap(session: Session, platform: Platform, account_id: str, group_id: str) -> CapView:
    subscription_queries.account_group(session, account_id, group_id)  # 404 for anyone else's
    return _cap_view(session, platform, group_id)


def _cap_view(session: Session, platform: Platform, group_id: str) -> CapView:
    month = current_month(platform)
    stored = session.get(SpendingCap, group_id)
    limits = cap_limits(session, platform, group_id)
    row = session.get(CapMonth, (group_id, month))
    return CapView(
        billing_group_id=group_id,
        amount=stored.amount if stored is not None else limits.default,
        is_default=stored is None,
        limits=limits,
        month=month,
        spent=amount_of_e4(spent_e4(session, group_id, month)).quantize(rules.CENT),
        reached=bool(row is not None and row.reached),
        warned=tuple(row.warned or []) if row is not None else (),
    )


def set_spending_cap(
    session: Session, platform: Platform, account_id: str, group_id: str, amount: Decimal,
    actor: str,
) -> CapView:  # fmt: skip
    """Changes the group's cap within its limits, above what is already spent this month; calls
    beyond the plan pass again at once when the new cap is above the month's amount."""
    subscription_queries.account_group(session, account_id, group_id)
    subscriptions.lock_group(session, group_id)
    month = current_month(platform)
    spent = amount_of_e4(spent_e4(session, group_id, month))
    try:
        rules.check_cap(amount, cap_limits(session, platform, group_id), spent)
    except rules.Refusal as refusal:
        raise errors.from_refusal(refusal) from None
    row = session.get(SpendingCap, group_id)
    before = row.amount if row is not None else None
    if row is None:
        row = SpendingCap(billing_group_id=group_id, amount=amount, updated_at=platform.now(),
                          updated_by=actor)  # fmt: skip
        session.add(row)
    else:
        row.amount, row.updated_at, row.updated_by = amount, platform.now(), actor
    session.flush()
    check_cap(session, platform, group_id, month)
    subscriptions.record_history(
        session,
        platform,
        group_id,
        None,
        actor,
        f"spending cap: {before if before is not None else 'default'} -> {amount} EUR",
    )
    return _cap_view(session, platform, group_id)


def release_past_months(session: Session, platform: Platform) -> int:
    """A new month: caps reached last month no longer block (the month's amount starts at 0)."""
    month = current_month(platform)
    rows = list(
        session.scalars(select(CapMonth).where(CapMonth.reached.is_(True), CapMonth.month < month))
    )
    for row in rows:
        row.reached = False
        now_row = session.get(CapMonth, (row.billing_group_id, month))
        if now_row is None or not now_row.reached:
            telephony.set_spending_cap_reached(session, platform, row.billing_group_id, False)
    return len(rows)


# --- Statements -----------------------------------------------------------------------------------
def make_statements(session: Session, platform: Platform, month: date, low: str, high: str) -> int:
    """The statements of the month for the groups low < id <= high that had calls (one
    set-based statement; those already made are kept as they are)."""
    result = session.execute(
        text(
            """INSERT INTO consumption_statement (billing_group_id, month, calls, seconds,
                   total_e4, beyond_plan_cents, created_at, invoiced_period)
               SELECT r.billing_group_id, :month, COUNT(*),
                      CAST(COALESCE(SUM(r.billed_seconds), 0) AS BIGINT),
                      CAST(COALESCE(SUM(r.price_e4), 0) AS BIGINT),
                      (CAST(COALESCE(SUM(r.price_e4), 0) AS BIGINT) + 50) / 100,
                      :now, NULL
               FROM consumption_rated_call r
               WHERE r.month = :month AND r.billing_group_id > :low AND r.billing_group_id <= :high
               GROUP BY r.billing_group_id
               ON CONFLICT DO NOTHING"""
        ).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("month", type_=Date())),
        {"month": month, "now": platform.now(), "low": low, "high": high},
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class InvoiceLineDraft:
    billing_group_id: str
    description_fr: str
    description_en: str
    amount_cents: int
    period_start: date
    period_end: date


def invoice_lines(
    session: Session, period_start: date, group_ids: Sequence[str]
) -> list[InvoiceLineDraft]:
    """What the invoice of `period_start` charges for consumption, for these groups whose
    invoice is being made now: the month before's beyond-plan amount and the re-rating
    differences not invoiced yet. Each is marked invoiced here, so it is charged once."""
    from dateutil.relativedelta import relativedelta

    from voipdesk.core.i18n import format_date, gettext

    if not group_ids:
        return []
    month = rules.previous_month(period_start)
    month_end = month + relativedelta(months=1, days=-1)
    drafts: list[InvoiceLineDraft] = []
    statements = session.scalars(
        select(Statement).where(
            Statement.month == month,
            Statement.billing_group_id.in_(list(group_ids)),
            Statement.invoiced_period.is_(None),
        )
    ).all()

    def month_text(language: str, value: date) -> str:
        return format_date(value, language, "MMMM y")

    for statement in statements:
        statement.invoiced_period = period_start
        if statement.beyond_plan_cents <= 0:
            continue
        drafts.append(
            InvoiceLineDraft(
                statement.billing_group_id,
                gettext("fr", "Calls beyond the plan, %(month)s", month=month_text("fr", month)),
                gettext("en", "Calls beyond the plan, %(month)s", month=month_text("en", month)),
                int(statement.beyond_plan_cents),
                month,
                month_end,
            )
        )
    adjustments = session.scalars(
        select(Adjustment).where(
            Adjustment.billing_group_id.in_(list(group_ids)), Adjustment.invoiced_period.is_(None)
        )
    ).all()
    for adjustment in adjustments:
        adjustment.invoiced_period = period_start
        if adjustment.difference_cents == 0:
            continue
        drafts.append(
            InvoiceLineDraft(
                adjustment.billing_group_id,
                gettext(
                    "fr", "Calls re-rated, %(month)s: ", month=month_text("fr", adjustment.month)
                )
                + adjustment.explanation,  # as staff wrote it
                gettext(
                    "en", "Calls re-rated, %(month)s: ", month=month_text("en", adjustment.month)
                )
                + adjustment.explanation,
                int(adjustment.difference_cents),
                adjustment.month,
                adjustment.month + relativedelta(months=1, days=-1),
            )
        )
    session.flush()
    return drafts


# --- Re-rating ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RerateResult:
    month: date
    lines: int
    groups_changed: int
    difference_cents: int


def rerate_month(
    session: Session, platform: Platform, month: date, explanation: str, actor: str
) -> RerateResult:
    """Rates every line's calls of the month again with today's rate tables. For a group whose
    statement was already made, the difference from what it was charged (statement and earlier
    adjustments) becomes an adjustment for the next invoice, with `explanation`. Run twice, the
    second finds no difference: nothing more is charged or credited."""
    start, end = rules.month_bounds(month)
    numbers = sorted(
        {
            str(n)
            for (n,) in session.execute(
                select(CallRecord.line_number)
                .where(
                    CallRecord.started_at >= start,
                    CallRecord.started_at < end,
                    CallRecord.line_number.is_not(None),
                )
                .distinct()
            )
        }
    )
    book = RateBook(session)
    classifier = rules.DestinationCache()
    groups: set[str] = set()
    for number in numbers:
        group, _ = rate_line_month(session, book, number, month, classifier)
        if group:
            groups.add(group)
    session.flush()
    changed = 0
    total = 0
    for group in sorted(groups):
        statement = session.get(Statement, (group, month))
        if statement is None:
            if month == current_month(platform):
                check_cap(session, platform, group, month)
            continue
        new_cents = (spent_e4(session, group, month) + 50) // 100
        charged = int(statement.beyond_plan_cents) + int(
            session.scalar(
                select(func.coalesce(func.sum(Adjustment.difference_cents), 0)).where(
                    Adjustment.billing_group_id == group, Adjustment.month == month
                )
            )
            or 0
        )
        difference = new_cents - charged
        if difference == 0:
            continue
        session.add(
            Adjustment(
                billing_group_id=group,
                month=month,
                difference_cents=difference,
                explanation=explanation[:300],
                details={"charged_cents": charged, "rerated_cents": new_cents},
                created_at=platform.now(),
                created_by=actor,
            )
        )
        changed += 1
        total += difference
    session.flush()
    log.info("consumption.rerated", month=month.isoformat(), lines=len(numbers), groups=changed)
    return RerateResult(month, len(numbers), changed, total)


# --- Rate tables (staff) --------------------------------------------------------------------------
def set_rate(
    session: Session,
    *,
    plan: str,
    destination: str,
    per_minute: Decimal,
    connection_fee: Decimal,
    first_increment: int,
    next_increment: int,
    valid_from: date,
    actor: str,
) -> Rate:
    """A new rate from `valid_from`: the one in force before it ends that day (its history kept)."""
    if destination not in rules.DESTINATIONS:
        raise errors.UnknownDestination(value=destination, fields={"destination": "Refused."})
    try:
        rules.Rate(per_minute, connection_fee, first_increment, next_increment)
    except ValueError as bad:
        raise errors.InvalidRate(reason=str(bad)) from None
    rows = list(
        session.scalars(
            select(Rate)
            .where(Rate.plan == plan, Rate.destination == destination)
            .order_by(Rate.valid_from)
            .with_for_update()
        )
    )
    same_day = next((r for r in rows if r.valid_from == valid_from), None)
    later = [r for r in rows if r.valid_from > valid_from]
    if same_day is not None:
        row = same_day
        row.per_minute, row.connection_fee = per_minute, connection_fee
        row.first_increment, row.next_increment = first_increment, next_increment
        row.updated_by = actor
    else:
        for earlier in rows:
            if earlier.valid_from < valid_from and (
                earlier.valid_until is None or earlier.valid_until > valid_from
            ):
                earlier.valid_until = valid_from
        row = Rate(
            plan=plan,
            destination=destination,
            per_minute=per_minute,
            connection_fee=connection_fee,
            first_increment=first_increment,
            next_increment=next_increment,
            valid_from=valid_from,
            valid_until=later[0].valid_from if later else None,
            updated_by=actor,
        )
        session.add(row)
    session.flush()
    return row


def rates(session: Session) -> list[Rate]:
    return list(
        session.scalars(select(Rate).order_by(Rate.plan, Rate.destination, Rate.valid_from))
    )
