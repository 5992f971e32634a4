"""Registrations and calls through a real Kamailio routing with voipdesk's module."""

from __future__ import annotations

import time

from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.subscriptions.factories import deliver
from tests.switch.harness import Phone
from voipdesk.switch.models import CallRecord
from voipdesk.telephony.models import Registration


def _lines(platform, *offers):
    account = make_account(platform)
    result = deliver(platform, account.id, lines=list(offers))
    return result.sip_credentials


def _records(platform, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        with platform.session() as session:
            rows = list(session.scalars(select(CallRecord).order_by(CallRecord.started_at)))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_register_with_the_right_password_is_recorded(platform, switch, sip_folder):
    line = _lines(platform, ("sip-entreprise", 2))[0]
    phone = Phone(switch, line.sip_username, line.sip_password, sip_folder)
    outcome = phone.register()
    assert outcome.ok, outcome.output[-3000:] + switch.log()[-3000:]
    deadline = time.monotonic() + 5
    rows = []
    while not rows and time.monotonic() < deadline:
        with platform.session() as session:
            rows = list(session.scalars(select(Registration)))
        time.sleep(0.1)
    assert [(r.number, r.ip, r.port, r.user_agent) for r in rows] == [
        (line.number_e164, "127.0.0.1", phone.port, "SIPp test phone")
    ]


def test_line_to_line_call_is_answered_and_recorded(platform, switch, sip_folder):
    caller, callee = _lines(platform, ("sip-entreprise", 2), ("sip-entreprise", 2))
    a = Phone(switch, caller.sip_username, caller.sip_password, sip_folder)
    b = Phone(switch, callee.sip_username, callee.sip_password, sip_folder)
    assert b.register().ok
    answering = b.answer("200")
    outcome = a.call(callee.number_e164, hold_ms=1200)
    assert outcome.ok, outcome.output[-3000:] + switch.log()[-3000:]
    assert b.wait(answering) == 0
    (record,) = _records(platform, 1)
    assert (record.caller, record.callee, record.direction, record.disposition) == (
        caller.number_e164,
        callee.number_e164,
        "internal",
        "answered",
    )
    assert record.duration_seconds >= 1 and record.line_number == caller.number_e164
