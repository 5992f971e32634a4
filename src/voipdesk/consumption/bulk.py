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
COPY_CHUNK = 20_000  # lines per block handed to the writer
_IMPORT_LOCK = "SELECT pg_advisory_xact_lock(hashtext('voipdesk.consumption.import'))"
_END = object()
_DIRECTION = {d: d for d in DIRECTIONS}  # one string per direction kept, not one per call


@dataclass
class BulkImport(ImportResult):
    rated: int = 0
    fast: bool = False  # copied straight into the call records (no key of the file was stored)


class _Writer:
    """Runs statements and COPYs on one connection in the order they are given, in a thread of
    its own: the server stores a block while the next one is parsed or rated (the driver lets
    go of the GIL while it waits). A failure is raised in the caller at its next call."""

    def __init__(self, cursor: Any) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=8)
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(cursor,), daemon=True)
        self._thread.start()

    def _run(self, cursor: Any) -> None:
        try:
            while (item := self._queue.get()) is not None:
                kind, sql, params = item
                if kind == "execute":
                    cursor.execute(sql, params)
                    continue
                with cursor.copy(sql) as copy:
                    while (data := self._queue.get()) is not _END:
                        copy.write(data)
        except BaseException as failure:  # handed to the caller
            self.failure = failure
            while self._queue.get() is not None:
                pass

    def _put(self, item: Any) -> None:
        if self.failure is not None:
            raise self.failure
        self._queue.put(item)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._put(("execute", sql, params))

    def copy(self, sql: str) -> None:
        self._put(("copy", sql, None))

    def write(self, rows: list[str]) -> None:
        self._put("".join(rows))

    def end_copy(self) -> None:
        self._put(_END)

    def close(self) -> None:
        """Waits for everything given; raises the failure if there was one."""
        self._queue.put(None)
        self._thread.join()
        if self.failure is not None:
            raise self.failure

    def abandon(self) -> None:
        """Stops after a failure of the caller (the transaction is rolled back after)."""
        if self._thread.is_alive():
            self.failure = self.failure or RuntimeError("abandoned")
            self._queue.put(_END)
            self._queue.put(None)
            self._thread.join()


def _needs_escaping(line: str, columns: int, nulls: int) -> bool:
    """Whether a line of COPY's text format made of the values as they are (and `nulls` NULL
    marks) holds a character of the format: a value with a backslash, a tab or a line break
    (only in a file from outside)."""
    return (
        line.count("\t") != columns - 1
        or line.count("\n") != 1
        or line.count("\\") != nulls
        or "\r" in line
    )


def _text_line(values: Sequence[str | None]) -> str:
    """One line of COPY's text format, each value escaped."""
    return "\t".join(NULL if v is None else _copy_text(v) for v in values) + "\n"


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


def _parse_into(writer: _Writer, path: Path, table: str, by_line: dict[str, _Line]) -> int:
    """Reads the file, checks every line (`importer.row_values`, the format's rule), hands the
    records to the writer's COPY into `table` and keeps what rating needs, by line. Returns how
    many lines were read; `InvalidImport` on the first bad one."""
    header = _header(path)
    width = len(header)
    writer.copy(f"COPY {table} ({', '.join(RECORD_COLUMNS)}) FROM STDIN")
    rows: list[str] = []
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
                text_line = (
                    f"{key}\t{caller}\t{callee}\t{direction}\t{number}\t{group or NULL}\t"
                    f"import\t{started.isoformat()}\t"
                    f"{answered.isoformat() if answered else NULL}\t"
                    f"{ended.isoformat() if ended else NULL}\t{duration}\t{disposition}\t"
                    f"{sip_code}\timport\n"
                )
                if _needs_escaping(
                    text_line,
                    len(RECORD_COLUMNS),
                    (group is None) + (answered is None) + (ended is None),
                ):
                    text_line = _text_line(
                        (key, caller, callee, direction, number, group, "import",
                         started.isoformat(), answered.isoformat() if answered else None,
                         ended.isoformat() if ended else None, str(duration), disposition,
                         str(sip_code), "import")
                    )  # fmt: skip
                rows.append(text_line)
                if group is not None:
                    group = groups.setdefault(group, group)  # one string per group kept
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
                if len(rows) >= COPY_CHUNK:
                    writer.write(rows)
                    rows.clear()
        except csv.Error as broken:
            raise errors.InvalidImport(line=quoted.line_num, reason=str(broken)) from None
    if rows:
        writer.write(rows)
    writer.end_copy()
    return read


def _span(by_line: dict[str, _Line]) -> tuple[datetime, datetime]:
    """[start of the first month, end of the last) of the calls, as UTC instants."""
    first = min(min(f.started_at for f in line.calls) for line in by_line.values())
    last = max(max(f.started_at for f in line.calls) for line in by_line.values())
    return rules.month_bounds(rules.month_of(first))[0], rules.month_bounds(rules.month_of(last))[1]


_STORED_CALLS = """SELECT line_number, call_key, started_at, direction, callee, duration_seconds,
                          disposition, billing_group_id
                   FROM switch_call_record
                   WHERE line_number = ANY(:lines) AND started_at >= :start AND started_at < :end"""


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


