"""SQLite transactions: reads do not queue behind a write transaction; writes still serialise."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from tests.conftest import test_settings as settings_for
from voipdesk.core.db import make_engine
from voipdesk.core.platform import Platform


def _platform(path: Path) -> Platform:
    url = f"sqlite:///{path}"
    platform = Platform(settings=settings_for(url), engine=make_engine(url))
    with platform.transaction() as session:
        session.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)"))
        session.execute(text("INSERT INTO item (name) VALUES ('committed')"))
    return platform


def test_a_read_completes_while_a_write_transaction_is_open(tmp_path: Path) -> None:
    platform = _platform(tmp_path / "db.sqlite3")
    seen: list[list[str]] = []
    with platform.transaction() as writing:
        writing.execute(text("INSERT INTO item (name) VALUES ('uncommitted')"))

        def read() -> None:
            with platform.session() as session:
                seen.append(list(session.scalars(text("SELECT name FROM item ORDER BY id"))))

        started = time.monotonic()
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(5)  # with BEGIN IMMEDIATE it would wait for the writer (busy timeout 30 s)
        assert not reader.is_alive()
        assert time.monotonic() - started < 5
    assert seen == [["committed"]]  # its snapshot: the writer's row is not visible yet
    platform.engine.dispose()


def test_two_write_transactions_wait_for_each_other(tmp_path: Path) -> None:
    platform = _platform(tmp_path / "db.sqlite3")
    order: list[str] = []
    first_holds_lock = threading.Event()

    def second() -> None:
        first_holds_lock.wait(5)
        with platform.transaction() as session:  # its BEGIN waits for the first writer's commit
            session.execute(text("INSERT INTO item (name) VALUES ('second')"))
            order.append("second")

    other = threading.Thread(target=second)
    other.start()
    with platform.transaction() as session:
        session.execute(text("SELECT 1"))  # IMMEDIATE: the lock is taken at BEGIN
        first_holds_lock.set()
        time.sleep(0.3)
        order.append("first")
        session.execute(text("INSERT INTO item (name) VALUES ('first')"))
    other.join(10)
    assert order == ["first", "second"]
    with platform.session() as session:
        names = list(session.scalars(text("SELECT name FROM item ORDER BY id")))
    assert names == ["committed", "first", "second"]
    platform.engine.dispose()
