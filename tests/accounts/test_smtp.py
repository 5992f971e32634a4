"""Service e-mails delivered to a real SMTP peer (aiosmtpd), through the outbox."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.conftest import test_settings as settings_for_tests
from voipdesk.accounts.handlers import send_email
from voipdesk.accounts.models import ServiceEmail
from voipdesk.core.clock import MovableClock
from voipdesk.core.db import make_engine
from voipdesk.core.outbox import OutboxMessage, drain, retry_delay
from voipdesk.core.platform import Platform


class Inbox:
    """An SMTP peer's handler: keeps what it accepts; can refuse the first tries with 451."""

    def __init__(self, refusals: int = 0) -> None:
        self.messages: list[EmailMessage] = []
        self.refusals = refusals
        self.tries = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.tries += 1
            if self.refusals > 0:
                self.refusals -= 1
                return "451 4.3.0 Try again later"
            message = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_peer() -> Iterator[tuple[int, Inbox]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_platform(
    database_url: str, clock: MovableClock, smtp_peer: tuple[int, Inbox]
) -> Iterator[Platform]:
    port, _inbox = smtp_peer
    settings = settings_for_tests(database_url, smtp_host="127.0.0.1", smtp_port=port)
    platform = Platform(settings=settings, engine=make_engine(settings.database_url), clock=clock)
    yield platform
    platform.engine.dispose()


def subject(message: EmailMessage) -> str:
    # Python folds a long subject onto the next line; readers unfold and trim that space.
    return str(message["Subject"]).strip()


def test_the_welcome_email_arrives_in_the_customers_language(smtp_platform, smtp_peer):
    _port, inbox = smtp_peer
    customer = make_account(smtp_platform, language="fr")
    english = make_account(smtp_platform, language="en")
    with smtp_platform.session() as session:
        queued = session.scalars(select(ServiceEmail.status)).all()
    assert set(queued) == {"queued"}
    assert drain(smtp_platform) == 2
    by_recipient = {str(message["To"]): message for message in inbox.messages}
    french = by_recipient[customer.email]
    assert subject(french) == (
        f"Bienvenue chez VoIPdesk Telecom, votre identifiant client est {customer.handle}"
    )
    assert str(french["From"]) == "VoIPdesk <no-reply@voipdesk.example>"
    assert french.get_content_type() == "multipart/alternative"
    text = french.get_body(("plain",)).get_content()
    html = french.get_body(("html",)).get_content()
    assert customer.handle in text and "<p>" in html
    assert subject(by_recipient[english.email]).startswith("Welcome to VoIPdesk Telecom")
    with smtp_platform.session() as session:
        email = session.scalar(select(ServiceEmail).where(ServiceEmail.account_id == customer.id))
    assert email is not None and email.status == "sent" and email.sent_at is not None
    assert str(french["Message-ID"]) == f"<{email.id}@voipdesk.example>"


def test_a_refused_delivery_is_retried_after_backoff_and_arrives_once(
    smtp_platform, smtp_peer, clock
):
    _port, inbox = smtp_peer
    inbox.refusals = 2
    customer = make_account(smtp_platform, language="en")
    assert drain(smtp_platform) == 1
    assert inbox.tries == 1 and not inbox.messages
    assert drain(smtp_platform) == 0  # waiting for its backoff
    clock.advance(retry_delay(1) + timedelta(seconds=1))
    drain(smtp_platform)
    assert inbox.tries == 2 and not inbox.messages
    clock.advance(retry_delay(2) + timedelta(seconds=1))
    drain(smtp_platform)
    clock.advance(timedelta(hours=2))
    drain(smtp_platform)
    assert inbox.tries == 3
    assert [str(m["To"]) for m in inbox.messages] == [customer.email]
    with smtp_platform.session() as session:
        message = session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "email.send"))
        assert message is not None
        assert message.attempts == 3 and message.delivered_at is not None
        assert "451" in (message.last_error or "")
        email = session.scalar(select(ServiceEmail).where(ServiceEmail.account_id == customer.id))
    assert email is not None and email.status == "sent"


def test_an_email_already_sent_is_not_sent_again(smtp_platform, smtp_peer):
    _port, inbox = smtp_peer
    customer = make_account(smtp_platform)
    drain(smtp_platform)
    with smtp_platform.session() as session:
        email_id = session.scalar(
            select(ServiceEmail.id).where(ServiceEmail.account_id == customer.id)
        )
    # a repeated delivery (at least once) finds it sent and does nothing
    assert send_email(smtp_platform, {"email_id": email_id}) is None
    assert len(inbox.messages) == 1


def test_attachments_travel_with_the_email(smtp_platform, smtp_peer):
    from voipdesk.accounts.emails import send_service_email

    _port, inbox = smtp_peer
    customer = make_account(smtp_platform, language="en")
    with smtp_platform.transaction() as session:
        send_service_email(
            session,
            smtp_platform,
            account=customer,
            kind="welcome",
            template="accounts/welcome",
            context={"handle": customer.handle, "space_url": "https://testserver/"},
            attachments=[("invoice.pdf", "application/pdf", b"%PDF-1.4 x")],
        )
    drain(smtp_platform)
    [with_file] = [m for m in inbox.messages if any(True for _ in m.iter_attachments())]
    [attachment] = list(with_file.iter_attachments())
    assert attachment.get_filename() == "invoice.pdf"
    assert attachment.get_content() == b"%PDF-1.4 x"


def test_without_smtp_emails_are_only_stored(platform):
    customer = make_account(platform)
    assert drain(platform) == 0  # nothing queued
    with platform.session() as session:
        email = session.scalar(select(ServiceEmail).where(ServiceEmail.account_id == customer.id))
    assert email is not None and email.status == "stored" and email.sent_at is None


def test_the_smtp_login_is_used_when_configured(database_url, clock):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login == b"mailer" and auth_data.password == b"s3cret"
        )
        return AuthResult(success=ok)

    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        # without the login, the peer refuses the mail (530); with it, the mail goes through
        for password, delivered in ((None, 0), ("s3cret", 1)):
            settings = settings_for_tests(
                database_url,
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_username="mailer" if password else None,
                smtp_password=password,
            )
            platform = Platform(settings=settings, engine=make_engine(database_url), clock=clock)
            try:
                if password is None:
                    make_account(platform)
                else:
                    clock.advance(timedelta(hours=2))  # past the failed try's backoff
                drain(platform)
                assert len(inbox.messages) == delivered
            finally:
                platform.engine.dispose()
    finally:
        controller.stop()
