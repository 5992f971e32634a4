"""What pages, the API and other areas read: a line's call log of a month (searchable, paged in
SQL), its totals, the statements of a billing group and their calls. Plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from voipdesk.consumption import errors, rules
from voipdesk.consumption.actions import amount_of_cents, amount_of_e4
from voipdesk.consumption.models import RatedCall, Statement
from voipdesk.core.pagination import cursor_key, encode_cursor
from voipdesk.subscriptions import queries as subscription_queries
from voipdesk.switch.models import CallRecord


@dataclass(frozen=True)
class CallLine:
    call_key: str
    started_at: datetime
    caller: str
    callee: str
    direction: str
    disposition: str
    duration_seconds: int
    line_number: str | None
    destination: str | None  # None while not rated yet
    billed_seconds: int
    included_seconds: int
    price: Decimal | None

    @property
    def other_party(self) -> str:
        """The number on the other end: who called for an incoming call, who was called else."""
        return self.caller if self.direction == "incoming" else self.callee


@dataclass(frozen=True)
class Totals:
    calls: int
    seconds: int
    price: Decimal  # rounded to the cent
    outgoing: int
    incoming: int


@dataclass(frozen=True)
class CallLog:
    month: date
    totals: Totals
    matching: int
    items: list[CallLine]
    next_cursor: str | None


def month_or_current(text: str | None, today_month: date) -> date:
    if not text:
        return today_month
    month = rules.parse_month(text)
    if month is None:
        raise errors.InvalidMonth(fields={"month": "Refused."})
    return month


def _search(text: str) -> list[str]:
    """The digits searched ("06 12" -> "612"; "+33 6" -> "336"): a number in any format."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return []
    patterns = [digits]
    if digits.startswith("0") and len(digits) > 1:
        patterns.append(digits[1:])  # national format: the digits after the trunk prefix
    return patterns


def _columns():  # type: ignore[no-untyped-def]
    return (
        CallRecord.call_key,
        CallRecord.started_at,
        CallRecord.caller,
        CallRecord.callee,
        CallRecord.direction,
        CallRecord.disposition,
        CallRecord.duration_seconds,
        CallRecord.line_number,
        RatedCall.destination,
        RatedCall.billed_seconds,
        RatedCall.included_seconds,
        RatedCall.price_e4,
    )


def _line(row) -> CallLine:  # type: ignore[no-untyped-def]
    return CallLine(
        call_key=row[0],
        started_at=row[1],
        caller=row[2],
        callee=row[3],
        direction=row[4],
        disposition=row[5],
        duration_seconds=int(row[6] or 0),
        line_number=row[7],
        destination=row[8],
        billed_seconds=int(row[9] or 0),
        included_seconds=int(row[10] or 0),
        price=amount_of_e4(row[11]) if row[11] is not None else None,
    )


def line_totals(session: Session, number: str, month: date) -> Totals:
    start, end = rules.month_bounds(month)
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(CallRecord.duration_seconds), 0),
            func.coalesce(func.sum(RatedCall.price_e4), 0),
            func.coalesce(func.sum(case((CallRecord.direction != "incoming", 1), else_=0)), 0),
        )
        .select_from(CallRecord)
        .outerjoin(RatedCall, RatedCall.call_key == CallRecord.call_key)
        .where(
            CallRecord.line_number == number,
            CallRecord.started_at >= start,
            CallRecord.started_at < end,
        )
    ).one()
    calls = int(row[0])
    return Totals(
        calls=calls,
        seconds=int(row[1]),
        price=rules.month_total([amount_of_e4(row[2])]),
        outgoing=int(row[3]),
        incoming=calls - int(row[3]),
    )


def _line_where(number: str, month: date, search: str = "") -> list[Any]:
    start, end = rules.month_bounds(month)
    where: list[Any] = [
        CallRecord.line_number == number,
        CallRecord.started_at >= start,
        CallRecord.started_at < end,
    ]
    patterns = _search(search)
    if patterns:
        where.append(
            or_(
                *[CallRecord.caller.contains(p, autoescape=True) for p in patterns],
                *[CallRecord.callee.contains(p, autoescape=True) for p in patterns],
            )
        )
    return where


def line_calls_select(number: str, month: date, search: str = "") -> Select[Any]:
    """The line's calls of the month with their rating, in no order (a page sorts it by one of
    `LINE_CALL_SORTS`, ties by `LINE_CALL_TIES`); rows read back by `call_line`."""
    return (
        select(*_columns())
        .outerjoin(RatedCall, RatedCall.call_key == CallRecord.call_key)
        .where(*_line_where(number, month, search))
    )


