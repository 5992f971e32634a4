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

import csv
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text

from voipdesk.consumption import actions, errors, rules
from voipdesk.consumption.importer import (
    DIRECTIONS,
    DISPOSITIONS,
    REQUIRED,
    ImportResult,
    row_values,
)
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


# --- One pass: import and rate a file at once (PostgreSQL) ----------------------------------------
RECORD_COLUMNS = (
    "call_key", "caller", "callee", "direction", "line_number", "billing_group_id", "route",
    "started_at", "answered_at", "ended_at", "duration_seconds", "disposition", "sip_code",
    "source",
)  # fmt: skip
RECORD_TYPES = (
    "text", "text", "text", "text", "text", "text", "text", "timestamptz", "timestamptz",
    "timestamptz", "int4", "text", "int4", "text",
)  # fmt: skip
RATED_TYPES = ("text", "text", "text", "date", "timestamptz", "text", "int4", "int4", "int8")
AHEAD = 200_000  # ratings made while the server still stores the records, before their COPY
_IMPORT_LOCK = "SELECT pg_advisory_xact_lock(hashtext('voipdesk.consumption.import'))"
_DIRECTION = {d: d for d in DIRECTIONS}  # one string per direction kept, not one per call


@dataclass
class BulkImport(ImportResult):
    rated: int = 0
    fast: bool = False  # copied straight into the call records (no key of the file was stored)


class _KeyStored(Exception):
    """A key of the file is stored already: the fallback."""


