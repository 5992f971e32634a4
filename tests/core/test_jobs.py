"""Two workers sharing one PostgreSQL database run each periodic job once per period."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest

from tests.conftest import START
from voipdesk.core import jobs
from voipdesk.core.clock import MovableClock
from voipdesk.core.db import make_engine
from voipdesk.core.jobs import JobSchedule, PeriodicJob, run_due_jobs
from voipdesk.core.platform import Platform

STEP = timedelta(minutes=1)  # how far the clock moves between two passes of the workers
ROUNDS = 60
# Periods of 1 to 5 steps and one of 90 s (due every other pass, then after one, ...).
EVERY = {
    "tests.every_1": STEP,
    "tests.every_2": 2 * STEP,
    "tests.every_3": 3 * STEP,
    "tests.every_5": 5 * STEP,
    "tests.every_90s": timedelta(seconds=90),
}
NEW = "tests.never_planned"  # no row yet: both workers plan it in the first pass


def _expected(every: timedelta) -> list[datetime]:
    """The instants one worker alone runs a job planned at START."""
    runs, next_run = [], START
    for round_ in range(ROUNDS):
        now = START + round_ * STEP
        if now >= next_run:
            runs.append(now)
            next_run = now + every
    return runs


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_run_each_due_job_once_per_period(platform, settings, monkeypatch):
    clock = MovableClock(START)
    runs: list[tuple[str, datetime, str]] = []
    lock = threading.Lock()

    def job(name: str):  # type: ignore[no-untyped-def]
        def run(worker: Platform) -> None:
            with lock:
                runs.append((name, worker.now(), threading.current_thread().name))

        return run

    every = {**EVERY, NEW: STEP}
    monkeypatch.setattr(
        jobs,
        "_JOBS",
        {name: PeriodicJob(name, period, job(name)) for name, period in every.items()},
    )
    with platform.transaction() as session:
        for name in EVERY:
            session.add(JobSchedule(name=name, next_run_at=START))
    # Each worker with its own engine (its own connections), as two processes would have.
    workers = [
        Platform(settings=settings, engine=make_engine(settings.database_url), clock=clock)
        for _ in range(2)
    ]
    errors: list[BaseException] = []
    # Both pass at once; when both are done, the clock moves one step.
    passes = threading.Barrier(2, action=lambda: clock.advance(STEP))

    def work(worker: Platform) -> None:
        for _ in range(ROUNDS):
            try:
                run_due_jobs(worker)
            except Exception as error:  # the real worker logs it and tries again next second
                errors.append(error)
            passes.wait()

    threads = [
        threading.Thread(target=work, args=(worker,), name=f"worker-{index}")
        for index, worker in enumerate(workers)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        passes.abort()
        for worker in workers:
            worker.engine.dispose()
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    for name, period in EVERY.items():
        instants = [at for job_name, at, _worker in runs if job_name == name]
        assert sorted(instants) == _expected(period), name  # once per period, none twice
    new = Counter(at for job_name, at, _worker in runs if job_name == NEW)
    # Planned in the first pass (and run then too if the other worker saw the plan): then once
    # in each later pass.
    assert new[START] <= 1
    assert sorted(at for at in new if at != START) == [
        START + round_ * STEP for round_ in range(1, ROUNDS)
    ]
    assert max(new.values()) == 1
    assert {worker for _name, _at, worker in runs} == {"worker-0", "worker-1"}  # both took part
