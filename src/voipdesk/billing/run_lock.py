"""One renewal run per period at a time, across processes and machines.

PostgreSQL: a session-level advisory lock on a connection held for the whole run (released by
the server if the process dies). SQLite (one machine): an exclusive `flock` on a file beside the
database, released by the kernel if the process dies; an in-memory database (one process) uses
a process-wide lock. Either way a second run waits (`wait=True`) or is refused with
`RenewalAlreadyRunning`.

The lock is the first guard; the database keeps the second (one invoice per group and period,
one line per service and period, one collection per invoice, one SEPA file per period and
collection date), so even without it nothing is charged or debited twice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import text

from voipdesk.billing.errors import RenewalAlreadyRunning
from voipdesk.core.platform import Platform

# First key of the advisory lock (a constant naming "the renewal"), the second is YYYYMM.
ADVISORY_CLASS = 0x56445245  # "VDRE"

_memory_locks: dict[tuple[str, date], threading.Lock] = {}
_memory_guard = threading.Lock()


def _period_key(period_start: date) -> int:
    return period_start.year * 100 + period_start.month


@contextmanager
def renewal_lock(platform: Platform, period_start: date, *, wait: bool = False) -> Iterator[None]:
    engine = platform.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            params = {"a": ADVISORY_CLASS, "b": _period_key(period_start)}
            if wait:
                connection.execute(text("SELECT pg_advisory_lock(:a, :b)"), params)
            elif not connection.execute(
                text("SELECT pg_try_advisory_lock(:a, :b)"), params
            ).scalar():
                raise RenewalAlreadyRunning(period=period_start.strftime("%Y-%m"))
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"), params)
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _memory_lock(str(engine.url), period_start, wait):
            yield
        return
    with _file_lock(Path(database), period_start, wait):
        yield


@contextmanager
def _memory_lock(url: str, period_start: date, wait: bool) -> Iterator[None]:
    with _memory_guard:
        lock = _memory_locks.setdefault((url, period_start), threading.Lock())
    if not lock.acquire(blocking=wait):
        raise RenewalAlreadyRunning(period=period_start.strftime("%Y-%m"))
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _file_lock(database: Path, period_start: date, wait: bool) -> Iterator[None]:
    import fcntl

    path = database.with_name(f"{database.name}.renewal-{_period_key(period_start)}.lock")
    # Each open() is its own open file description, so two threads of one process exclude each
    # other too.
    with path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as error:
            raise RenewalAlreadyRunning(period=period_start.strftime("%Y-%m")) from error
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
