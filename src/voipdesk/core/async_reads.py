"""The hottest reads of the API run on the event loop itself, on a few asynchronous connections.

Each hop of a request to the thread pool and back cost about 0.3 ms of the web process under load
here (measured with wrk: the lines list went from 570 to 691 requests/s with one hop less), more
than the statement it carries. So on PostgreSQL the bearer token lookup and a group's lines are
awaited on psycopg's AsyncConnection, in autocommit, from this small pool; a request then needs no
hop for them. SQLite has no asynchronous driver: there, and whenever no pool runs (an application
served without its lifespan), the same statement goes to the thread pool as before.

A lost connection answers like the synchronous engine's: SQLAlchemy's OperationalError (503
`database-unavailable`), and every idle connection is closed with it, since a restart of the
database takes them all, so only the request that met it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Engine, exc
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")
# The rows of a statement and its cursor's description (the types the driver reports).
Fetched = tuple[Sequence[Any], Sequence[Any] | None]

# A few are enough: a statement here holds its connection for a fraction of a millisecond.
POOL_SIZE = 8
CONNECT_TIMEOUT_S = 5  # as the engine's connections (core.db)


class AsyncReadPool:
    """Connections of one event loop to the engine's PostgreSQL database, for single statements."""

    def __init__(self, engine: Engine, size: int = POOL_SIZE) -> None:
        self.engine = engine
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._idle: list[Any] = []
        self._slots = asyncio.Semaphore(size)
        self._closed = False

    async def fetchall(self, sql: str, params: Any) -> Fetched:
        import psycopg

        async with self._slots:
            connection = self._idle.pop() if self._idle else None
            try:
                if connection is None:
                    connection = await psycopg.AsyncConnection.connect(
                        self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
                    )
                cursor = await connection.execute(sql, params)
                rows = await cursor.fetchall()
                description = cursor.description
            except psycopg.Error as error:
                # Lost (never made, or broken): the others went with it. Otherwise the statement
                # itself failed, and only its own connection is dropped, to be safe.
                lost = connection is None or connection.broken or connection.closed
                await self._discard(connection, everyone=lost)
                raise exc.DBAPIError.instance(
                    sql,
                    params,
                    error,
                    psycopg.Error,
                    connection_invalidated=lost,
                    dialect=self.engine.dialect,
                ) from error
            except BaseException:  # cancelled mid-statement: its state is unknown
                await self._discard(connection)
                raise
            if self._closed:
                await connection.close()
            else:
                self._idle.append(connection)
            return rows, description

    async def _discard(self, connection: Any, *, everyone: bool = False) -> None:
        doomed = [connection] if connection is not None else []
        if everyone:
            doomed += self._idle
            self._idle = []
        for each in doomed:
            with contextlib.suppress(Exception):  # already broken: nothing more to do with it
                await each.close()

    async def close(self) -> None:
        self._closed = True
        await self._discard(None, everyone=True)


def start_pool(engine: Engine) -> AsyncReadPool | None:
    """A pool for the running event loop, on PostgreSQL; None on SQLite."""
    return AsyncReadPool(engine) if engine.dialect.name == "postgresql" else None


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in the thread pool, awaited (blocking work called from async code)."""
    return await run_in_threadpool(function, *args)


async def fetchall(pool: AsyncReadPool | None, sql: str, params: Any, run_sync: Any) -> Fetched:
    """The rows of one statement: on the pool when there is one, else `run_sync()` in a thread."""
    if pool is None:
        return await in_thread(run_sync)  # type: ignore[no-any-return]
    return await pool.fetchall(sql, params)
