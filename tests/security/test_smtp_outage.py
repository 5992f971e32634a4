"""Fault run: the SMTP peer is down for an hour of moved clock while e-mails pile up; afterwards
every e-mail is delivered exactly once, and each customer's in the order they were written."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.accounts.test_smtp import Inbox, _free_port
from tests.conftest import test_settings as settings_for_tests
from voipdesk.accounts import actions
from voipdesk.accounts.handlers import message_id
from voipdesk.accounts.models import ServiceEmail
from voipdesk.core.db import make_engine
from voipdesk.core.outbox import OutboxMessage, drain
from voipdesk.core.platform import Platform


def test_an_hour_without_smtp_loses_nothing_doubles_nothing_and_keeps_the_order(
    database_url,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    from aiosmtpd.controller import Controller

    port = _free_port()  # nothing listens there for the first hour
    settings = settings_for_tests(database_url, smtp_host="127.0.0.1", smtp_port=port)
    platform = Platform(settings=settings, engine=make_engine(database_url), clock=clock)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    try:
        ada, bob = make_account(platform), make_account(platform)  # their welcome e-mails
        for minute in range(0, 61):
            if minute in (5, 20, 50):  # more e-mails while the peer is down
                actions.request_password_reset(platform, ada.email)
                actions.request_password_reset(platform, bob.email)
            drain(platform)
            clock.advance(timedelta(minutes=1))
        assert inbox.messages == []
        controller.start()  # the peer is back after an hour
        for _ in range(3 * 60):
            drain(platform)
            clock.advance(timedelta(minutes=1))
        with platform.session() as session:
            written = {
                account.id: [
                    message_id(email, settings)
                    for email in session.scalars(
                        select(ServiceEmail)
                        .where(ServiceEmail.account_id == account.id)
                        .order_by(ServiceEmail.created_at, ServiceEmail.id)
                    )
                ]
                for account in (ada, bob)
            }
            given_up = session.scalars(
                select(OutboxMessage).where(OutboxMessage.failed_at.is_not(None))
            ).all()
        received = [str(message["Message-ID"]) for message in inbox.messages]
        assert given_up == []
        assert len(received) == len(set(received)) == 8  # each once: 2 welcomes + 6 resets
        for account_id, ids in written.items():
            assert [m for m in received if m in ids] == ids, account_id  # in order
    finally:
        if controller.loop.is_running():
            controller.stop()
        platform.engine.dispose()
