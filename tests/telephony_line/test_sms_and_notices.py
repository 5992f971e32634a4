"""The SMS gateway adapter against a real HTTP peer (a local server), the embedded default that
only stores, and the e-mail of a hardware return opened by the renewal (a terminated line)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select

from tests.accounts.factories import make_account
from tests.conftest import test_settings as settings_for
from tests.subscriptions.factories import deliver
from voipdesk.accounts.models import ServiceEmail, ServiceSms
from voipdesk.accounts.sms import send_service_sms
from voipdesk.billing.renewal import run_renewal
from voipdesk.core.db import make_engine
from voipdesk.core.i18n import format_date
from voipdesk.core.outbox import OutboxMessage, drain
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import actions as subscription_actions
from voipdesk.subscriptions.models import PhoneLoan
from voipdesk.telephony.phones import actions as phones
from voipdesk.telephony.phones.models import HardwareReturn


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[dict, str | None]] = []
    answer_status = 200

    def do_POST(self) -> None:  # the http.server API names it so
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        type(self).received.append((body, self.headers.get("Authorization")))
        self.send_response(type(self).answer_status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": f"gw-{len(type(self).received)}"}).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway():  # type: ignore[no-untyped-def]
    _Gateway.received = []
    _Gateway.answer_status = 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_http_gateway_sends_once_with_its_token(database_url, clock, gateway):
    url = f"http://127.0.0.1:{gateway.server_address[1]}/sms"
    settings = settings_for(database_url, sms_gateway_url=url, sms_gateway_token="tok-123")
    platform = Platform(settings=settings, engine=make_engine(database_url), clock=clock)
    try:
        account = make_account(platform)
        with platform.transaction() as session:
            sms = send_service_sms(
                session, platform, account=session.get(type(account), account.id),
                kind="test", text="Bonjour",
            )  # fmt: skip
            assert sms is not None and sms.status == "queued"
            sms_id = sms.id
        _Gateway.answer_status = 503  # the gateway is down: retried later, not lost
        drain(platform)
        with platform.session() as session:
            assert session.get(ServiceSms, sms_id).status == "queued"
        _Gateway.answer_status = 200
        clock.advance(timedelta(minutes=5))
        drain(platform)
        with platform.session() as session:
            row = session.get(ServiceSms, sms_id)
            assert row.status == "sent" and row.gateway_reference == "gw-2"
        body, authorization = _Gateway.received[-1]
        assert body == {"to": account.mobile, "text": "Bonjour", "reference": sms_id}
        assert authorization == "Bearer tok-123"
        drain(platform)
        assert len(_Gateway.received) == 2  # the refused try, then the one that went through
    finally:
        platform.engine.dispose()


def test_without_a_gateway_the_sms_is_stored_only(platform):
    account = make_account(platform)
    with platform.transaction() as session:
        owner = session.get(type(account), account.id)
        sms = send_service_sms(session, platform, account=owner, kind="test", text="Salut")
        assert sms is not None and sms.status == "stored"
    drain(platform)
    with platform.session() as session:
        assert session.scalars(select(ServiceSms)).one().status == "stored"
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.topic == "sms.send")
            )
            == 0
        )


def test_a_return_opened_by_the_renewal_is_told_by_e_mail_once(platform, clock):
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)], phones_for_lines=True)
    number = result.sip_credentials[0].number_e164
    with platform.transaction() as session:
        subscription_actions.request_termination(
            session, platform, account.id, result.billing_group_id, number, ("sip_line",),
            "move", None,
        )  # fmt: skip
    clock.move_to(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    with platform.session() as session:
        assert session.scalars(select(PhoneLoan)).one().state == "return_opened"
    for _ in range(2):
        with platform.transaction() as session:
            phones.send_return_notices(session, platform)
    with platform.session() as session:
        (email,) = session.scalars(
            select(ServiceEmail).where(ServiceEmail.kind == "hardware-return")
        ).all()
        assert email.account_id == account.id
        assert platform.settings.operator_postal_address in email.body_text
        assert format_date(date(2026, 4, 16), "en") in email.body_text  # 15 days to send it
        assert session.scalar(select(func.count()).select_from(HardwareReturn)) == 1