def _binary_copy(cursor: Any, table: str, columns: Sequence[str], types: Sequence[str]) -> Any:
    """A COPY in PostgreSQL's binary format (no text to parse on the server), its rows sent by
    psycopg's own thread while the next ones are made (the driver lets go of the GIL)."""
    from psycopg.copy import QueuedLibpqWriter

    copy = cursor.copy(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)",
        writer=QueuedLibpqWriter(cursor),
    )
    return copy


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as source:
        header = next(csv.reader(source), [])
    unknown = [c for c in header if c not in IMPORT_COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise errors.InvalidImport(
            line=1, reason="columns " + ", ".join(missing + unknown) + " missing or unknown"
        )
    return header


class _Line:
    """A line's calls read from the file (or stored), with the group each record names."""

    __slots__ = ("calls", "groups")

    def __init__(self) -> None:
        self.calls: list[rules.CallFacts] = []
        self.groups: list[str | None] = []


def _quoted(path: Path) -> bool:
    """Whether the file holds a quote or a NUL (then read by the csv module), read by blocks."""
    with path.open("rb") as data:
        while block := data.read(1 << 20):
            if b'"' in block or b"\0" in block:
                return True
    return False


def _parse_into(
    write_row: Callable[[Sequence[Any]], None], path: Path, by_line: dict[str, _Line]
) -> int:
    """Reads the file, checks every line (`importer.row_values`, the format's rule), hands each
    record to `write_row` and keeps what rating needs, by line. Returns how many lines were
    read; `InvalidImport` on the first bad one."""
    header = _header(path)
    width = len(header)
    groups: dict[str, str] = {}
    read = 0
    with path.open(encoding="utf-8-sig", newline="") as source:
        quoted = csv.reader(source)
        reader: Iterator[list[str]] = quoted
        if not _quoted(path):  # no quote: each line is its values between commas, exactly
            reader = (text.rstrip("\r\n").split(",") for text in source)
        next(reader)
        try:
            for line, values in enumerate(reader, start=2):
                if not values or values == [""]:
                    continue  # a blank line, as the per-row import skips it
                if len(values) != width:
                    raise errors.InvalidImport(line=line, reason="not as many values as columns")
                checked = row_values(dict(zip(header, values, strict=True)), line)
                (key, caller, callee, direction, number, group, started, answered, ended,
                 duration, disposition, sip_code) = checked  # fmt: skip
                if group is not None:
                    group = groups.setdefault(group, group)  # one string per group kept
                write_row(
                    (key, caller, callee, direction, number, group, "import", started, answered,
                     ended, duration, disposition, sip_code, "import")
                )  # fmt: skip
                known = by_line.get(number)
                if known is None:
                    known = by_line[number] = _Line()
                known.calls.append(
                    rules.CallFacts(
                        key,
                        started,
                        _DIRECTION[direction],
                        callee,
                        duration,
                        disposition == "answered" and duration > 0,
                    )
                )
                known.groups.append(group)
                read += 1
        except csv.Error as broken:
            raise errors.InvalidImport(line=quoted.line_num, reason=str(broken)) from None
    return read


def _span(by_line: dict[str, _Line]) -> tuple[datetime, datetime]:
    """[start of the first month, end of the last) of the calls, as UTC instants."""
    first = min(min(f.started_at for f in line.calls) for line in by_line.values())
    last = max(max(f.started_at for f in line.calls) for line in by_line.values())
    return rules.month_bounds(rules.month_of(first))[0], rules.month_bounds(rules.month_of(last))[1]


def _months(calls: list[rules.CallFacts]) -> set[date]:
    return {rules.month_of(c.started_at) for c in calls}


_STORED_CALLS = """SELECT line_number, call_key, started_at, direction, callee, duration_seconds,
                          disposition, billing_group_id
                   FROM switch_call_record
                   WHERE line_number = ANY(%(lines)s) AND started_at >= %(start)s
                     AND started_at < %(end)s"""


def _lines_of(rows: Iterable[Sequence[Any]]) -> dict[str, _Line]:
    """Rows of `_STORED_CALLS`, by line."""
    found: dict[str, _Line] = {}
    for number, key, started, direction, callee, duration, disposition, group in rows:
        known = found.get(str(number))
        if known is None:
            known = found[str(number)] = _Line()
        known.calls.append(
            rules.CallFacts(
                str(key),
                started,
                str(direction),
                str(callee),
                int(duration),
                disposition == "answered" and int(duration) > 0,
            )
        )
        known.groups.append(group)
    return found


def _in_months(stored: _Line, months: set[date], into: _Line) -> list[str]:
    """Adds to `into` the stored calls of these months; returns their keys."""
    keys = []
    for facts, group in zip(stored.calls, stored.groups, strict=True):
        if rules.month_of(facts.started_at) in months:
            into.calls.append(facts)
            into.groups.append(group)
            keys.append(facts.call_key)
    return keys


class _Rating:
    """Each line's calls rated (`rules.rate_month`: every month whole, inclusions consumed in
    call order), row after row of `consumption_rated_call`; the (group, month) pairs rated."""

    def __init__(self, session: Any, by_line: dict[str, _Line]) -> None:
        self.by_line = by_line
        self.plans = subscription_queries.live_line_plans(session, sorted(by_line))
        self.book = actions.RateBook(session)
        self.touched: set[tuple[str, date]] = set()
        self.done = 0

    def rows(self) -> Iterator[tuple[Any, ...]]:
        classifier = rules.DestinationCache()
        touched = self.touched
        for number, line in self.by_line.items():
            plan = self.plans.get(number)
            offer, options = (plan.offer_code, plan.options) if plan else (ANY_PLAN, ())
            fallback = plan.billing_group_id if plan else None
            started = {c.call_key: c.started_at for c in line.calls}
            group_of = {c.call_key: g for c, g in zip(line.calls, line.groups, strict=True)}
            rated = rules.rate_month(
                line.calls, rules.region_of(number), _plan_of(self.book, offer, options), classifier
            )
            for r in rated:
                group = group_of[r.call_key] or fallback
                if group is not None:
                    touched.add((group, r.month))
                yield (
                    r.call_key, group, number, r.month, started[r.call_key], r.destination,
                    r.billed_seconds, r.included_seconds, actions.e4_of(r.price),
                )  # fmt: skip
            self.done += len(rated)


def _fill_groups(cursor: Any, session: Any, by_line: dict[str, _Line]) -> None:
    """Records given without their group get the live line's (as the per-row import does)."""
    lonely = sorted(n for n, line in by_line.items() if None in line.groups)
    if not lonely:
        return
    plans = subscription_queries.live_line_plans(session, lonely)
    for number, plan in plans.items():
        cursor.execute(
            "UPDATE switch_call_record SET billing_group_id = %s WHERE line_number = %s "
            "AND billing_group_id IS NULL AND source = 'import'",
            (plan.billing_group_id, number),
        )


def _write_ratings(cursor: Any, rows: Iterable[Sequence[Any]], replaced: list[str]) -> None:
    if replaced:
        cursor.execute("DELETE FROM consumption_rated_call WHERE call_key = ANY(%s)", (replaced,))
    with _binary_copy(cursor, "consumption_rated_call", RATED_COLUMNS, RATED_TYPES) as copy:
        copy.set_types(RATED_TYPES)
        for row in rows:
            copy.write_row(row)


def import_and_rate_postgresql(
    platform: Platform, path: Path, phases: dict[str, float] | None = None
) -> BulkImport:
    """Imports a CSV file of the documented format and rates it in one pass, in one transaction:
    the file is read once by Python (each line checked by the format's rule), its records
    written by one binary COPY while it is read, each line's months rated by `rules.rate_month`
    from what was read, the ratings written by one binary COPY; nothing is read back but the
    calls already stored in the same lines and months (rated again with the new ones, as a
    whole).

    Fast path: the records are copied straight into `switch_call_record`. When one of the
    file's keys is stored already (a file imported again, or twice the same key in the file),
    that COPY fails on the primary key; the transaction is rolled back and the file is read
    again into a staging table, then stored once by key (`ON CONFLICT DO NOTHING`), and the
    lines and months with new calls are rated again as a whole from what is stored.

    A bad line refuses the whole file (one transaction) with its number and what is wrong.
    Imports are serialised by a transaction-level advisory lock."""
    import psycopg

    clock = time.perf_counter()
    result = BulkImport()
    touched: set[tuple[str, date]] = set()
    raw = platform.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(_IMPORT_LOCK)  # before the other session looks at what is stored
        by_line: dict[str, _Line] = {}
        try:
            ahead: list[tuple[Any, ...]] = []
            rows: Iterator[tuple[Any, ...]] = iter(())
            replaced: list[str] = []
            rating: _Rating | None = None
            with platform.session() as session:
                records = _binary_copy(cursor, "switch_call_record", RECORD_COLUMNS, RECORD_TYPES)
                with records as copy:
                    copy.set_types(RECORD_TYPES)
                    result.read = _parse_into(copy.write_row, path, by_line)
                    if phases is not None:
                        phases["parsed"] = time.perf_counter() - clock
                    if by_line:
                        # What is stored already in these lines and months: committed calls
                        # (this other session does not see the file's records), rated again
                        # with them.
                        start, end = _span(by_line)
                        stored = session.connection().exec_driver_sql(
                            _STORED_CALLS, {"lines": sorted(by_line), "start": start, "end": end}
                        )
                        for number, line in _lines_of(stored).items():
                            into = by_line[number]
                            if not {c.call_key for c in into.calls}.isdisjoint(
                                c.call_key for c in line.calls
                            ):
                                raise _KeyStored  # the COPY would fail on the primary key
                            replaced += _in_months(line, _months(into.calls), into)
                        rating = _Rating(session, by_line)
                        rows = rating.rows()
                        # Rated while the server still stores the records' last blocks.
                        ahead.extend(itertools.islice(rows, AHEAD))
                _write_ratings(cursor, itertools.chain(ahead, rows), replaced)
                if rating is not None:
                    result.rated, touched = rating.done, rating.touched
                result.stored, result.fast = result.read, True
                _fill_groups(cursor, session, by_line)
        except (psycopg.errors.UniqueViolation, _KeyStored):
            raw.rollback()
            by_line.clear()
            result, touched = _import_staged(platform, raw, path)
        raw.commit()
    finally:
        raw.close()
    if phases is not None:
        phases["committed"] = time.perf_counter() - clock
    current = actions.current_month(platform)
    due = sorted(group for group, month in touched if month == current)
    if due:
        with platform.transaction() as session:
            for group in due:
                actions.check_cap(session, platform, group, current)
    return result


def _import_staged(
    platform: Platform, raw: Any, path: Path
) -> tuple[BulkImport, set[tuple[str, date]]]:
    """The fallback of `import_and_rate_postgresql` (some of the file's keys stored already):
    the file into a staging table, stored once by key, the lines and months with new calls
    rated again as a whole from what is stored (this transaction's view)."""
    result = BulkImport()
    cursor = raw.cursor()
    cursor.execute(_IMPORT_LOCK)
    cursor.execute(
        "CREATE TEMP TABLE import_staging (LIKE switch_call_record INCLUDING DEFAULTS) "
        "ON COMMIT DROP"
    )
    by_line: dict[str, _Line] = {}
    with _binary_copy(cursor, "import_staging", RECORD_COLUMNS, RECORD_TYPES) as copy:
        copy.set_types(RECORD_TYPES)
        result.read = _parse_into(copy.write_row, path, by_line)
    cursor.execute(
        """WITH new AS (INSERT INTO switch_call_record SELECT * FROM import_staging
                        ON CONFLICT DO NOTHING RETURNING line_number)
           SELECT line_number, COUNT(*) FROM new GROUP BY line_number"""
    )
    fresh = {str(number): int(count) for number, count in cursor.fetchall()}
    result.stored = sum(fresh.values())
    if not fresh:
        return result, set()
    new_lines = {n: by_line[n] for n in fresh}
    start, end = _span(new_lines)
    months = {n: _months(line.calls) for n, line in new_lines.items()}
    # Read back through this transaction (the new records with those stored before).
    cursor.execute(_STORED_CALLS, {"lines": sorted(fresh), "start": start, "end": end})
    again: dict[str, _Line] = {}
    replaced: list[str] = []
    for number, stored in _lines_of(cursor.fetchall()).items():
        replaced += _in_months(stored, months[number], again.setdefault(number, _Line()))
    with platform.session() as session:
        _fill_groups(cursor, session, new_lines)
        rating = _Rating(session, again)
        _write_ratings(cursor, rating.rows(), replaced)
    result.rated = rating.done
    return result, rating.touched
