"""Rating a whole month at once, and importing a large file on PostgreSQL: the same rules as
the per-line path (`rules.rate_month`), with set-based reads and writes around them.

- `rate_month_bulk` reads the month's calls once, ordered by line and start (a server-side
  cursor on PostgreSQL), rates each line's calls with `rules.rate_month` and writes the ratings
  with COPY (PostgreSQL) or executemany (SQLite), replacing the month's ratings in ONE
  transaction: a crash leaves the old ratings, a rerun gives the same rows.
- `import_csv_postgresql` loads a file of the documented format with the server's COPY into a
  temporary table, checks it with set-based statements and stores the calls not stored yet
  (`ON CONFLICT DO NOTHING` on the call key): a file imported twice stores each call once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text

from voipdesk.consumption import actions, errors, rules
from voipdesk.consumption.importer import DIRECTIONS, DISPOSITIONS, REQUIRED, ImportResult
from voipdesk.consumption.models import ANY_PLAN
from voipdesk.core.db import UTCDateTime
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import queries as subscription_queries

Progress = Callable[[int], None]
WRITE_BATCH = 50_000
NULL = "\\N"  # COPY text format
RATED_COLUMNS = (
    "call_key", "billing_group_id", "line_number", "month", "started_at", "destination",
    "billed_seconds", "included_seconds", "price_e4",
)  # fmt: skip
_READ = """SELECT line_number, call_key, started_at, direction, callee, duration_seconds,
                  disposition, billing_group_id
           FROM switch_call_record
           WHERE started_at >= :start AND started_at < :end AND line_number IS NOT NULL
           ORDER BY line_number, started_at, call_key"""


def _copy_text(value: str) -> str:
    """A text value for COPY's text format (only a call key from outside may need escaping)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


class _CopySink:
    """One COPY of the ratings for the whole month, written by a thread of its own, so that the
    server indexes a batch while the next one is rated (the driver lets go of the GIL while it
    waits for the server)."""

    def __init__(self, cursor: Any) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=4)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(cursor,), daemon=True)
        self._thread.start()

    def _run(self, cursor: Any) -> None:
        try:
            with cursor.copy(
                f"COPY consumption_rated_call ({', '.join(RATED_COLUMNS)}) FROM STDIN"
            ) as copy:
                while (data := self._queue.get()) is not None:
                    copy.write(data)
        except BaseException as failure:  # handed to the rating thread at close
            self._failure = failure
            while self._queue.get() is not None:
                pass

    def put(self, rows: list[Any]) -> None:
        if self._failure is not None:
            raise self._failure
        self._queue.put("".join(rows))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._failure is not None:
            raise self._failure


class _InsertSink:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def put(self, rows: list[Any]) -> None:
        marks = ", ".join("?" for _ in RATED_COLUMNS)
        self._cursor.executemany(
            f"INSERT INTO consumption_rated_call ({', '.join(RATED_COLUMNS)}) VALUES ({marks})",
            list(rows),
        )

    def close(self) -> None:
        return None


