"""Call records reach the database once, whatever happens to their reports; the switch's store
refuses calls quickly when the database is gone."""

from __future__ import annotations

import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from voipdesk.switch import services
from voipdesk.switch.kamailio import reporter
from voipdesk.switch.kamailio.store import PostgresStore, StoreUnavailable, store_for
from voipdesk.switch.models import ActiveCall, CallRecord


def _call(key: str, **values) -> dict:  # type: ignore[no-untyped-def]
    now = time.time()
    return {
        "call_key": key,
        "caller": "+33400000001",
        "callee": "+33612345678",
        "direction": "outgoing",
        "line_number": "+33400000001",
        "billing_group_id": "g1",
        "route": "direct",
        "target": "+33612345678",
        "started_at": now - 30,
        "answered_at": now - 25,
        "ended_at": now,
        "duration_seconds": 25,
        "disposition": "answered",
        "sip_code": 200,
        "reason": "hung up",
        **values,
    }


def _connection(platform):  # type: ignore[no-untyped-def]
    url = platform.settings.database_url
    return store_for(url).writer_connection(), "sqlite" if url.startswith(
        "sqlite"
    ) else "postgresql"


def test_a_record_reported_twice_is_stored_once_and_ends_its_call_in_progress(platform):
    connection, dialect = _connection(platform)
    reporter.store(connection, dialect, [{"event": "active", **_call("k1")}])
    with platform.session() as session:
        assert [c.call_key for c in session.scalars(select(ActiveCall))] == ["k1"]
        assert [c.call_key for c in services.calls_in_progress(session, "+33400000001")] == ["k1"]
    reporter.store(connection, dialect, [{"event": "call", **_call("k1")}])
    reporter.store(connection, dialect, [{"event": "call", **_call("k1", duration_seconds=99)}])
    with platform.session() as session:
        rows = list(session.scalars(select(CallRecord)))
        assert session.scalars(select(ActiveCall)).all() == []
    assert [(r.call_key, r.duration_seconds, r.disposition) for r in rows] == [
        ("k1", 25, "answered")
    ]
    assert rows[0].started_at.tzinfo is not None


def test_store_calls_of_an_import_is_idempotent(platform):
    call = services.Call(
        call_key="import-1",
        caller="+33400000001",
        callee="+33612345678",
        direction="outgoing",
        line_number="+33400000001",
        billing_group_id="g1",
        route="direct",
        target=None,
        started_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        answered_at=datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC),
        ended_at=datetime(2026, 3, 2, 9, 1, 5, tzinfo=UTC),
        duration_seconds=60,
        disposition="answered",
        sip_code=200,
        reason=None,
        source="import",
    )
    with platform.transaction() as session:
        assert services.store_calls(session, [call, call]) == 1
    with platform.transaction() as session:
        assert services.store_calls(session, [call]) == 0
    with platform.session() as session:
        found = services.calls_between(
            session, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
        )
    assert found == [call]


def test_the_writer_keeps_events_while_the_database_is_down_and_stores_them_after(platform):
    connection, dialect = _connection(platform)
    attempts = {"count": 0}

    def connect():  # type: ignore[no-untyped-def]
        attempts["count"] += 1
        if attempts["count"] == 1:
            raise OSError("database restarting")
        return connection

    port = _free_port()
    writer = reporter.Writer(port, connect, dialect)
    sender = reporter.Sender(port)
    sender.send("call", _call("k2"))
    time.sleep(0.05)
    assert writer.flush() == 0 and len(writer.pending) == 1  # kept, not lost
    assert writer.flush() == 1 and not writer.pending
    with platform.session() as session:
        assert [r.call_key for r in session.scalars(select(CallRecord))] == ["k2"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_lost_database_refuses_lookups_at_once_instead_of_hanging():
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/none")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.by_user("33400000001")
    with pytest.raises(StoreUnavailable, match="retrying"):
        store.by_user("33400000001")  # no new attempt for a moment: answered at once
    assert time.monotonic() - started < 2


def test_the_routing_module_imports_in_debians_own_python():
    """Kamailio embeds Debian's python3, not this project's environment: its module must import
    with the standard library (and Debian's psycopg2) only."""
    source = str(Path(__file__).resolve().parents[2] / "src")
    script = (
        f"import sys; sys.path.insert(0, {source!r}); "
        "import voipdesk.switch.kamailio.handler as h; "
        "assert 'sqlalchemy' not in sys.modules and 'pydantic' not in sys.modules"
    )
    result = subprocess.run(
        ["/usr/bin/python3", "-I", "-c", script], capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
