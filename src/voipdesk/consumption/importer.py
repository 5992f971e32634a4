"""Call records imported from a CSV file, for operators who run another switch.

The format (UTF-8, comma-separated, a header line; the columns in any order, those marked
optional may be left out):

    call_key          optional: the call's stable identity in the other switch (a Call-ID);
                      without it, the identity is made from line, caller, callee and start
    caller            the calling number (E.164) or "anonymous"
    callee            the number called (E.164 for external numbers)
    direction         outgoing | incoming | internal
    line_number       the customer's line or number the call belongs to (E.164)
    started_at        ISO 8601 with its offset (2026-03-02T09:00:00+01:00, or ...Z)
    answered_at       optional, ISO 8601
    ended_at          optional, ISO 8601
    duration_seconds  answered seconds (0 for a call not answered)
    disposition       answered | busy | no_answer | refused | failed
    sip_code          optional, the final SIP status (200, 486...)
    billing_group_id  optional: found from the line when left out

A file imported twice stores each call once (by its identity); a bad line stops the import of
its chunk with the line's number and what is wrong, nothing of that chunk stored.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from sqlalchemy.orm import Session

from voipdesk.consumption import errors
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscription_queries
from voipdesk.switch import services as switch

REQUIRED = ("caller", "callee", "direction", "line_number", "started_at", "duration_seconds",
            "disposition")  # fmt: skip
DIRECTIONS = ("outgoing", "incoming", "internal")
DISPOSITIONS = ("answered", "busy", "no_answer", "refused", "failed")
CHUNK = 5000


@dataclass
class ImportResult:
    read: int = 0
    stored: int = 0

    @property
    def already_known(self) -> int:
        return self.read - self.stored


def _instant(value: str, line: int, column: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise errors.InvalidImport(line=line, reason=f"{column} is not an ISO 8601 date") from None
    if stamp.tzinfo is None:
        raise errors.InvalidImport(line=line, reason=f"{column} has no UTC offset")
    return stamp.astimezone(UTC)


def call_key_for(row: Mapping[str, str]) -> str:
    identity = "|".join(
        (row["line_number"], row["caller"], row["callee"], row["started_at"], row["direction"])
    )
    return "import:" + hashlib.sha256(identity.encode()).hexdigest()[:40]


Values = tuple[
    str, str, str, str, str, str | None, datetime, datetime | None, datetime | None, int, str, int
]  # call_key, caller, callee, direction, line_number, billing_group_id, started_at, answered_at,
#    ended_at, duration_seconds, disposition, sip_code


def row_values(row: Mapping[str, str], line: int) -> Values:
    """The checked values of one line of the format (the format's rule, for the per-row import
    and the bulk one alike): `InvalidImport` with the line's number and what is wrong."""
    get = row.get
    caller = (get("caller") or "").strip()
    callee = (get("callee") or "").strip()
    direction = (get("direction") or "").strip()
    number = (get("line_number") or "").strip()
    started = (get("started_at") or "").strip()
    disposition = (get("disposition") or "").strip()
    if (
        not (caller and callee and direction and number and started and disposition)
        or not (get("duration_seconds") or "").strip()
    ):
        for column in REQUIRED:  # the first missing, in the format's order
            if not (row.get(column) or "").strip():
                raise errors.InvalidImport(line=line, reason=f"{column} is missing")
    if direction not in DIRECTIONS:
        raise errors.InvalidImport(line=line, reason=f"direction {direction!r} is not known")
    if disposition not in DISPOSITIONS:
        raise errors.InvalidImport(line=line, reason=f"disposition {disposition!r} is not known")
    try:
        duration = int(row["duration_seconds"])
        sip_code = int(row.get("sip_code") or (200 if disposition == "answered" else 0))
    except ValueError:
        raise errors.InvalidImport(line=line, reason="a number is not an integer") from None
    if duration < 0:
        raise errors.InvalidImport(line=line, reason="duration_seconds is negative")
    answered = get("answered_at") or ""
    ended = get("ended_at") or ""
    key = (get("call_key") or "").strip() or call_key_for(row)
    return (
        key[:200],
        caller[:64],
        callee[:64],
        direction,
        number[:20],
        (get("billing_group_id") or "").strip() or None,
        _instant(started, line, "started_at"),
        _instant(answered, line, "answered_at") if answered.strip() else None,
        _instant(ended, line, "ended_at") if ended.strip() else None,
        duration,
        disposition,
        sip_code,
    )


def parse_row(row: Mapping[str, str], line: int) -> switch.Call:
    (key, caller, callee, direction, number, group, started, answered, ended, duration,
     disposition, sip_code) = row_values(row, line)  # fmt: skip
    return switch.Call(
        call_key=key,
        caller=caller,
        callee=callee,
        direction=direction,
        line_number=number,
        billing_group_id=group,
        route="import",
        target=None,
        started_at=started,
        answered_at=answered,
        ended_at=ended,
        duration_seconds=duration,
        disposition=disposition,
        sip_code=sip_code,
        reason=None,
        source="import",
    )


def read_calls(source: IO[str]) -> Iterator[switch.Call]:
    reader = csv.DictReader(source)
    try:
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise errors.InvalidImport(line=1, reason="columns missing: " + ", ".join(missing))
        for index, row in enumerate(reader, start=2):
            yield parse_row(row, index)
    except csv.Error as broken:
        raise errors.InvalidImport(line=reader.line_num, reason=str(broken)) from None


def _with_groups(session: Session, calls: list[switch.Call]) -> list[switch.Call]:
    known: dict[str, str | None] = {}
    out = []
    for call in calls:
        if call.billing_group_id is None and call.line_number:
            if call.line_number not in known:
                view = subscription_queries.live_line_by_number(session, call.line_number)
                known[call.line_number] = view.billing_group_id if view is not None else None
            call = switch.Call(**{**call.__dict__, "billing_group_id": known[call.line_number]})
        out.append(call)
    return out


def import_calls(
    platform: Platform,
    calls: Iterable[switch.Call],
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Stores the calls not stored yet, one transaction per chunk; rates them afterwards (the
    rating job, or `rate` here) so that inclusions are consumed in call order."""
    result = ImportResult()
    chunk: list[switch.Call] = []

    def flush() -> None:
        with platform.transaction() as session:
            result.stored += switch.store_calls(session, _with_groups(session, chunk))
        result.read += len(chunk)
        chunk.clear()
        if progress is not None:
            progress(result.read, result.stored)

    for call in calls:
        chunk.append(call)
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    return result
