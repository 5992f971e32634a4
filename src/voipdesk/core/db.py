"""Database: engines for SQLite (embedded default, WAL) and PostgreSQL (psycopg 3); column types."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, Numeric, String, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC; always given back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use the clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DecimalAmount(TypeDecorator[Decimal]):
    """Exact decimals: NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC goes through float)."""

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("amounts are Decimal, never float")
        return str(Decimal(value)) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def new_id() -> str:
    """Opaque public identifiers: nothing to guess from them, nothing to enumerate."""
    return uuid.uuid4().hex


def normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


# Execution option set by `Platform.transaction()`: on SQLite its BEGIN takes the write lock.
WRITE_OPTION = "voipdesk_write"

# Web threads (anyio's pool runs sync endpoints on 40 threads) share this many connections.
POOL_SIZE = 20


def make_engine(url: str, **options: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # As many pooled connections as PostgreSQL gets: with SQLAlchemy's default of 5, every
        # request above five at once opened a new connection (and ran its PRAGMAs) and closed it.
        if _sqlite_file(url):  # an in-memory database has one connection per thread instead
            options.setdefault("pool_size", POOL_SIZE)
            options.setdefault("max_overflow", POOL_SIZE)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **options
        )
        _configure_sqlite(engine)
        return engine
    # No pool_pre_ping: it costs a round trip on every checkout. Connections are recycled after
    # half an hour instead, and a connection found dead while in use is invalidated by SQLAlchemy
    # (with every older one in the pool), so only the request that met it fails.
    options.setdefault("pool_size", POOL_SIZE)
    options.setdefault("max_overflow", POOL_SIZE)
    options.setdefault("pool_recycle", 1800)
    options.setdefault("pool_use_lifo", True)
    # A database that does not answer fails the request after a few seconds (503), never a hang.
    options.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **options)


def _sqlite_file(url: str) -> bool:
    database = url.split("://", 1)[1].lstrip("/") if "://" in url else ""
    return bool(database) and ":memory:" not in database and "mode=memory" not in database


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself, so every transaction can take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Write transactions (Platform.transaction) take the lock up front with IMMEDIATE: two
        # writers wait for each other instead of failing on lock upgrade. Reads (Platform.session)
        # use a plain deferred BEGIN: in WAL mode they read a snapshot and never wait for a writer.
        options = connection.get_execution_options()
        if options.get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
