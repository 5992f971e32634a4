"""Periodic jobs (order expiry, reminders, the monthly renewal) run by the workers.

Each job has one row; a worker claims a due row with `FOR UPDATE SKIP LOCKED`, so a job runs on
one worker at a time, and jobs themselves are idempotent, so a repeat after a crash is harmless.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from voipdesk.core.db import Base, UTCDateTime

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[Platform], object]


_JOBS: dict[str, PeriodicJob] = {}


class JobSchedule(Base):
    __tablename__ = "job_schedule"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def periodic(
    name: str, every: timedelta
) -> Callable[[Callable[[Platform], object]], Callable[[Platform], object]]:
    def register(function: Callable[[Platform], object]) -> Callable[[Platform], object]:
        _JOBS[name] = PeriodicJob(name, every, function)
        return function

    return register


def registered_jobs() -> dict[str, PeriodicJob]:
    return dict(_JOBS)


def run_due_jobs(platform: Platform, stopping: threading.Event | None = None) -> list[str]:
    """Runs each job that is due, one after the other; once `stopping` is set, no further job
    is started."""
    ran: list[str] = []
    # One read first: the worker polls every second, and claiming every job in a write
    # transaction each time took the write lock (SQLite) several times a second for nothing.
    with platform.session() as session:
        planned = dict(session.execute(select(JobSchedule.name, JobSchedule.next_run_at)).all())
    for job in list(_JOBS.values()):
        if stopping is not None and stopping.is_set():
            break
        if job.name in planned and planned[job.name] > platform.now():
            continue
        with platform.transaction() as session:
            now = platform.now()
            row = session.scalar(
                select(JobSchedule)
                .where(JobSchedule.name == job.name)
                .with_for_update(skip_locked=True)
            )
            if row is None:
                # None also when another worker holds the row (skip_locked): only a job never
                # planned is added, and two workers adding it at once is no failure.
                if job.name not in planned:
                    try:
                        with session.begin_nested():
                            session.add(JobSchedule(name=job.name, next_run_at=now))
                    except IntegrityError:
                        pass
                continue
            if row.next_run_at > now:
                continue
            row.next_run_at = now + job.every
            row.last_run_at = now
        # The job runs outside the claim: its own actions are one transaction each.
        try:
            job.run(platform)
            ran.append(job.name)
        except Exception:
            log.exception("job.failed", job=job.name)
    return ran