def _rate_into(
    writer: _Writer, session: Any, by_line: dict[str, _Line], replaced: list[str]
) -> tuple[int, set[tuple[str, date]]]:
    """Rates each line's calls (`rules.rate_month`: every month whole, inclusions consumed in
    call order) and hands the ratings to the writer's COPY, after deleting those of the keys
    `replaced`. Returns how many were rated and the (group, month) pairs rated."""
    plans = subscription_queries.live_line_plans(session, sorted(by_line))
    book = actions.RateBook(session)
    classifier = rules.DestinationCache()
    if replaced:
        writer.execute("DELETE FROM consumption_rated_call WHERE call_key = ANY(%s)", (replaced,))
    writer.copy(f"COPY consumption_rated_call ({', '.join(RATED_COLUMNS)}) FROM STDIN")
    buffer: list[str] = []
    done = 0
    touched: set[tuple[str, date]] = set()
    for number, line in by_line.items():
        plan = plans.get(number)
        offer, options = (plan.offer_code, plan.options) if plan else (ANY_PLAN, ())
        fallback = plan.billing_group_id if plan else None
        started = {c.call_key: c.started_at for c in line.calls}
        group_of = dict(zip(started, line.groups, strict=True))
        rated = rules.rate_month(
            line.calls, rules.region_of(number), _plan_of(book, offer, options), classifier
        )
        for r in rated:
            group = group_of[r.call_key] or fallback
            if group is not None:
                touched.add((group, r.month))
            text_line = (
                f"{r.call_key}\t{group or NULL}\t{number}\t{r.month.isoformat()}\t"
                f"{started[r.call_key].isoformat()}\t{r.destination}\t{r.billed_seconds}\t"
                f"{r.included_seconds}\t{actions.e4_of(r.price)}\n"
            )
            if _needs_escaping(text_line, len(RATED_COLUMNS), group is None):
                text_line = _text_line(
                    (r.call_key, group, number, r.month.isoformat(),
                     started[r.call_key].isoformat(), r.destination, str(r.billed_seconds),
                     str(r.included_seconds), str(actions.e4_of(r.price)))
                )  # fmt: skip
            buffer.append(text_line)
        done += len(rated)
        if len(buffer) >= COPY_CHUNK:
            writer.write(buffer)
            buffer.clear()
    if buffer:
        writer.write(buffer)
    writer.end_copy()
    return done, touched


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


def import_and_rate_postgresql(
    platform: Platform, path: Path, phases: dict[str, float] | None = None
) -> BulkImport:
    """Imports a CSV file of the documented format and rates it in one pass, in one transaction:
    the file is read once by Python (each line checked by the format's rule), its records
    written by one COPY while it is read, each line's months rated by `rules.rate_month` from
    what was read, the ratings written by one COPY; nothing is read back but the calls already
    stored in the same lines and months (rated again with the new ones, as a whole).

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
    raw = platform.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(_IMPORT_LOCK)  # before the other session looks at what is stored
        by_line: dict[str, _Line] = {}
        touched: set[tuple[str, date]] = set()
        writer = _Writer(cursor)
        try:
            result.read = _parse_into(writer, path, "switch_call_record", by_line)
            if phases is not None:
                phases["parsed"] = time.perf_counter() - clock
            if by_line:
                start, end = _span(by_line)
                with platform.session() as session:
                    # What is stored already in these lines and months: committed calls (this
                    # other session does not see the file's records), rated again with them.
                    before = _lines_of(
                        session.execute(
                            text(_STORED_CALLS)
                            .columns(started_at=UTCDateTime())
                            .bindparams(
                                bindparam("start", type_=UTCDateTime()),
                                bindparam("end", type_=UTCDateTime()),
                            ),
                            {"lines": sorted(by_line), "start": start, "end": end},
                        )
                    )
                    replaced: list[str] = []
                    for number, stored in before.items():
                        line = by_line[number]
                        replaced += _in_months(stored, _months(line.calls), line)
                    result.rated, touched = _rate_into(writer, session, by_line, replaced)
            writer.close()
            result.stored = result.read
            result.fast = True
        except psycopg.errors.UniqueViolation:
            writer.abandon()
            raw.rollback()
            by_line.clear()
            result, touched = _import_staged(platform, raw, path)
        except BaseException:
            writer.abandon()
            raise
        if result.fast:
            with platform.session() as session:
                _fill_groups(cursor, session, by_line)
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
    writer = _Writer(cursor)
    try:
        result.read = _parse_into(writer, path, "import_staging", by_line)
        writer.close()
    except BaseException:
        writer.abandon()
        raise
    cursor.execute(
        """WITH new AS (INSERT INTO switch_call_record SELECT * FROM import_staging
                        ON CONFLICT DO NOTHING RETURNING line_number)
           SELECT line_number, COUNT(*) FROM new GROUP BY line_number"""
    )
    fresh = {str(number): int(count) for number, count in cursor.fetchall()}
    result.stored = sum(fresh.values())
    touched: set[tuple[str, date]] = set()
    if fresh:
        with platform.session() as session:
            _fill_groups(cursor, session, {n: by_line[n] for n in fresh})
    if fresh:
        start, end = _span({n: by_line[n] for n in fresh})
        months = {n: _months(by_line[n].calls) for n in fresh}
        # Read back through this transaction (the new records with those stored before).
        cursor.execute(
            _STORED_CALLS.replace(":lines", "%(lines)s")
            .replace(":start", "%(start)s")
            .replace(":end", "%(end)s"),
            {"lines": sorted(fresh), "start": start, "end": end},
        )
        again: dict[str, _Line] = {}
        replaced: list[str] = []
        for number, stored in _lines_of(cursor.fetchall()).items():
            replaced += _in_months(stored, months[number], again.setdefault(number, _Line()))
        writer = _Writer(cursor)
        try:
            with platform.session() as session:
                result.rated, touched = _rate_into(writer, session, again, replaced)
            writer.close()
        except BaseException:
            writer.abandon()
            raise
    return result, touched


def _months(calls: list[rules.CallFacts]) -> set[date]:
    return {rules.month_of(c.started_at) for c in calls}
