"""The outbox's retry schedule and delivery (the database parts run on both backends)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from voipdesk.core import jobs
from voipdesk.core.jobs import PeriodicJob
from voipdesk.core.outbox import OutboxMessage, Worker, drain, enqueue, handler, retry_delay

DELIVERED: list[int] = []
FAILURES: dict[int, int] = {}


@handler("tests.core.flaky")
def _flaky(platform, session, payload):  # type: ignore[no-untyped-def]
    key = payload["n"]
    if FAILURES.get(key, 0) > 0:
        FAILURES[key] -= 1
        raise ConnectionError("temporary failure")
    DELIVERED.append(key)


def test_retry_delay_doubles_from_ten_seconds():
    assert [retry_delay(n).total_seconds() for n in range(1, 6)] == [10, 20, 40, 80, 160]


@settings(max_examples=100)
@given(st.integers(min_value=0, max_value=10_000))
def test_retry_delay_grows_and_is_capped_at_one_hour(attempts):
    delay = retry_delay(attempts)
    assert timedelta(seconds=10) <= delay <= timedelta(hours=1)
    assert retry_delay(attempts + 1) >= delay


def test_a_failing_message_is_retried_after_its_backoff_and_delivered_once(platform, clock):
    DELIVERED.clear()
    FAILURES[7] = 2
    with platform.transaction() as session:
        enqueue(session, "tests.core.flaky", {"n": 7}, platform.now())
    assert drain(platform) == 1  # first try fails
    assert drain(platform) == 0  # not due again yet
    clock.advance(retry_delay(1))
    assert drain(platform) == 1  # second try fails
    clock.advance(retry_delay(2) - timedelta(seconds=1))
    assert drain(platform) == 0
    clock.advance(timedelta(seconds=1))
    assert drain(platform) == 1
    assert DELIVERED == [7]
    with platform.session() as session:
        message = session.scalar(
            select(OutboxMessage).where(OutboxMessage.topic == "tests.core.flaky")
        )
        assert message is not None
        assert message.attempts == 3 and message.delivered_at is not None
        assert "temporary failure" in (message.last_error or "")


def test_a_dedup_key_makes_one_message(platform):
    with platform.transaction() as session:
        first = enqueue(session, "tests.core.flaky", {"n": 1}, platform.now(), dedup_key="same")
        session.flush()
        second = enqueue(session, "tests.core.flaky", {"n": 1}, platform.now(), dedup_key="same")
        assert first is second


_STOPPED_DURING: list[int] = []
_worker_to_stop: list[Worker] = []


@handler("tests.core.stop_during")
def _stop_during(platform, session, payload):  # type: ignore[no-untyped-def]
    _worker_to_stop[0].stop()  # SIGTERM arrives while this message is being delivered
    _STOPPED_DURING.append(payload["n"])


def test_a_worker_asked_to_stop_finishes_its_message_and_starts_no_other(platform, monkeypatch):
    _STOPPED_DURING.clear()
    jobs_run: list[str] = []
    monkeypatch.setattr(
        jobs,
        "_JOBS",
        {"tests.stop": PeriodicJob("tests.stop", timedelta(minutes=1), jobs_run.append)},
    )
    with platform.transaction() as session:
        for n in range(5):
            enqueue(session, "tests.core.stop_during", {"n": n}, platform.now())
    worker = Worker(platform)
    _worker_to_stop[:] = [worker]
    worker.run()  # returns once stopped
    assert _STOPPED_DURING == [0]
    with platform.session() as session:
        waiting = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.topic == "tests.core.stop_during",
                OutboxMessage.delivered_at.is_(None),
            )
        ).all()
    assert len(waiting) == 4  # still there for the next worker
    assert jobs_run == []
