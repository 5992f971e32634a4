"""The platform context handed to every action: settings, database, clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from voipdesk.core.clock import Clock, SystemClock, today
from voipdesk.core.db import WRITE_OPTION, make_engine
from voipdesk.core.settings import Settings, get_settings

if TYPE_CHECKING:  # not imported at run time: the switch's routing module imports this one
    from voipdesk.core.async_reads import AsyncReadPool
    from voipdesk.core.files import FileStore


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    # The event loop's asynchronous connections for the hottest reads (core.async_reads), set
    # while an application serves (its lifespan); None on SQLite and outside it.
    read_pool: AsyncReadPool | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Reads and writes share the engine's pool; only writes are marked, so that on SQLite
        # only they take the write lock when they begin (see core.db).
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )

    @property
    def files(self) -> FileStore:
        """Where audio is kept (`VOIPDESK_MEDIA_DIR`)."""
        from pathlib import Path

        from voipdesk.core.files import FileStore

        return FileStore(Path(self.settings.media_dir))

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, clock: Clock | None = None
    ) -> Platform:
        settings = settings or get_settings()
        return cls(
            settings=settings,
            engine=make_engine(settings.database_url),
            clock=clock or SystemClock(),
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One action, one transaction: committed when the block ends, rolled back on error."""
        with self._write_sessions() as session, session.begin():
            yield session

    def session(self) -> Session:
        """A session for reads that a page or API answer needs (it must not write: on SQLite a
        read transaction does not hold the write lock, use `transaction()` to change data)."""
        return self._sessions()

    def now(self):
        return self.clock.now()

    def today(self):
        return today(self.clock, self.settings.timezone)
