"""Fault run: the database connection is cut right after an e-mail was handed to the SMTP peer
and before its delivery was recorded. The e-mail must be recorded as sent once the database is
back, and never be sent a second time (the defect found by the outage load run: an e-mail the
peer had received stayed undelivered in the outbox, to be sent again)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.accounts.factories import make_account
from tests.accounts.test_smtp import Inbox, _free_port
from tests.conftest import POSTGRES_URL, _truncate_all, require
from tests.conftest import test_settings as settings_for_tests
from tests.flaky_proxy import FlakyProxy
from voipdesk.accounts import handlers
from voipdesk.accounts.models import ServiceEmail
from voipdesk.core.db import make_engine, normalise_url
from voipdesk.core.outbox import OutboxMessage, drain
from voipdesk.core.platform import Platform


def test_an_email_sent_just_before_a_database_cut_is_recorded_once_and_not_sent_again(
    postgres_database,
    clock,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    require(bool(POSTGRES_URL), "PostgreSQL", "set VOIPDESK_TEST_DATABASE_URL")
    from aiosmtpd.controller import Controller

    direct = make_url(normalise_url(postgres_database))
    proxy = FlakyProxy(direct.host or "127.0.0.1", direct.port or 5432)
    proxied = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings = settings_for_tests(proxied, smtp_host="127.0.0.1", smtp_port=controller.port)
    platform = Platform(settings=settings, engine=make_engine(proxied), clock=clock)
    real_send = handlers.smtp_send
    cuts = []

    def send_then_lose_the_database(*args: Any) -> None:
        real_send(*args)
        if not cuts:  # the first e-mail only: the restart begins as the peer says 250
            proxy.down()
            cuts.append(threading.Timer(1.5, proxy.up))
            cuts[0].start()

    monkeypatch.setattr(handlers, "smtp_send", send_then_lose_the_database)
    try:
        customer = make_account(platform)  # its welcome e-mail is queued
        assert drain(platform) == 1  # waits for the database instead of failing the delivery
        assert drain(platform) == 0  # nothing left to send
        with platform.session() as session:
            email = session.scalar(
                select(ServiceEmail).where(ServiceEmail.account_id == customer.id)
            )
            message = session.scalar(select(OutboxMessage))
        assert cuts, "the database was never cut"
        assert len(inbox.messages) == 1
        assert email is not None and email.status == "sent" and email.sent_at is not None
        assert message is not None and message.delivered_at is not None
        assert message.attempts == 1 and message.last_error is None
    finally:
        for timer in cuts:
            timer.join()
        controller.stop()
        platform.engine.dispose()
        proxy.down()
        _truncate_all(normalise_url(postgres_database))


def test_a_delivery_that_fails_while_the_database_is_cut_is_retried_after_its_backoff(
    postgres_database,
    clock,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """The failure is counted once the database is back, so the message comes again after its
    backoff (10 s), not hidden for the whole lease of a claimed message (2 minutes)."""
    require(bool(POSTGRES_URL), "PostgreSQL", "set VOIPDESK_TEST_DATABASE_URL")
    import smtplib

    from voipdesk.core.outbox import retry_delay

    direct = make_url(normalise_url(postgres_database))
    proxy = FlakyProxy(direct.host or "127.0.0.1", direct.port or 5432)
    proxied = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = settings_for_tests(proxied, smtp_host="127.0.0.1", smtp_port=_free_port())
    platform = Platform(settings=settings, engine=make_engine(proxied), clock=clock)
    timers = []

    def refuse_while_the_database_goes(*args: Any) -> None:
        proxy.down()
        timers.append(threading.Timer(1.5, proxy.up))
        timers[0].start()
        raise smtplib.SMTPServerDisconnected("the peer went away")

    monkeypatch.setattr(handlers, "smtp_send", refuse_while_the_database_goes)
    try:
        make_account(platform)
        assert drain(platform) == 1  # no exception: the failure waited for the database
        with platform.session() as session:
            message = session.scalar(select(OutboxMessage))
        assert message is not None and message.delivered_at is None
        assert message.attempts == 1 and "went away" in (message.last_error or "")
        assert message.available_at == platform.now() + retry_delay(1)
    finally:
        for timer in timers:
            timer.join()
        platform.engine.dispose()
        proxy.down()
        _truncate_all(normalise_url(postgres_database))
