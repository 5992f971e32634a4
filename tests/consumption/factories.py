"""Call records for the consumption tests, stored through the switch's public interface (as the
switch module and an import do)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from voipdesk.core.platform import Platform
from voipdesk.switch.services import Call, store_calls

_keys = itertools.count(1)


def call(
    line: str,
    group: str | None,
    callee: str,
    started_at: datetime,
    seconds: int,
    *,
    direction: str = "outgoing",
    caller: str | None = None,
    disposition: str = "answered",
    key: str | None = None,
) -> Call:
    answered = started_at + timedelta(seconds=5) if disposition == "answered" else None
    return Call(
        call_key=key or f"test-call-{next(_keys)}",
        caller=caller or (line if direction != "incoming" else "+33198765432"),
        callee=callee if direction != "incoming" else line,
        direction=direction,
        line_number=line,
        billing_group_id=group,
        route="external",
        target=None,
        started_at=started_at,
        answered_at=answered,
        ended_at=(answered or started_at) + timedelta(seconds=seconds),
        duration_seconds=seconds if disposition == "answered" else 0,
        disposition=disposition,
        sip_code=200 if disposition == "answered" else 486,
        reason=None,
    )


def store(platform: Platform, *calls: Call) -> int:
    with platform.transaction() as session:
        return store_calls(session, list(calls))
