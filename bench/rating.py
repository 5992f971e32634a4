# ruff: noqa: E501  (long report lines and SQL read better unwrapped)
"""Benchmark of call-record ingestion and rating, end to end, on PostgreSQL.

    uv run python bench/rating.py --records 10000000 --groups 100000 --repeat 3

A CSV file of the documented import format is made once per size (a month of calls of one line
per billing group: 40 % to fixed numbers, 25 % to mobiles, 3 % toll-free, 2 % special rate,
5 % international, 25 % incoming; 15 % not answered; durations from 0 to 2 hours), kept in the
system's temporary folder. Each cycle, in a fresh database (migrated, rate tables and inclusions
stored: fixed numbers unlimited, 10 hours to mobiles, consumed in call order), in a child process:

1. the floor: PostgreSQL's own COPY of the same file into a table of the same definition as the
   call records (primary key and indexes), in one transaction;
2. end to end: `voipdesk.consumption.bulk.import_and_rate_postgresql`, one pass in one
   transaction: the file read once by Python (each line checked by the format's rule), the
   records written by one COPY straight into the call records while it is read (no key of the
   file is stored yet: the fast path), each line's month rated by `rules.rate_month` from what
   was read, the ratings written by one COPY; nothing read back;
3. the statements of every billing group for the month (`services.close_month`).

Reported: records per second end to end and of the floor, their ratio, the seconds of each step,
the child's peak memory (VmHWM); over the cycles, the median and the spread (min - max).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

MONTH = date(2026, 3, 1)
SERVER = os.environ.get(
    "VOIPDESK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
COLUMNS = "call_key,caller,callee,direction,line_number,billing_group_id,started_at,answered_at,ended_at,duration_seconds,disposition,sip_code"


def make_file(records: int, groups: int, seed: int = 16) -> Path:
    path = Path(tempfile.gettempdir()) / f"voipdesk-bench-calls-{records}-{groups}-{seed}.csv"
    if path.exists():
        return path
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC) - timedelta(hours=1)  # 00:00 Paris
    seconds_in_month = 31 * 86400 - 3600
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write(COLUMNS + "\n")
        lines = [f"+3319{n:07d}" for n in range(groups)]
        group_ids = [f"{n:032x}" for n in range(groups)]
        rows = []
        for i in range(records):
            g = rng.randrange(groups)
            line = lines[g]
            kind = rng.random()
            direction = "outgoing"
            if kind < 0.40:
                other = f"+331{rng.randrange(10_000_000, 99_999_999)}"
            elif kind < 0.65:
                other = f"+336{rng.randrange(10_000_000, 99_999_999)}"
            elif kind < 0.68:
                other = f"+33800{rng.randrange(100_000, 999_999)}"
            elif kind < 0.70:
                other = f"+33899{rng.randrange(100_000, 999_999)}"
            elif kind < 0.75:
                other = rng.choice(("+1415555", "+4930", "+8131", "+4420", "+3222")) + str(
                    rng.randrange(1_000_000, 9_999_999)
                )
            else:
                other, direction = f"+336{rng.randrange(10_000_000, 99_999_999)}", "incoming"
            started = start + timedelta(seconds=rng.randrange(seconds_in_month))
            answered = rng.random() >= 0.15
            duration = int(rng.expovariate(1 / 180)) % 7200 if answered else 0
            answered_at = started + timedelta(seconds=6) if answered else None
            ended = (answered_at or started) + timedelta(seconds=duration)
            caller, callee = (other, line) if direction == "incoming" else (line, other)
            rows.append(
                f"bench-{i},{caller},{callee},{direction},{line},{group_ids[g]},{started.isoformat()},"
                f"{answered_at.isoformat() if answered_at else ''},{ended.isoformat()},{duration},"
                f"{'answered' if answered else 'no_answer'},{200 if answered else 480}\n"
            )
            if len(rows) >= 100_000:
                out.writelines(rows)
                rows.clear()
        out.writelines(rows)
    partial.rename(path)
    return path


def fresh_database() -> tuple[str, str]:
    from voipdesk.areas import load_handlers
    from voipdesk.core.db import make_engine, normalise_url
    from voipdesk.core.migrate import upgrade

    load_handlers()
    server = create_engine(normalise_url(SERVER), isolation_level="AUTOCOMMIT")
    name = f"voipdesk_bench_rating_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    url = normalise_url(SERVER).rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url, name


def drop_database(name: str) -> None:
    from voipdesk.core.db import normalise_url

    server = create_engine(normalise_url(SERVER), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def make_platform(url: str):  # type: ignore[no-untyped-def]
    from voipdesk.areas import load_handlers
    from voipdesk.core.clock import MovableClock
    from voipdesk.core.db import make_engine
    from voipdesk.core.platform import Platform
    from voipdesk.core.settings import Settings, new_secret

    load_handlers()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, smtp_host=None, payment_provider="sandbox",
        payment_webhook_secret=new_secret(),
    )  # fmt: skip
    return Platform(
        settings=settings, engine=make_engine(url),
        clock=MovableClock(datetime(2026, 4, 1, 0, 5, tzinfo=UTC)),
    )  # fmt: skip


def store_plan(platform) -> None:  # type: ignore[no-untyped-def]
    """Rate tables and inclusions for every offer ("*"), as staff would store them."""
    from voipdesk.consumption import actions
    from voipdesk.consumption.models import Inclusion

    with platform.transaction() as session:
        for destination, per_minute, fee, first, step in (
            ("fixed", "0.0200", "0", 60, 1), ("mobile", "0.1000", "0", 60, 1),
            ("special", "0.8000", "0.1500", 60, 60), ("international_europe", "0.0500", "0", 60, 1),
            ("international_north_america", "0.0500", "0", 60, 1),
            ("international_world", "0.3000", "0.1000", 60, 1),
        ):  # fmt: skip
            actions.set_rate(
                session, plan="*", destination=destination, per_minute=Decimal(per_minute),
                connection_fee=Decimal(fee), first_increment=first, next_increment=step,
                valid_from=date(2026, 1, 1), actor="bench",
            )  # fmt: skip
        session.add_all(
            [
                Inclusion(
                    plan="*",
                    name="fixed",
                    destinations=["fixed"],
                    seconds=None,
                    position=0,
                    valid_from=date(2026, 1, 1),
                ),
                Inclusion(
                    plan="*",
                    name="mobile-10h",
                    destinations=["mobile"],
                    seconds=36000,
                    position=1,
                    valid_from=date(2026, 1, 1),
                ),
            ]
        )


def _vm_hwm_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def timed_cycle(url: str, path: Path, records: int, out: Any) -> None:
    from voipdesk.consumption import bulk, services

    platform = make_platform(url)
    result: dict[str, Any] = {}
    # 1. The floor: the server's own COPY of the same file into a table like the records'.
    raw = platform.engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("CREATE TABLE floor_call_record (LIKE switch_call_record INCLUDING ALL)")
    cursor.execute(
        "ALTER TABLE floor_call_record ALTER route SET DEFAULT 'import', ALTER source SET DEFAULT 'import'"
    )
    raw.commit()
    mark = time.perf_counter()
    with (
        path.open("rb") as data,
        cursor.copy(
            f"COPY floor_call_record ({COLUMNS}) FROM STDIN WITH (FORMAT csv, HEADER true)"
        ) as copy,
    ):
        while block := data.read(1 << 20):
            copy.write(block)
    raw.commit()
    result["copy_seconds"] = time.perf_counter() - mark
    cursor.execute("DROP TABLE floor_call_record")
    raw.commit()
    raw.close()
    # 2. End to end: the file imported and rated in one pass.
    phases: dict[str, float] = {}
    mark = time.perf_counter()
    imported = bulk.import_and_rate_postgresql(platform, path, phases)
    result["end_to_end_seconds"] = time.perf_counter() - mark
    result["parsed_seconds"] = phases["parsed"]
    result["fast_path"] = imported.fast
    assert imported.stored == records and imported.rated == records, imported
    # 3. Statements of every group.
    mark = time.perf_counter()
    result["statements"] = services.close_month(platform, MONTH)
    result["statements_seconds"] = time.perf_counter() - mark
    result["peak_mb"] = _vm_hwm_mb()
    with platform.session() as session:
        result["beyond_plan_total"] = str(
            session.execute(
                text("SELECT SUM(beyond_plan_cents) / 100.0 FROM consumption_statement")
            ).scalar()
        )
    platform.engine.dispose()
    out.put(result)


def cycle(path: Path, records: int) -> dict[str, Any]:
    url, name = fresh_database()
    try:
        platform = make_platform(url)
        store_plan(platform)
        platform.engine.dispose()
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=timed_cycle, args=(url, path, records, queue))
        child.start()
        result = queue.get()
        child.join()
        result["load_average"] = os.getloadavg()[0]
        return result
    finally:
        drop_database(name)


def spread(values: list[float], digits: int = 0) -> str:
    return f"{statistics.median(values):,.{digits}f} ({min(values):,.{digits}f} - {max(values):,.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    mark = time.perf_counter()
    path = make_file(arguments.records, arguments.groups)
    print(
        f"file: {path} ({path.stat().st_size / 1e6:,.0f} MB, {time.perf_counter() - mark:.0f} s)",
        file=sys.stderr,
    )
    cycles = []
    for n in range(arguments.repeat):
        result = cycle(path, arguments.records)
        print(f"cycle {n + 1}: {json.dumps(result)}", file=sys.stderr)
        cycles.append(result)
    n = arguments.records

    def rate(key: str) -> list[float]:
        return [n / c[key] for c in cycles]

    end = rate("end_to_end_seconds")
    floor = rate("copy_seconds")
    target = min(200_000, statistics.median(floor) / 2)
    print(
        f"| {n:,} records, {arguments.groups:,} groups, {arguments.repeat} cycles | median (min - max) |"
    )
    print("|---|---|")
    print(f"| end to end (import and rating in one pass), records/s | {spread(end)} |")
    print(f"| PostgreSQL COPY of the same rows, records/s | {spread(floor)} |")
    print(f"| end to end / COPY | {spread([e / f for e, f in zip(end, floor, strict=True)], 2)} |")
    print(
        f"| target: min(200,000, COPY / 2), records/s | {target:,.0f} ({'met' if statistics.median(end) >= target else 'NOT met'}) |"
    )
    print(
        f"| file read and checked by Python (records COPY alongside), s | {spread([c['parsed_seconds'] for c in cycles], 1)} |"
    )
    print(
        f"| then rating (rules.rate_month), ratings COPY, commit, s | {spread([c['end_to_end_seconds'] - c['parsed_seconds'] for c in cycles], 1)} |"
    )
    print(f"| end to end, s | {spread([c['end_to_end_seconds'] for c in cycles], 1)} |")
    print(f"| PostgreSQL COPY, s | {spread([c['copy_seconds'] for c in cycles], 1)} |")
    print(
        f"| statements of {cycles[0]['statements']:,} groups, s | {spread([c['statements_seconds'] for c in cycles], 1)} |"
    )
    print(f"| child process peak memory (VmHWM), MB | {spread([c['peak_mb'] for c in cycles])} |")
    print(
        f"| load average (1 min) at the end of each cycle | {spread([c['load_average'] for c in cycles], 1)} |"
    )


if __name__ == "__main__":
    main()
