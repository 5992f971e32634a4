"""The outbox's retry schedule and delivery (the database parts run on both backends)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from voipdesk.core.outbox import OutboxMessage, drain, enqueue, handler, retry_delay

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
