"""What other areas read from and give to the switch: plain functions and dataclasses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from voipdesk.switch.models import ActiveCall, CallRecord, SecurityEvent


@dataclass(frozen=True)
class Call:
    """One call record, as the switch reports it or a file imports it."""

    call_key: str
    caller: str
    callee: str
    direction: str
    line_number: str | None
    billing_group_id: str | None
    route: str
    target: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int
    disposition: str
    sip_code: int
    reason: str | None
    source: str = "switch"


def store_calls(session: Session, calls: Sequence[Call]) -> int:
    """Stores the calls not stored yet (by their `call_key`); returns how many were new."""
    if not calls:
        return 0
    unique = {call.call_key: call for call in calls}
    known = set(
        session.scalars(select(CallRecord.call_key).where(CallRecord.call_key.in_(list(unique))))
    )
    new = [asdict(call) for key, call in unique.items() if key not in known]
    if new:
        session.execute(insert(CallRecord), new)
    return len(new)


def calls_between(
    session: Session, start: datetime, end: datetime, *, line_numbers: Iterable[str] | None = None
) -> list[Call]:
    """The calls started in [start, end), oldest first; of some lines only when given."""
    statement = (
        select(CallRecord)
        .where(CallRecord.started_at >= start, CallRecord.started_at < end)
        .order_by(CallRecord.started_at, CallRecord.call_key)
    )
    if line_numbers is not None:
        statement = statement.where(CallRecord.line_number.in_(list(line_numbers)))
    return [_call(row) for row in session.scalars(statement)]


def _call(row: CallRecord) -> Call:
    return Call(
        call_key=row.call_key,
        caller=row.caller,
        callee=row.callee,
        direction=row.direction,
        line_number=row.line_number,
        billing_group_id=row.billing_group_id,
        route=row.route,
        target=row.target,
        started_at=row.started_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        duration_seconds=row.duration_seconds,
        disposition=row.disposition,
        sip_code=row.sip_code,
        reason=row.reason,
        source=row.source,
    )


@dataclass(frozen=True)
class CallInProgress:
    call_key: str
    caller: str
    callee: str
    direction: str
    started_at: datetime
    answered_at: datetime | None


def calls_in_progress(session: Session, line_number: str) -> list[CallInProgress]:
    """The line's calls ringing or answered now, oldest first."""
    rows = session.scalars(
        select(ActiveCall)
        .where(ActiveCall.line_number == line_number)
        .order_by(ActiveCall.started_at)
    )
    return [
        CallInProgress(
            call_key=row.call_key,
            caller=row.caller,
            callee=row.callee,
            direction=row.direction,
            started_at=row.started_at,
            answered_at=row.answered_at,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class SecurityNotice:
    at: datetime
    kind: str
    ip: str
    sip_username: str | None
    detail: str | None


def security_events(session: Session, limit: int = 100) -> list[SecurityNotice]:
    """The switch's latest failed authentications, bans, floods and refused registrations."""
    rows = session.scalars(
        select(SecurityEvent)
        .order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
        .limit(limit)
    )
    return [
        SecurityNotice(
            at=row.at, kind=row.kind, ip=row.ip, sip_username=row.sip_username, detail=row.detail
        )
        for row in rows
    ]


def latest_calls(session: Session, limit: int = 20) -> list[Call]:
    rows = session.scalars(
        select(CallRecord).order_by(CallRecord.started_at.desc(), CallRecord.call_key).limit(limit)
    )
    return [_call(row) for row in rows]


def calls_in_progress_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ActiveCall)) or 0)
