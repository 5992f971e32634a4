"""Demo call records: a few calls of the current month on the delivered customer's lines (in
and out, answered or not, to fixed, mobile, special and international numbers), rated, so that
the Consumption tab and the spending cap have something to show. Stored once (stable keys)."""

from __future__ import annotations

from datetime import timedelta

from voipdesk.consumption import rules, services
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscription_queries
from voipdesk.subscriptions.rules import LINE_KINDS
from voipdesk.switch.services import Call, store_calls

# (hours after the month's start, direction, other party, seconds, disposition)
CALLS = (
    (9, "outgoing", "+33145678901", 185, "answered"),
    (10, "incoming", "+33612345678", 62, "answered"),
    (11, "outgoing", "+33612345678", 421, "answered"),
    (12, "incoming", "+33198765432", 0, "no_answer"),
    (13, "outgoing", "+33899123456", 95, "answered"),
    (14, "outgoing", "+14155552671", 610, "answered"),
    (15, "outgoing", "+33800123456", 40, "answered"),
    (16, "outgoing", "+33670000001", 0, "busy"),
)


def seed_group_calls(platform: Platform, group_id: str) -> None:
    with platform.transaction() as session:
        lines = subscription_queries.group_services(session, group_id, LINE_KINDS)
        if not lines:
            return
        month_start, _ = rules.month_bounds(rules.month_of(platform.now()))
        now = platform.now()
        calls = []
        for index, (hours, direction, other, seconds, disposition) in enumerate(CALLS):
            line = lines[index % len(lines)].number
            started = min(month_start + timedelta(hours=hours), now - timedelta(minutes=index + 1))
            answered = started + timedelta(seconds=5) if disposition == "answered" else None
            calls.append(
                Call(
                    call_key=f"demo-{group_id}-{index}",
                    caller=other if direction == "incoming" else line,
                    callee=line if direction == "incoming" else other,
                    direction=direction,
                    line_number=line,
                    billing_group_id=group_id,
                    route="external",
                    target=None,
                    started_at=started,
                    answered_at=answered,
                    ended_at=(answered or started) + timedelta(seconds=seconds),
                    duration_seconds=seconds,
                    disposition=disposition,
                    sip_code=200 if disposition == "answered" else 486,
                    reason=None,
                    source="switch",
                )
            )
        store_calls(session, calls)
    services.rate_everything_pending(platform)
