"""Two workers sharing one PostgreSQL database never deliver a message twice."""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqlalchemy import func, select

from tests.conftest import _truncate_all, require
from tests.conftest import test_settings as settings_for_tests
from voipdesk.core.clock import SystemClock
from voipdesk.core.db import make_engine
from voipdesk.core.outbox import OutboxMessage, drain, enqueue, handler
from voipdesk.core.platform import Platform

TOPIC = "tests.accounts.concurrent"
MESSAGES = 200
_delivered: list[tuple[str, int]] = []
_lock = threading.Lock()


@handler(TOPIC)
def _record(platform, session, payload):  # type: ignore[no-untyped-def]
    time.sleep(0.002)  # a little work, so that both workers are busy at once
    with _lock:
        _delivered.append((threading.current_thread().name, payload["n"]))


def test_two_workers_drain_200_messages_without_delivering_one_twice(postgres_database):
    require(
        bool(postgres_database),
        "PostgreSQL",
        "set VOIPDESK_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test",
    )
    assert postgres_database is not None
    _delivered.clear()
    platforms = [
        Platform(
            settings=settings_for_tests(postgres_database),
            engine=make_engine(postgres_database),
            clock=SystemClock(),
        )
        for _ in range(2)
    ]
    try:
        with platforms[0].transaction() as session:
            for n in range(MESSAGES):
                enqueue(session, TOPIC, {"n": n}, platforms[0].now())
        start = threading.Barrier(2)

        def work(platform: Platform) -> None:
            start.wait()
            drain(platform)

        workers = [
            threading.Thread(target=work, args=(platform,), name=f"worker-{index}")
            for index, platform in enumerate(platforms)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        numbers = Counter(n for _name, n in _delivered)
        assert sorted(numbers) == list(range(MESSAGES))
        assert max(numbers.values()) == 1
        by_worker = Counter(name for name, _n in _delivered)
        assert set(by_worker) == {"worker-0", "worker-1"}  # both took part
        with platforms[0].session() as session:
            undelivered = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.topic == TOPIC, OutboxMessage.delivered_at.is_(None))
            )
        assert undelivered == 0
    finally:
        for platform in platforms:
            platform.engine.dispose()
        _truncate_all(postgres_database)
