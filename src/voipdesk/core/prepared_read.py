"""One SELECT compiled once and run straight on a pooled driver connection, outside a transaction.

For the statements that every API call runs (the bearer token lookup, a group's lines): through
SQLAlchemy's Connection a lone SELECT cost about 0.4 ms of CPU on PostgreSQL here (checkout with
its isolation level set and reset, execution context, result object), against 0.1 ms for the
driver's own cursor. The statement is still written with SQLAlchemy Core and compiled for the
engine's dialect; its columns' own result processors (UTC instants, exact decimals) run on each
row; driver errors come out as SQLAlchemy's (a lost connection is invalidated and answers 503
like any other). No transaction: a lone statement sees one consistent snapshot by itself (on
PostgreSQL in autocommit, on SQLite the connections run without implicit BEGIN, see core.db).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select

from voipdesk.core import async_reads
from voipdesk.core.async_reads import AsyncReadPool, Fetched

Processor = Callable[[Any], Any] | None


@dataclass
class _Compiled:
    sql: str
    positions: Sequence[str] | None  # qmark drivers (sqlite3) take values in this order
    defaults: dict[str, Any]  # the statement's own values (IN lists, literals)
    bind_processors: dict[str, Callable[[Any], Any]]
    dialect: Dialect
    column_types: list[Any]
    # known at the first answer: a column's processor depends on the type the driver reports
    result_processors: list[Processor] | None = None

    def processors_for(self, description: Sequence[Any] | None) -> list[Processor]:
        if self.result_processors is None:
            codes = [column[1] for column in description or ()] or [None] * len(self.column_types)
            self.result_processors = [
                kind.dialect_impl(self.dialect).result_processor(self.dialect, code)
                for kind, code in zip(self.column_types, codes, strict=True)
            ]
        return self.result_processors


class PreparedRead:
    """A SELECT with named bind parameters (`bindparam("name")`), compiled once per dialect."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.keys = tuple(statement.selected_columns.keys())
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, engine: Engine) -> _Compiled:
        dialect = engine.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            first = self.statement.compile(dialect=dialect)
            # IN lists of constants are expanded once, here, instead of at each execution
            required = {name: None for name, bind in first.binds.items() if bind.required}
            expanded = first.construct_expanded_state(required)
            processors = {
                name: processor
                for name, bind in first.binds.items()
                if not bind.expanding
                and (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
            }
            compiled = self._compiled[dialect.name] = _Compiled(
                sql=expanded.statement,
                positions=expanded.positiontup,
                defaults=dict(expanded.parameters),
                bind_processors={**processors, **expanded.processors},
                dialect=dialect,
                column_types=[column.type for column in self.statement.selected_columns],
            )
        return compiled

    def rows(self, engine: Engine, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        compiled = self._compile(engine)
        bound = _bind(compiled, params)
        return _process(compiled, _execute(engine, compiled.sql, bound))

    async def rows_async(
        self, engine: Engine, pool: AsyncReadPool | None, params: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The same rows, awaited on the event loop's pool (core.async_reads) when it has one."""
        compiled = self._compile(engine)
        bound = _bind(compiled, params)
        fetched = await async_reads.fetchall(
            pool, compiled.sql, bound, lambda: _execute(engine, compiled.sql, bound)
        )
        return _process(compiled, fetched)

    async def first_async(
        self, engine: Engine, pool: AsyncReadPool | None, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        found = await self.rows_async(engine, pool, params)
        return found[0] if found else None

    async def mappings_async(
        self, engine: Engine, pool: AsyncReadPool | None, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        keys = self.keys
        rows = await self.rows_async(engine, pool, params)
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def first(self, engine: Engine, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(engine, params)
        return found[0] if found else None

    def mappings(self, engine: Engine, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        keys = self.keys
        return [dict(zip(keys, row, strict=True)) for row in self.rows(engine, params)]


def _bind(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    values = {**compiled.defaults, **params}
    for name, processor in compiled.bind_processors.items():
        values[name] = processor(values[name])
    if compiled.positions is not None:
        return [values[name] for name in compiled.positions]
    return values


def _process(compiled: _Compiled, fetched: Fetched) -> list[tuple[Any, ...]]:
    rows, description = fetched
    processors = compiled.processors_for(description)
    return [
        tuple(
            value if processor is None or value is None else processor(value)
            for processor, value in zip(processors, row, strict=True)
        )
        for row in rows
    ]


def _execute(engine: Engine, sql: str, bound: Any) -> Fetched:
    dialect = engine.dialect
    is_postgresql = dialect.name == "postgresql"
    try:
        connection = engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:  # the pool's connect is not wrapped by itself
        raise exc.DBAPIError.instance(
            sql, bound, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    driver: Any = connection.driver_connection
    try:
        try:
            if is_postgresql:
                driver.autocommit = True  # no BEGIN, hence no ROLLBACK when it goes back
            cursor = connection.cursor()
            cursor.execute(sql, bound)
            rows = cursor.fetchall()
            description = cursor.description
            cursor.close()
            return rows, description
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, driver, None)
            if lost:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(
                sql,
                bound,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=dialect,
            ) from error
        finally:
            if is_postgresql and connection.is_valid:
                # back as the engine's other users expect it, or out of the pool
                try:
                    driver.autocommit = False
                except dialect.loaded_dbapi.Error as error:
                    connection.invalidate(error)
    finally:
        connection.close()