def _line_batches(rows: Iterator[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    current: list[Sequence[Any]] = []
    number = None
    for row in rows:
        if row[0] != number and current:
            yield current
            current = []
        number = row[0]
        current.append(row)
    if current:
        yield current


def _plan_of(
    book: actions.RateBook, offer: str, options: tuple[str, ...]
) -> Callable[[date], rules.Plan]:
    def plan_on(day: date) -> rules.Plan:
        return book.plan(offer, options, day)

    return plan_on


def rate_month_bulk(platform: Platform, month: date, progress: Progress | None = None) -> int:
    """Rates (again) every call of the month; returns how many were rated."""
    start, end = rules.month_bounds(month)
    postgres = platform.engine.dialect.name == "postgresql"
    with platform.session() as session:
        numbers = [
            str(n)
            for (n,) in session.execute(
                text(
                    "SELECT DISTINCT line_number FROM switch_call_record WHERE started_at >= :s "
                    "AND started_at < :e AND line_number IS NOT NULL"
                ).bindparams(
                    bindparam("s", type_=UTCDateTime()), bindparam("e", type_=UTCDateTime())
                ),
                {"s": start, "e": end},
            )
        ]
        plans = subscription_queries.live_line_plans(session, numbers)
        book = actions.RateBook(session)
    classifier = rules.DestinationCache()
    regions: dict[str, str | None] = {}
    reader = platform.engine.connect()
    writer = platform.engine.raw_connection()
    done = 0
    try:
        if postgres:
            reader = reader.execution_options(stream_results=True, yield_per=20_000)
        rows = reader.execute(
            text(_READ)
            .columns(started_at=UTCDateTime())
            .bindparams(
                bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
            ),
            {"start": start, "end": end},
        )
        cursor = writer.cursor()
        mark = "%s" if postgres else "?"
        cursor.execute(f"DELETE FROM consumption_rated_call WHERE month = {mark}", (month,))
        sink = _CopySink(cursor) if postgres else _InsertSink(cursor)
        buffer: list[Any] = []
        month_text = month.isoformat()

        def flush() -> None:
            if buffer:
                sink.put(buffer)
            buffer.clear()

        for calls in _line_batches(iter(rows)):
            number = calls[0][0]
            plan = plans.get(number)
            offer, options = (plan.offer_code, plan.options) if plan else (ANY_PLAN, ())
            region = regions.get(number)
            if number not in regions:
                region = regions[number] = rules.region_of(number)
            facts = [
                rules.CallFacts(
                    call_key=c[1],
                    started_at=c[2],
                    direction=c[3],
                    callee=c[4],
                    duration_seconds=int(c[5]),
                    answered=c[6] == "answered" and int(c[5]) > 0,
                )
                for c in calls
            ]
            rated = rules.rate_month(facts, region, _plan_of(book, offer, options), classifier)
            fallback = plan.billing_group_id if plan else None
            # Read in (line, start, key) order: the rating's own order, call for call.
            for c, r in zip(calls, rated, strict=True):
                if c[1] != r.call_key:
                    raise AssertionError("the calls were not read in rating order")
                group = c[7] or fallback
                if postgres:
                    buffer.append(
                        f"{_copy_text(r.call_key)}\t{group or NULL}\t{number}\t"
                        f"{month_text if r.month == month else r.month.isoformat()}\t"
                        f"{c[2].isoformat()}\t{r.destination}\t{r.billed_seconds}\t"
                        f"{r.included_seconds}\t{actions.e4_of(r.price)}\n"
                    )
                else:
                    buffer.append(
                        (r.call_key, group, number, r.month, c[2].isoformat(" "), r.destination,
                         r.billed_seconds, r.included_seconds, actions.e4_of(r.price))
                    )  # fmt: skip
            done += len(rated)
            if len(buffer) >= WRITE_BATCH:
                flush()
                if progress is not None:
                    progress(done)
        flush()
        sink.close()
        writer.commit()
    finally:
        reader.close()
        writer.close()
    if progress is not None:
        progress(done)
    if month == actions.current_month(platform):
        with platform.transaction() as session:
            groups = {p.billing_group_id for p in plans.values()}
            for group in sorted(groups):
                actions.check_cap(session, platform, group, month)
    return done


IMPORT_COLUMNS = (
    "call_key", "caller", "callee", "direction", "line_number", "billing_group_id",
    "started_at", "answered_at", "ended_at", "duration_seconds", "disposition", "sip_code",
)  # fmt: skip


def import_csv_postgresql(platform: Platform, path: Path) -> ImportResult:
    """Loads a CSV file of the documented format (a header line naming its columns) with COPY;
    refuses the whole file when a line breaks the format (the first one named)."""
    with path.open(encoding="utf-8-sig") as source:
        header = source.readline().strip().split(",")
    unknown = [c for c in header if c not in IMPORT_COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        raise errors.InvalidImport(
            line=1, reason="columns " + ", ".join(missing + unknown) + " missing or unknown"
        )
    raw = platform.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            "CREATE TEMP TABLE import_call (n BIGSERIAL, "
            + ", ".join(f"{c} TEXT" for c in header)
            + ") ON COMMIT DROP"
        )
        with (
            path.open("rb") as data,
            cursor.copy(  # type: ignore[attr-defined]
                f"COPY import_call ({', '.join(header)}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy,
        ):
            while block := data.read(1 << 20):
                copy.write(block)
        cursor.execute(
            f"""SELECT MIN(n) FROM import_call WHERE direction NOT IN {tuple(DIRECTIONS)}
                OR disposition NOT IN {tuple(DISPOSITIONS)} OR caller IS NULL OR callee IS NULL
                OR line_number IS NULL OR started_at IS NULL
                OR duration_seconds !~ '^[0-9]+$'
                OR started_at !~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ][0-9:.]+(Z|[+-][0-9:]+)$'"""
        )
        bad = (cursor.fetchone() or (None,))[0]
        if bad is not None:
            raise errors.InvalidImport(line=int(bad) + 1, reason="a value breaks the format")
        key = (
            "COALESCE(NULLIF(call_key, ''), 'import:' || md5(line_number || '|' || caller || '|' "
            "|| callee || '|' || started_at || '|' || direction))"
            if "call_key" in header
            else "'import:' || md5(line_number || '|' || caller || '|' || callee || '|' || "
            "started_at || '|' || direction)"
        )

        def optional(column: str, cast: str) -> str:
            return f"CAST(NULLIF({column}, '') AS {cast})" if column in header else "NULL"

        group = "NULLIF(billing_group_id, '')" if "billing_group_id" in header else "NULL"
        cursor.execute("SELECT COUNT(*) FROM import_call")
        read = int((cursor.fetchone() or (0,))[0])
        cursor.execute(
            f"""INSERT INTO switch_call_record (call_key, caller, callee, direction, line_number,
                    billing_group_id, route, target, started_at, answered_at, ended_at,
                    duration_seconds, disposition, sip_code, reason, source)
                SELECT {key}, left(caller, 64), left(callee, 64), direction, line_number, {group},
                       'import', NULL, CAST(started_at AS TIMESTAMPTZ),
                       {optional("answered_at", "TIMESTAMPTZ")},
                       {optional("ended_at", "TIMESTAMPTZ")},
                       CAST(duration_seconds AS INTEGER), disposition,
                       COALESCE({optional("sip_code", "INTEGER")}, 0), NULL, 'import'
                FROM import_call
                ON CONFLICT DO NOTHING"""
        )
        stored = int(cursor.rowcount or 0)
        # Lines given without their group: found from the live line (the same question as the
        # per-row import asks, once per line).
        cursor.execute(f"SELECT DISTINCT line_number FROM import_call WHERE {group} IS NULL")
        lonely = [str(row[0]) for row in cursor.fetchall()]
        raw.commit()
    finally:
        raw.close()
    if lonely:
        with platform.transaction() as session:
            plans = subscription_queries.live_line_plans(session, lonely)
            session.execute(
                text(
                    "UPDATE switch_call_record SET billing_group_id = :g WHERE line_number = :n "
                    "AND billing_group_id IS NULL AND source = 'import'"
                ),
                [{"g": p.billing_group_id, "n": n} for n, p in plans.items()],
            )
    return ImportResult(read=read, stored=stored)
