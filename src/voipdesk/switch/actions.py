"""The switch's use cases on the voipdesk side (one transaction each)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from voipdesk.core import events
from voipdesk.core.platform import Platform
from voipdesk.switch.models import CallRecord

CALL_ENDED = "switch.call_ended"
ANNOUNCE_BATCH = 500


def announce_ended_calls(session: Session, platform: Platform, limit: int = ANNOUNCE_BATCH) -> int:
    """Publishes `switch.call_ended` for calls recorded but not announced yet, oldest first, once
    each (the event's key is the call's identity); returns how many."""
    rows = list(
        session.scalars(
            select(CallRecord)
            .where(CallRecord.announced_at.is_(None))
            .order_by(CallRecord.ended_at, CallRecord.call_key)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    now = platform.now()
    for row in rows:
        events.publish(
            session,
            CALL_ENDED,
            {
                "call_key": row.call_key,
                "caller": row.caller,
                "callee": row.callee,
                "direction": row.direction,
                "line_number": row.line_number,
                "billing_group_id": row.billing_group_id,
                "route": row.route,
                "started_at": row.started_at.isoformat(),
                "answered_at": row.answered_at.isoformat() if row.answered_at else None,
                "ended_at": row.ended_at.isoformat() if row.ended_at else None,
                "duration_seconds": row.duration_seconds,
                "disposition": row.disposition,
                "sip_code": row.sip_code,
                "reason": row.reason,
            },
            now=now,
            key=row.call_key,
        )
    if rows:
        session.execute(
            update(CallRecord)
            .where(CallRecord.call_key.in_([row.call_key for row in rows]))
            .values(announced_at=now)
        )
    return len(rows)
