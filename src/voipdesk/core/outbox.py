"""The outbox: side effects written in the same transaction as the change, delivered later.

A worker claims one due message at a time with `FOR UPDATE SKIP LOCKED` (PostgreSQL), so several
workers never run one message twice; on SQLite the single process's write lock does the same.
A failed delivery is retried with exponential backoff; handlers must be idempotent because
delivery is at least once (a crash after the side effect and before the commit repeats it).
Messages that share an `ordering_key` (e.g. one customer's e-mails) are delivered in the order
they were written: one waits while an earlier one with its key is neither delivered nor given up.
A handler that calls another system (SMTP, HTTP) is external: the call is made outside any
transaction and its outcome is recorded afterwards, retried while the database is unreachable,
so a database cut right after the call does not make the call again.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import JSON, ColumnElement, Integer, String, Text, exists, or_, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from voipdesk.core.db import Base, UTCDateTime

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

log = structlog.get_logger(__name__)

Handler = Callable[["Platform", Session, dict[str, Any]], None]
# What an external handler records once its call succeeded (e.g. an e-mail marked sent): it runs
# in the transaction that marks the message delivered, so both are recorded or neither.
Outcome = Callable[[Session], None]
# A handler that calls another system (SMTP, an HTTP request): it runs with no transaction open and
# opens its own short ones (`platform.transaction()`), so no row stays locked while it waits.
ExternalHandler = Callable[["Platform", dict[str, Any]], Outcome | None]
_HANDLERS: dict[str, Handler] = {}
_EXTERNAL: dict[str, ExternalHandler] = {}
# How long a claimed external message stays invisible to other workers: if its process dies
# before recording the outcome, the message is delivered again after this (at least once).
EXTERNAL_LEASE = timedelta(minutes=2)
# How long the outcome of a delivery (made, or failed) is retried while the database is
# unreachable (the lease's length: after it another worker may make the call again anyway).
OUTCOME_RETRY_SECONDS = EXTERNAL_LEASE.total_seconds()


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Same key twice = one message: lets an action be retried without doubling its effects.
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ordering_key: Mapped[str | None] = mapped_column(String(100), index=True)


def handler(topic: str) -> Callable[[Handler], Handler]:
    """Registers the idempotent function that delivers messages of one topic."""

    def register(function: Handler) -> Handler:
        _HANDLERS[topic] = function
        return function

    return register


def external_handler(topic: str) -> Callable[[ExternalHandler], ExternalHandler]:
    """Registers the idempotent function that delivers messages of one topic outside any
    transaction: the message is claimed in one transaction (hidden for `EXTERNAL_LEASE`), the
    function runs after that commit, and the message is marked delivered in another, together
    with the function's returned outcome; that mark is retried while the database is unreachable.
    A crash in between delivers it again once the lease ends, so the function must tolerate a
    repeat."""

    def register(function: ExternalHandler) -> ExternalHandler:
        _EXTERNAL[topic] = function
        return function

    return register


def enqueue(
    session: Session,
    topic: str,
    payload: dict[str, Any],
    now: datetime,
    dedup_key: str | None = None,
    ordering_key: str | None = None,
) -> OutboxMessage:
    if dedup_key is not None:
        existing = session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key))
        if existing is not None:
            return existing
    message = OutboxMessage(
        topic=topic,
        payload=payload,
        dedup_key=dedup_key,
        ordering_key=ordering_key,
        created_at=now,
        available_at=now,
        attempts=0,
    )
    session.add(message)
    return message


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 10 s, 20 s, 40 s ... capped at one hour."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 3600))


def _first_of_its_key() -> ColumnElement[bool]:
    """No earlier message with the same ordering key is still waiting."""
    earlier = aliased(OutboxMessage)
    return or_(
        OutboxMessage.ordering_key.is_(None),
        ~exists().where(
            earlier.ordering_key == OutboxMessage.ordering_key,
            earlier.id < OutboxMessage.id,
            earlier.delivered_at.is_(None),
            earlier.failed_at.is_(None),
        ),
    )


def deliver_one(
    platform: Platform,
    where: ColumnElement[bool] | None = None,
    stopping: threading.Event | None = None,
) -> bool:
    """Claims and delivers one due message (matching `where`, if given). Returns False when none
    is due. `stopping` cuts short the wait for the database to record an external call's outcome
    (the message is then delivered again after its lease)."""
    now = platform.now()
    claimed_id: int | None = None
    try:
        with platform.transaction() as session:
            message = session.scalar(
                select(OutboxMessage)
                .where(
                    OutboxMessage.delivered_at.is_(None),
                    OutboxMessage.failed_at.is_(None),
                    OutboxMessage.available_at <= now,
                    _first_of_its_key(),
                    *([] if where is None else [where]),
                )
                .order_by(OutboxMessage.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if message is None:
                return False
            claimed_id = message.id
            external = _EXTERNAL.get(message.topic)
            if external is not None:
                message.available_at = now + EXTERNAL_LEASE  # claimed: others wait for the lease
                payload = dict(message.payload)
            else:
                function = _HANDLERS.get(message.topic)
                if function is None:
                    raise LookupError(f"no handler for topic {message.topic!r}")
                function(platform, session, dict(message.payload))
                message.delivered_at = platform.now()
                message.attempts += 1
                return True
        # The claim is committed: the call to the other system holds no transaction open.
        outcome = external(platform, payload)
    except Exception as failure:  # any handler failure is retried later; it never stops the worker
        if claimed_id is None:
            raise
        _record_failure(platform, claimed_id, failure, stopping)
        return True
    # The call was made: from here on a failure must not make it again, so recording it is
    # retried while the database is unreachable instead of counting as a failed delivery.
    _record_delivered(platform, claimed_id, outcome, stopping)
    return True


def _record_delivered(
    platform: Platform, message_id: int, outcome: Outcome | None, stopping: threading.Event | None
) -> None:
    def mark() -> None:
        with platform.transaction() as session:
            claimed = session.get(OutboxMessage, message_id, with_for_update=True)
            if claimed is not None and claimed.delivered_at is None:
                if outcome is not None:
                    outcome(session)
                claimed.delivered_at = platform.now()
                claimed.attempts += 1

    _while_unreachable(mark, message_id, stopping)


def _record_failure(
    platform: Platform,
    message_id: int,
    failure: Exception,
    stopping: threading.Event | None = None,
) -> None:
    """Counts the failed attempt and sets the next one after its backoff; retried while the
    database is unreachable, so a claimed message is not left hidden until its lease ends."""

    def count() -> None:
        with platform.transaction() as session:
            message = session.get(OutboxMessage, message_id)
            if message is None:
                return
            message.attempts += 1
            message.last_error = "".join(traceback.format_exception_only(failure)).strip()[:2000]
            now = platform.now()
            if message.attempts >= platform.settings.outbox_max_attempts:
                message.failed_at = now
                log.error(
                    "outbox.gave_up", id=message_id, topic=message.topic, error=message.last_error
                )
            else:
                message.available_at = now + retry_delay(message.attempts)
                log.warning(
                    "outbox.retry", id=message_id, topic=message.topic, error=message.last_error
                )

    _while_unreachable(count, message_id, stopping)


def _while_unreachable(
    write: Callable[[], None], message_id: int, stopping: threading.Event | None
) -> None:
    """Runs `write`, again while the database is unreachable or the connection is cut, for at
    most OUTCOME_RETRY_SECONDS (or until `stopping` is set)."""
    started = time.monotonic()
    delay = 0.2
    while True:
        try:
            write()
            return
        except (OperationalError, InterfaceError) as error:
            waited = time.monotonic() - started
            if waited >= OUTCOME_RETRY_SECONDS or (stopping is not None and stopping.is_set()):
                log.error("outbox.outcome_not_recorded", id=message_id, waited_s=round(waited, 1))
                raise
            log.warning("outbox.outcome_retry", id=message_id, error=str(error.orig)[:200])
            if stopping is not None:
                stopping.wait(delay)
            else:
                time.sleep(delay)
            delay = min(delay * 2, 5.0)


def drain(
    platform: Platform,
    limit: int | None = None,
    where: ColumnElement[bool] | None = None,
    stopping: threading.Event | None = None,
) -> int:
    """Delivers due messages (matching `where`, if given) until none is left (or `limit`, or
    `stopping` is set: the message being delivered is finished first). Returns how many were
    handled."""
    handled = 0
    while limit is None or handled < limit:
        if stopping is not None and stopping.is_set():
            break
        if not deliver_one(platform, where, stopping):
            break
        handled += 1
    return handled


class Worker:
    """Delivers the outbox and runs periodic jobs until stopped; one per process or thread."""

    def __init__(self, platform: Platform, poll_seconds: float = 1.0) -> None:
        self.platform = platform
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self.wake = threading.Event()

    def run(self) -> None:
        from voipdesk.core.jobs import run_due_jobs

        while not self.stopping.is_set():
            try:
                # Asked to stop (SIGTERM): the current message or job is finished, no next one
                # is started, so the process exits within one delivery.
                drain(self.platform, limit=100, stopping=self.stopping)
                run_due_jobs(self.platform, stopping=self.stopping)
            except Exception:  # a database hiccup must not kill the worker
                log.exception("worker.loop_failed")
            self.wake.wait(self.poll_seconds)
            self.wake.clear()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="voipdesk-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
