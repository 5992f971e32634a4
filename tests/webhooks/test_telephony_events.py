"""Telephony events reach operators' systems: each step of a portability, and every call the
switch recorded (once, however often the job runs)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.telephony_line.helpers import auth, setup, staff_headers
from tests.telephony_line.test_portability_api import _body, _step
from tests.webhooks.test_events import _endpoint, _received
from voipdesk.accounts.models import Account
from voipdesk.core.outbox import drain
from voipdesk.switch import actions as switch_actions
from voipdesk.switch import services as switch_services
from voipdesk.switch.models import CallRecord


def _call(key: str) -> switch_services.Call:
    return switch_services.Call(
        call_key=key,
        caller="+33400000001",
        callee="+33612345678",
        direction="outgoing",
        line_number="+33400000001",
        billing_group_id="g1",
        route="direct",
        target="+33612345678",
        started_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        answered_at=datetime(2026, 3, 2, 9, 0, 4, tzinfo=UTC),
        ended_at=datetime(2026, 3, 2, 9, 1, 4, tzinfo=UTC),
        duration_seconds=60,
        disposition="answered",
        sip_code=200,
        reason="hung up",
    )


def test_portability_steps_and_ended_calls_are_delivered_once_each(client, receiver):  # type: ignore[no-untyped-def]
    platform, customer, group, (line, _other) = setup(client)
    staff_api = staff_headers(client)  # makes the staff account
    with platform.session() as session:
        staff = session.scalars(select(Account).where(Account.is_staff.is_(True))).one()
    _endpoint(platform, staff, receiver, ["portability.step_changed", "call.ended"])
    made = client.post(
        f"/api/v1/telephony/{group}/portabilities",
        json=_body(destination_line=line),
        headers=auth(client, customer),
    )
    assert made.status_code == 201, made.text
    _step(client, staff_api, made.json()["id"], "received")
    with platform.transaction() as session:
        switch_services.store_calls(session, [_call("call-1"), _call("call-2")])
    for _ in range(2):
        with platform.transaction() as session:
            switch_actions.announce_ended_calls(session, platform)
    drain(platform)
    steps = _received(receiver, "portability.step_changed")
    assert [(s["reference"], s["step"]) for s in steps] == [
        (made.json()["reference"], "form_sent"),
        (made.json()["reference"], "received"),
    ]
    calls = _received(receiver, "call.ended")
    assert sorted(c["call_key"] for c in calls) == ["call-1", "call-2"]
    assert calls[0]["duration_seconds"] == 60 and calls[0]["disposition"] == "answered"
    with platform.session() as session:
        assert all(r.announced_at is not None for r in session.scalars(select(CallRecord)))