# What a line's call log sorts by (the pages' headers): the other party is who called for an
# incoming call, who was called else; the type is the rated destination.
LINE_CALL_SORTS: dict[str, Any] = {
    "date": CallRecord.started_at,
    "number": case(
        (CallRecord.direction == "incoming", CallRecord.caller), else_=CallRecord.callee
    ),
    "direction": CallRecord.direction,
    "duration": CallRecord.duration_seconds,
    "type": RatedCall.destination,
    "price": RatedCall.price_e4,
}
LINE_CALL_TIES = (CallRecord.started_at, CallRecord.call_key)


def call_line(row: Any) -> CallLine:
    """A row of `line_calls_select` as a CallLine."""
    return _line(row)


def line_matching(session: Session, number: str, month: date, search: str) -> int:
    """How many of the line's calls of the month the search finds."""
    where = _line_where(number, month, search)
    return int(session.scalar(select(func.count()).select_from(CallRecord).where(*where)) or 0)


def line_calls(
    session: Session,
    number: str,
    month: date,
    *,
    search: str = "",
    limit: int = 50,
    cursor: str | None = None,
) -> CallLog:
    """The line's calls of the month, newest first, in and out, with their rating."""
    matching = line_matching(session, number, month, search)
    key = cursor_key(cursor, datetime, str)
    statement = (
        line_calls_select(number, month, search)
        .order_by(CallRecord.started_at.desc(), CallRecord.call_key.desc())
        .limit(limit + 1)
    )
    if key is not None:
        after_at, after_key = key
        statement = statement.where(
            or_(
                CallRecord.started_at < after_at,
                and_(CallRecord.started_at == after_at, CallRecord.call_key < after_key),
            )
        )
    rows = [_line(row) for row in session.execute(statement)]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].started_at, rows[-1].call_key) if more and rows else None
    return CallLog(month, line_totals(session, number, month), matching, rows, next_cursor)


def all_line_calls(session: Session, number: str, month: date) -> list[CallLine]:
    """Every call of the line's month, oldest first (the CSV)."""
    start, end = rules.month_bounds(month)
    return [
        _line(row)
        for row in session.execute(
            select(*_columns())
            .outerjoin(RatedCall, RatedCall.call_key == CallRecord.call_key)
            .where(
                CallRecord.line_number == number,
                CallRecord.started_at >= start,
                CallRecord.started_at < end,
            )
            .order_by(CallRecord.started_at, CallRecord.call_key)
        )
    ]


# --- Statements -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StatementView:
    billing_group_id: str
    month: date
    calls: int
    seconds: int
    total: Decimal  # beyond-plan amount, excl. tax, to the cent
    created_at: datetime
    invoiced_period: date | None


def _statement(row: Statement) -> StatementView:
    return StatementView(
        billing_group_id=row.billing_group_id,
        month=row.month,
        calls=row.calls,
        seconds=int(row.seconds),
        total=amount_of_cents(row.beyond_plan_cents),
        created_at=row.created_at,
        invoiced_period=row.invoiced_period,
    )


def statements(session: Session, account_id: str, group_id: str) -> list[StatementView]:
    """The group's statements, newest first (404 for a group of someone else)."""
    subscription_queries.account_group(session, account_id, group_id)
    rows = session.scalars(
        select(Statement)
        .where(Statement.billing_group_id == group_id)
        .order_by(Statement.month.desc())
    )
    return [_statement(row) for row in rows]


@dataclass(frozen=True)
class StatementDetail:
    statement: StatementView
    group_name: str
    account_id: str
    by_destination: list[tuple[str, int, int, Decimal]]  # destination, calls, seconds, price
    calls: list[CallLine]


def statement_detail(
    session: Session, account_id: str, group_id: str, month: date
) -> StatementDetail:
    group = subscription_queries.account_group(session, account_id, group_id)
    row = session.get(Statement, (group_id, month))
    if row is None:
        raise errors.StatementNotFound()
    calls = [
        _line(r)
        for r in session.execute(
            select(*_columns())
            .join(RatedCall, RatedCall.call_key == CallRecord.call_key)
            .where(RatedCall.billing_group_id == group_id, RatedCall.month == month)
            .order_by(CallRecord.line_number, CallRecord.started_at, CallRecord.call_key)
        )
    ]
    summary: dict[str, list[int]] = {}
    for call in calls:
        entry = summary.setdefault(call.destination or rules.DEST_OTHER, [0, 0, 0])
        entry[0] += 1
        entry[1] += call.billed_seconds
        entry[2] += int((call.price or Decimal(0)) * 10000)
    by_destination = [
        (dest, values[0], values[1], amount_of_e4(values[2]))
        for dest, values in sorted(
            summary.items(), key=lambda item: rules.DESTINATIONS.index(item[0])
        )
    ]
    return StatementDetail(_statement(row), group.name, group.account_id, by_destination, calls)
