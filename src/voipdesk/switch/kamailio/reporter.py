"""Call records, calls in progress, registrations and security events, off the SIP workers.

Workers send each event as one UDP datagram to the writer (a Kamailio timer process of its own)
without waiting; every 100 ms the writer stores what arrived in one transaction. A record is
written once whatever happens (its `call_key` is the primary key: a repeated report is ignored),
and while the database is down the writer keeps the events in memory and tries again.
"""

from __future__ import annotations

import json
import logging
import socket
from collections import deque
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("voipdesk.switch")

MAX_DATAGRAM = 16_384
MAX_PENDING = 500_000  # events kept while the database is down (then the oldest are dropped)

CALL_COLUMNS = [
    "call_key",
    "caller",
    "callee",
    "direction",
    "line_number",
    "billing_group_id",
    "route",
    "target",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_seconds",
    "disposition",
    "sip_code",
    "reason",
    "source",
]
ACTIVE_COLUMNS = [
    "call_key",
    "caller",
    "callee",
    "direction",
    "line_number",
    "started_at",
    "answered_at",
]
REGISTRATION_COLUMNS = [
    "number",
    "sip_username",
    "registered_at",
    "expires_at",
    "ip",
    "port",
    "transport",
    "user_agent",
    "contact",
]
SECURITY_COLUMNS = ["at", "kind", "ip", "sip_username", "detail"]
TIME_COLUMNS = {"started_at", "answered_at", "ended_at", "registered_at", "expires_at", "at"}


class Sender:
    """The workers' side: fire and forget (a full socket buffer drops, and the drop is logged)."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.address = (host, port)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)

    def send(self, kind: str, values: dict[str, Any]) -> None:
        payload = json.dumps({"event": kind, **values}, separators=(",", ":")).encode()
        try:
            self._socket.sendto(payload[:MAX_DATAGRAM], self.address)
        except OSError as error:
            log.error("voipdesk switch: event %s lost (%s)", kind, error)


class Writer:
    """The writer's side: `flush()` drains the socket and stores everything in one transaction."""

    def __init__(self, port: int, connect: Any, dialect: str, host: str = "127.0.0.1") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self._socket.bind((host, port))
        self._socket.setblocking(False)
        self._connect = connect
        self._dialect = dialect
        self._connection: Any = None
        self.pending: deque[dict[str, Any]] = deque(maxlen=MAX_PENDING)

    def receive(self) -> int:
        count = 0
        while True:
            try:
                data = self._socket.recv(MAX_DATAGRAM)
            except BlockingIOError:
                return count
            try:
                self.pending.append(json.loads(data))
                count += 1
            except ValueError:
                log.error("voipdesk switch: unreadable event dropped")

    def flush(self) -> int:
        self.receive()
        if not self.pending:
            return 0
        events = list(self.pending)
        try:
            if self._connection is None:
                self._connection = self._connect()
            store(self._connection, self._dialect, events)
        except Exception as error:  # keep them; the next flush tries again
            log.warning("voipdesk switch: %d events wait for the database (%s)", len(events), error)
            try:
                if self._connection is not None:
                    self._connection.close()
            except Exception:
                pass
            self._connection = None
            return 0
        for _ in range(len(events)):
            self.pending.popleft()
        return len(events)


def _value(column: str, value: Any, dialect: str) -> Any:
    if column in TIME_COLUMNS and isinstance(value, (int, float)):
        moment = datetime.fromtimestamp(value, UTC)
        return moment.replace(tzinfo=None).isoformat(" ") if dialect == "sqlite" else moment
    return value


def _rows(events: list[dict[str, Any]], columns: list[str], dialect: str) -> list[tuple]:
    return [tuple(_value(c, event.get(c), dialect) for c in columns) for event in events]


def store(connection: Any, dialect: str, events: list[dict[str, Any]]) -> None:
    """Stores events in one transaction (records once by their key; calls in progress replaced
    by their latest state, and removed when their record arrives)."""
    mark = "?" if dialect == "sqlite" else "%s"
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_kind.setdefault(event.get("event", ""), []).append(event)
    calls = by_kind.get("call", [])
    finished = {event["call_key"] for event in calls}
    active: dict[str, dict[str, Any]] = {}
    for event in by_kind.get("active", []):
        if event["call_key"] not in finished:
            active[event["call_key"]] = {**active.get(event["call_key"], {}), **event}
    for event in calls:
        event.setdefault("source", "switch")

    def insert(table: str, columns: list[str], rows: list[tuple], conflict: str) -> str:
        del rows
        names = ", ".join(columns)
        marks = ", ".join([mark] * len(columns))
        return f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}"

    cursor = connection.cursor()
    if dialect == "sqlite":
        cursor.execute("BEGIN IMMEDIATE")
    else:
        connection.autocommit = False
    try:
        if calls:
            rows = _rows(calls, CALL_COLUMNS, dialect)
            cursor.executemany(
                insert(
                    "switch_call_record", CALL_COLUMNS, rows, "ON CONFLICT (call_key) DO NOTHING"
                ),
                rows,
            )
            keys = [(key,) for key in finished]
            cursor.executemany(f"DELETE FROM switch_active_call WHERE call_key = {mark}", keys)
        if active:
            rows = _rows(list(active.values()), ACTIVE_COLUMNS, dialect)
            cursor.executemany(
                insert(
                    "switch_active_call",
                    ACTIVE_COLUMNS,
                    rows,
                    "ON CONFLICT (call_key) DO UPDATE SET answered_at = excluded.answered_at",
                ),
                rows,
            )
        for kind, table, columns in (
            ("registration", "telephony_registration", REGISTRATION_COLUMNS),
            ("security", "switch_security_event", SECURITY_COLUMNS),
        ):
            if by_kind.get(kind):
                rows = _rows(by_kind[kind], columns, dialect)
                cursor.executemany(insert(table, columns, rows, ""), rows)
        connection.commit()
    except Exception:
        connection.rollback()
        raise
    finally:
        if dialect != "sqlite":
            connection.autocommit = True
