"""The procedure's e-mail reaches a real SMTP server with its PDF attached."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message
from email.policy import default as default_policy
from typing import Any

import pytest

from tests.conftest import test_settings as settings_for_tests
from tests.validation.conftest import make_account
from tests.validation.helpers import pdf_text, request
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.clock import MovableClock
from voipdesk.core.db import make_engine
from voipdesk.core.outbox import drain
from voipdesk.core.platform import Platform


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_procedure_email_arrives_with_its_pdf(
    database_url: str, clock: MovableClock, smtp_server: tuple[int, _Inbox]
) -> None:
    port, inbox = smtp_server
    settings = settings_for_tests(database_url, smtp_host="127.0.0.1", smtp_port=port)
    platform = Platform(settings=settings, engine=make_engine(settings.database_url), clock=clock)
    try:
        with platform.transaction() as session:
            seed_catalogue(session, platform)
        customer = make_account(platform, language="fr")
        procedure = request(platform, customer)
        drain(platform)
    finally:
        platform.engine.dispose()
    [message] = [m for m in inbox.messages if "procédure VoIP" in str(m["Subject"])]
    assert str(message["Subject"]) == (
        "[VoIPdesk Telecom - IMPORTANT] Nous attendons votre procédure VoIP pour finaliser votre commande."  # noqa: E501
    )
    assert customer.email in str(message["To"])
    attachments = [
        part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"
    ]
    assert len(attachments) == 1
    assert attachments[0].get_filename() == f"procedure-voip-{procedure.mandate_reference}.pdf"
    text = pdf_text(attachments[0].get_content())
    assert procedure.mandate_reference in text
    assert "Mandat de prélèvement SEPA" in text
