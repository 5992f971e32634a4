"""Domain events: published in the caller's transaction, fanned out to every consumer, each
consumer delivered and retried on its own (the database parts run on both backends)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from voipdesk.core.events import consumers, publish, subscribe
from voipdesk.core.outbox import OutboxMessage, drain, retry_delay

SEEN: list[tuple[str, int]] = []
FAIL_SECOND: list[int] = []


@subscribe("tests.something_happened", consumer="tests.first")
def _first(platform, session, payload):  # type: ignore[no-untyped-def]
    SEEN.append(("first", payload["n"]))


@subscribe("tests.something_happened", consumer="tests.second")
def _second(platform, session, payload):  # type: ignore[no-untyped-def]
    if FAIL_SECOND:
        FAIL_SECOND.pop()
        raise ConnectionError("temporary failure")
    SEEN.append(("second", payload["n"]))


def _messages(platform):  # type: ignore[no-untyped-def]
    with platform.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_both_consumers_receive_the_event_once(platform):
    SEEN.clear()
    with platform.transaction() as session:
        publish(session, "tests.something_happened", {"n": 1}, now=platform.now())
    drain(platform)
    assert sorted(SEEN) == [("first", 1), ("second", 1)]
    assert drain(platform) == 0
    assert sorted(SEEN) == [("first", 1), ("second", 1)]
    topics = [message.topic for message in _messages(platform)]
    assert topics == [
        "event",
        "tests.something_happened>tests.first",
        "tests.something_happened>tests.second",
    ]


def test_a_failing_consumer_is_retried_alone(platform, clock):
    SEEN.clear()
    FAIL_SECOND.append(1)
    with platform.transaction() as session:
        publish(session, "tests.something_happened", {"n": 2}, now=platform.now())
    drain(platform)
    assert SEEN == [("first", 2)]
    clock.advance(retry_delay(1))
    drain(platform)
    assert SEEN == [("first", 2), ("second", 2)]  # the first consumer did not run again


def test_an_event_published_in_a_rolled_back_transaction_does_not_exist(platform):
    SEEN.clear()
    with pytest.raises(RuntimeError), platform.transaction() as session:
        publish(session, "tests.something_happened", {"n": 3}, now=platform.now())
        raise RuntimeError("the change failed")
    drain(platform)
    assert SEEN == []


def test_the_same_key_twice_is_one_event(platform):
    SEEN.clear()
    with platform.transaction() as session:
        first = publish(session, "tests.something_happened", {"n": 4}, now=platform.now(), key="a")
    with platform.transaction() as session:
        again = publish(session, "tests.something_happened", {"n": 4}, now=platform.now(), key="a")
    assert first == again
    drain(platform)
    assert sorted(SEEN) == [("first", 4), ("second", 4)]


def test_a_repeated_fan_out_does_not_duplicate_consumer_messages(platform):
    from voipdesk.core.events import _fan_out

    SEEN.clear()
    with platform.transaction() as session:
        publish(session, "tests.something_happened", {"n": 5}, now=platform.now(), key="b")
    drain(platform)
    with platform.transaction() as session:  # as if the fan-out were delivered a second time
        _fan_out(
            platform,
            session,
            {
                "id": "tests.something_happened:b",
                "name": "tests.something_happened",
                "payload": {"n": 5},
            },
        )
    assert drain(platform) == 0
    assert sorted(SEEN) == [("first", 5), ("second", 5)]


def test_an_event_without_consumers_is_delivered_without_effect(platform):
    with platform.transaction() as session:
        publish(session, "tests.nobody_listens", {"n": 6}, now=platform.now())
    assert drain(platform) == 1
    [message] = _messages(platform)
    assert message.delivered_at is not None


def test_payload_must_be_plain_json():
    with pytest.raises(TypeError):
        publish(
            None,
            "tests.something_happened",
            {"at": datetime(2026, 1, 1, tzinfo=UTC)},
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )  # type: ignore[arg-type]


def test_event_names_look_like_area_dot_fact():
    with pytest.raises(ValueError):
        subscribe("NoDot")


def test_consumers_are_listed():
    assert consumers("tests.something_happened") == ["tests.first", "tests.second"]
