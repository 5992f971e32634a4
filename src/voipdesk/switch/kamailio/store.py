"""The routing records as Kamailio's workers read them: SQLite (one indexed query per lookup, by
the standard library) or PostgreSQL (psycopg2; a per-worker cache that LISTEN/NOTIFY keeps
current, because one query per call halves the call rate).

Standard library and psycopg2 only: this runs in Kamailio's embedded interpreter.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger("voipdesk.switch")

NOTIFY_CHANNEL = "voipdesk_routing"
RETRY_SECONDS = 1.0  # after losing the database, how long calls are refused before a new try
APPLICATION_NAME = "voipdesk-switch"  # how the switch's connections show in pg_stat_activity
CONNECT_TIMEOUT = 1  # seconds
MAX_CACHED = (
    200_000  # records per worker (about 1 KB each): a call is refused quickly rather than hung
)


class StoreUnavailable(Exception):
    """The database cannot be read now: the call is refused with 503 (not hung)."""


def store_for(database_url: str) -> RecordStore:
    scheme = urlsplit(database_url).scheme.split("+")[0]
    if scheme == "sqlite":
        return SQLiteStore(sqlite_path(database_url))
    if scheme in ("postgresql", "postgres"):
        return PostgresStore(postgres_dsn(database_url))
    raise ValueError(f"unsupported database for the switch: {scheme}")


def sqlite_path(database_url: str) -> str:
    return database_url.split(":///", 1)[1] if ":///" in database_url else "voipdesk.sqlite3"


def postgres_dsn(database_url: str) -> str:
    parts = urlsplit(database_url)
    scheme = parts.scheme.split("+")[0]
    return parts._replace(scheme="postgresql" if scheme == "postgres" else scheme).geturl()


def _decode(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


class RecordStore:
    """`by_user` (a SIP username) and `by_number` (an E.164 number) give the compiled record, or
    None when there is none; StoreUnavailable when the database cannot answer."""

    def by_user(self, sip_user: str) -> Mapping[str, Any] | None:
        raise NotImplementedError

    def by_number(self, number: str) -> Mapping[str, Any] | None:
        raise NotImplementedError

    def abbreviated(self, group_id: str, line_number: str, code: str) -> str | None:
        raise NotImplementedError

    def writer_connection(self) -> Any:
        raise NotImplementedError


_BY_USER = "SELECT record FROM telephony_routing_record WHERE sip_username = {0}"
_BY_NUMBER = "SELECT record FROM telephony_routing_record WHERE number = {0}"
# The line's own abbreviated number wins over the group's (same code).
_ABBREVIATED = (
    "SELECT destination_e164 FROM abbreviated_number WHERE billing_group_id = {0} AND code = {0}"
    " AND (line_number IS NULL OR line_number = {0}) ORDER BY line_number IS NULL LIMIT 1"
)


class SQLiteStore(RecordStore):
    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.path, timeout=2, isolation_level=None)
            connection.execute("PRAGMA busy_timeout = 2000")
            self._connection = connection
        return self._connection

    def _one(self, sql: str, *args: str) -> Any:
        try:
            row = self._db().execute(sql.format("?"), args).fetchone()
        except sqlite3.Error as error:
            self._connection = None
            raise StoreUnavailable(str(error)) from error
        return None if row is None else row[0]

    def by_user(self, sip_user: str) -> Mapping[str, Any] | None:
        value = self._one(_BY_USER, sip_user)
        return None if value is None else _decode(value)

    def by_number(self, number: str) -> Mapping[str, Any] | None:
        value = self._one(_BY_NUMBER, number)
        return None if value is None else _decode(value)

    def abbreviated(self, group_id: str, line_number: str, code: str) -> str | None:
        return self._one(_ABBREVIATED.replace("{0}", "?", 1), group_id, code, line_number)

    def writer_connection(self) -> Any:
        connection = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        connection.execute("PRAGMA busy_timeout = 5000")
        return connection


class PostgresStore(RecordStore):
    """Records cached per worker. The cache is trusted only while this worker listens for
    changes: a lost listener empties it, and lookups go to the database until it is back."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._query: Any = None
        self._listener: Any = None
        self._by_user: dict[str, Mapping[str, Any] | None] = {}
        self._by_number: dict[str, Mapping[str, Any] | None] = {}
        self._down_until = 0.0

    def _connect(self) -> Any:
        import psycopg2  # Debian's python3-psycopg2 (C build: a third of psycopg 3's pure one)

        connection = psycopg2.connect(
            self.dsn, connect_timeout=CONNECT_TIMEOUT, application_name=APPLICATION_NAME
        )
        connection.autocommit = True
        return connection

    def _ensure(self) -> None:
        if self._query is not None and self._listener is not None:
            return
        if time.monotonic() < self._down_until:
            raise StoreUnavailable("database unavailable (retrying shortly)")
        try:
            if self._listener is None:
                listener = self._connect()
                listener.cursor().execute(f"LISTEN {NOTIFY_CHANNEL}")
                self._listener = listener
                self._forget()  # what changed while nobody listened is unknown
            if self._query is None:
                query = self._connect()
                cursor = query.cursor()
                cursor.execute(
                    "PREPARE vd_user(text) AS " + _BY_USER.format("$1") + ";"
                    "PREPARE vd_number(text) AS " + _BY_NUMBER.format("$1") + ";"
                    "PREPARE vd_abbreviated(text, text, text) AS "
                    + _ABBREVIATED.replace("{0}", "$1", 1)
                    .replace("{0}", "$2", 1)
                    .replace("{0}", "$3", 1)
                )
                self._query = query
        except Exception as error:  # any driver error: refuse calls for a moment, then retry
            self._lost(error)
            raise StoreUnavailable(str(error)) from error

    def _lost(self, error: Exception) -> None:
        log.warning("voipdesk switch: database lost (%s)", error)
        for connection in (self._query, self._listener):
            try:
                if connection is not None:
                    connection.close()
            except Exception:
                pass
        self._query = self._listener = None
        self._forget()
        self._down_until = time.monotonic() + RETRY_SECONDS

    @staticmethod
    def _remember(
        cache: dict[str, Mapping[str, Any] | None], key: str, record: Mapping[str, Any] | None
    ) -> None:
        # Unknown names are remembered too (a scan of random names costs one query each), but a
        # bounded number: past it the cache starts again rather than growing without end.
        if len(cache) >= MAX_CACHED:
            cache.clear()
        cache[key] = record

    def _forget(self) -> None:
        self._by_user.clear()
        self._by_number.clear()

    def _drain(self) -> None:
        """Evicts the numbers whose record changed (non-blocking: notices already received)."""
        listener = self._listener
        try:
            # A connection the server ended reads its last message at the first poll and fails
            # only at the next: polling twice sees a restart before any stale answer.
            listener.poll()
            listener.poll()
        except Exception as error:
            self._lost(error)
            raise StoreUnavailable(str(error)) from error
        if not listener.notifies:
            return
        numbers = {notice.payload for notice in listener.notifies}
        listener.notifies.clear()
        for number in numbers:
            record = self._by_number.pop(number, None)
            if record is not None:
                user = (record.get("sip") or {}).get("username")
                if user:
                    self._by_user.pop(str(user), None)
        # A user whose record moved to another number, or a negative entry: looked up again.
        self._by_user = {k: v for k, v in self._by_user.items() if v is not None}
        self._by_number = {k: v for k, v in self._by_number.items() if v is not None}

    def _fetch(self, statement: str, *args: str) -> Any:
        self._ensure()
        self._drain()
        try:
            cursor = self._query.cursor()
            cursor.execute(f"EXECUTE {statement}(" + ", ".join(["%s"] * len(args)) + ")", args)
            row = cursor.fetchone()
        except Exception as error:
            self._lost(error)
            raise StoreUnavailable(str(error)) from error
        return None if row is None else row[0]

    def by_user(self, sip_user: str) -> Mapping[str, Any] | None:
        self._ensure()
        self._drain()
        if sip_user in self._by_user:
            return self._by_user[sip_user]
        value = self._fetch("vd_user", sip_user)
        record = None if value is None else _decode(value)
        self._remember(self._by_user, sip_user, record)
        if record is not None:
            self._by_number[record["number"]] = record
        return record

    def by_number(self, number: str) -> Mapping[str, Any] | None:
        self._ensure()
        self._drain()
        if number in self._by_number:
            return self._by_number[number]
        value = self._fetch("vd_number", number)
        record = None if value is None else _decode(value)
        self._remember(self._by_number, number, record)
        return record

    def abbreviated(self, group_id: str, line_number: str, code: str) -> str | None:
        value = self._fetch("vd_abbreviated", group_id, code, line_number)
        return None if value is None else str(value)

    def writer_connection(self) -> Any:
        return self._connect()
