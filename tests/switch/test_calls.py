"""Registrations and calls through a real Kamailio routing with voipdesk's module: each test
places calls with SIPp phones and reads the call records the switch wrote."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import select

from tests.accounts.factories import PASSWORD, api_token_for, make_account
from tests.subscriptions.factories import deliver
from tests.switch.harness import Phone
from tests.web.conftest import login
from voipdesk.billing.renewal import run_renewal
from voipdesk.subscriptions.actions.conversions import convert_line_to_alias
from voipdesk.switch.models import CallRecord, SecurityEvent
from voipdesk.telephony.actions.credentials import reset_sip_password
from voipdesk.telephony.models import Registration


class Customer:
    def __init__(self, client, platform, switch, folder, offers, aliases=0):  # type: ignore[no-untyped-def]
        self.account = make_account(platform)
        result = deliver(platform, self.account.id, lines=list(offers), aliases=aliases)
        self.group = result.billing_group_id
        self.lines = with_passwords(platform, self.account.id, result)
        self.client = client
        self.headers = {"Authorization": f"Bearer {api_token_for(client, self.account)}"}
        self.phones = [Phone(switch, c.sip_username, c.sip_password, folder) for c in self.lines]
        with platform.session() as session:
            from voipdesk.subscriptions import queries

            services = queries.group_services(session, self.group)
        self.aliases = [s.number for s in services if s.kind == "alias_number"]

    def line_url(self, index: int, tail: str) -> str:
        return f"/api/v1/telephony/{self.group}/lines/{quote(self.lines[index].number_e164)}/{tail}"

    def api(self, method: str, url: str, **body) -> dict:  # type: ignore[no-untyped-def]
        response = self.client.request(method, url, headers=self.headers, **body)
        assert response.status_code < 300, response.text
        return response.json()

    def calls_page(self, index: int) -> str:
        """The line's calls-management page, as the customer sees it (signed in)."""
        login(self.client, self.account.email, PASSWORD)
        page = self.client.get(
            f"/telephony/{self.group}/lines/{quote(self.number(index))}/calls",
            headers={"Accept-Language": "fr"},
        )
        assert page.status_code == 200
        return page.text.replace("\u00a0", " ")

    def number(self, index: int) -> str:
        return self.lines[index].number_e164


@dataclass(frozen=True)
class LineAccess:
    number_e164: str
    sip_username: str
    sip_password: str


def with_passwords(platform, account_id: str, result) -> list[LineAccess]:  # type: ignore[no-untyped-def]
    """The delivered lines, each with a SIP password made as the customer makes it on the line's
    page (a delivery sends none)."""
    found = []
    for credential in result.sip_credentials:
        with platform.transaction() as session:
            made = reset_sip_password(
                session, platform, account_id, result.billing_group_id, credential.number_e164
            )
        found.append(LineAccess(credential.number_e164, credential.sip_username, made.password))
    return found


def delivered_lines(platform, account_id: str, offers) -> list[LineAccess]:  # type: ignore[no-untyped-def]
    return with_passwords(platform, account_id, deliver(platform, account_id, lines=list(offers)))


def records(platform, count: int, timeout: float = 6.0) -> list[CallRecord]:
    """The call records, oldest first, once `count` arrived (the writer stores every 100 ms)."""
    deadline = time.monotonic() + timeout
    while True:
        with platform.session() as session:
            rows = list(session.scalars(select(CallRecord).order_by(CallRecord.started_at)))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def explain(outcome, switch) -> str:  # type: ignore[no-untyped-def]
    return outcome.output[-2500:] + "\n--- kamailio ---\n" + switch.log()[-2500:]


def test_registration_right_password_is_stored_for_the_diagnostics(platform, switch, sip_folder):
    line = delivered_lines(platform, make_account(platform).id, [("sip-entreprise", 2)])[0]
    phone = Phone(switch, line.sip_username, line.sip_password, sip_folder)
    outcome = phone.register()
    assert outcome.ok, explain(outcome, switch)
    deadline, rows = time.monotonic() + 5, []
    while not rows and time.monotonic() < deadline:
        with platform.session() as session:
            rows = list(session.scalars(select(Registration)))
        time.sleep(0.1)
    assert [(r.number, r.ip, r.port, r.user_agent) for r in rows] == [
        (line.number_e164, "127.0.0.1", phone.port, "SIPp test phone")
    ]
    assert (rows[0].expires_at - rows[0].registered_at).total_seconds() == 3600


def test_wrong_password_is_challenged_again_and_repeated_failures_ban_the_address(
    platform, switch, sip_folder
):
    line = delivered_lines(platform, make_account(platform).id, [("sip-entreprise", 2)])[0]
    intruder = Phone(switch, line.sip_username, "not-the-password", sip_folder)
    for _ in range(3):
        outcome = intruder.register(expected=401)
        assert outcome.ok, explain(outcome, switch)
    # The fourth failure bans 127.0.0.1: from then on even the right password gets no answer.
    intruder.register(expected=401)
    honest = Phone(switch, line.sip_username, line.sip_password, sip_folder)
    assert not honest.register().ok
    time.sleep(0.5)
    with platform.session() as session:
        kinds = [e.kind for e in session.scalars(select(SecurityEvent).order_by(SecurityEvent.id))]
    assert kinds.count("auth_failed") == 3 and kinds[-1] == "banned"


def test_registration_from_an_address_outside_the_line_list_is_refused(
    client, platform, switch, sip_folder
):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)])
    customer.api(
        "PATCH", customer.line_url(0, "restrictions"), json={"allowed_ips": ["10.1.0.0/16"]}
    )
    outcome = customer.phones[0].register(expected=403)
    assert outcome.ok and "address not allowed" in outcome.reason, explain(outcome, switch)
    customer.api(
        "PATCH", customer.line_url(0, "restrictions"), json={"allowed_ips": ["127.0.0.0/8"]}
    )
    assert customer.phones[0].register().ok


def test_line_to_line_then_a_setting_changed_in_the_api_applies_to_the_next_call(
    client, platform, switch, sip_folder
):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 2)
    caller, callee = customer.phones
    assert callee.register().ok
    answering = callee.answer("200")
    outcome = caller.call(customer.number(1), hold_ms=1100)
    assert outcome.ok, explain(outcome, switch)
    assert callee.wait(answering) == 0
    customer.api("PATCH", customer.line_url(1, "call-settings"), json={"do_not_disturb": True})
    refused = caller.call(customer.number(1), expected=486)
    assert refused.ok and "do not disturb" in refused.reason, explain(refused, switch)
    answered, busy = records(platform, 2)
    assert (answered.caller, answered.callee, answered.direction, answered.disposition) == (
        customer.number(0),
        customer.number(1),
        "internal",
        "answered",
    )
    assert answered.duration_seconds >= 1 and answered.billing_group_id == customer.group
    assert (busy.disposition, busy.sip_code, busy.route) == ("busy", 486, "refused")


def test_call_to_the_outside_goes_through_the_trunk_with_the_caller_identity(
    client, platform, switch, sip_folder, trunk_port
):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)])
    trunk = Phone(switch, "trunk", None, sip_folder, port=trunk_port)
    answering = trunk.answer("200")
    outcome = customer.phones[0].call("0612345678", hold_ms=200)
    assert outcome.ok, explain(outcome, switch)
    assert trunk.wait(answering) == 0
    (record,) = records(platform, 1)
    assert (record.callee, record.direction, record.target, record.disposition) == (
        "+33612345678",
        "outgoing",
        "+33612345678",
        "answered",
    )


def test_from_the_trunk_to_an_alias_redirect_rings_the_line(
    client, platform, switch, sip_folder, trunk_port
):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)], aliases=1)
    alias = customer.aliases[0]
    customer.api(
        "PUT",
        f"/api/v1/telephony/{customer.group}/numbers/{quote(alias)}/configuration",
        json={"configuration": {"type": "redirect", "destination": customer.number(0)}},
    )
    assert customer.phones[0].register().ok
    answering = customer.phones[0].answer("200")
    outside = Phone(switch, "+33155550000", None, sip_folder, port=trunk_port)
    outcome = outside.call(alias.lstrip("+"), hold_ms=200)
    assert outcome.ok, explain(outcome, switch)
    assert customer.phones[0].wait(answering) == 0
    (record,) = records(platform, 1)
    assert (record.direction, record.route, record.line_number, record.target) == (
        "incoming",
        "alias",
        alias,
        customer.number(0),
    )


def _queue(customer, strategy: str, members: list[str]) -> None:  # type: ignore[no-untyped-def]
    customer.api(
        "PUT",
        f"/api/v1/telephony/{customer.group}/numbers/{quote(customer.aliases[0])}/configuration",
        json={
            "configuration": {
                "type": "queue",
                "queue": {
                    "name": "Accueil",
                    "strategy": strategy,
                    "ring_timeout": 10,
                    "members": [{"kind": "line", "number": n} for n in members],
                },
            }
        },
    )


def test_queue_ring_all_reaches_the_first_line_that_answers(client, platform, switch, sip_folder):
    customer = Customer(
        client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 3, aliases=1
    )
    caller, quick, slow = customer.phones
    _queue(customer, "ring_all", [customer.number(1), customer.number(2)])
    assert quick.register().ok and slow.register().ok
    answering = quick.answer("200", ring_ms=300)
    ringing = slow.answer("ring")
    outcome = caller.call(customer.aliases[0], hold_ms=200)
    assert outcome.ok, explain(outcome, switch)
    assert quick.wait(answering) == 0 and slow.wait(ringing) == 0  # the other one was cancelled
    (record,) = records(platform, 1)
    assert (record.route, record.disposition) == ("queue_member", "answered")


def test_queue_sequential_skips_a_busy_member(client, platform, switch, sip_folder):
    customer = Customer(
        client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 3, aliases=1
    )
    caller, busy, free = customer.phones
    _queue(customer, "sequential", [customer.number(1), customer.number(2)])
    assert busy.register().ok and free.register().ok
    refusing = busy.answer("486")
    answering = free.answer("200")
    outcome = caller.call(customer.aliases[0], hold_ms=200)
    assert outcome.ok, explain(outcome, switch)
    assert busy.wait(refusing) == 0 and free.wait(answering) == 0
    (record,) = records(platform, 1)
    assert (record.route, record.target, record.disposition) == (
        "queue_member",
        customer.number(2),
        "answered",
    )


def test_forward_on_busy_and_on_no_answer(client, platform, switch, sip_folder):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 3)
    caller, called, colleague = customer.phones
    for condition, extra in (("busy", {}), ("no_answer", {"delay": 5})):
        customer.api(
            "PUT",
            customer.line_url(1, f"forwarding/{condition}"),
            json={"target": "line", "number": customer.number(2), **extra},
        )
    assert called.register().ok and colleague.register().ok
    refusing = called.answer("486")
    answering = colleague.answer("200")
    outcome = caller.call(customer.number(1), hold_ms=200)
    assert outcome.ok, explain(outcome, switch)
    assert called.wait(refusing) == 0 and colleague.wait(answering) == 0
    ringing = called.answer("ring")
    answering = colleague.answer("200")
    started = time.monotonic()
    outcome = caller.call(customer.number(1), hold_ms=200, timeout=30)
    assert outcome.ok, explain(outcome, switch)
    assert time.monotonic() - started >= 5  # rang the configured 5 s first
    assert called.wait(ringing) == 0 and colleague.wait(answering) == 0
    busy, no_answer = records(platform, 2)
    assert [(r.route, r.target) for r in (busy, no_answer)] == [
        ("forwarded", customer.number(2)),
        ("forwarded", customer.number(2)),
    ]


def test_star_code_turns_forwarding_on_and_off_as_the_page_shows(
    client, platform, switch, sip_folder, trunk_port
):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 2)
    caller, called = customer.phones
    applied = called.call("*21*0612345678%23", expected=480)
    assert applied.ok and "forward on unconditional to +33612345678" in applied.reason, explain(
        applied, switch
    )
    assert customer.api("GET", customer.line_url(1, "forwarding"))["unconditional"] == {
        "target": "external",
        "number": "+33612345678",
        "delay": None,
    }
    assert "06 12 34 56 78" in customer.calls_page(1)
    trunk = Phone(switch, "trunk", None, sip_folder, port=trunk_port)
    answering = trunk.answer("200")
    outcome = caller.call(customer.number(1), hold_ms=200)
    assert outcome.ok, explain(outcome, switch)
    assert trunk.wait(answering) == 0
    cleared = called.call("%2321%23", expected=480)
    assert cleared.ok and "forward off unconditional" in cleared.reason, explain(cleared, switch)
    assert customer.api("GET", customer.line_url(1, "forwarding"))["unconditional"] is None
    assert "06 12 34 56 78" not in customer.calls_page(1)
    # Not forwarded any more: the line is not registered, so the call is not answered.
    outcome = caller.call(customer.number(1), expected=480)
    assert outcome.ok, explain(outcome, switch)
    rows = records(platform, 4)
    assert [r.route for r in rows] == ["star_code", "forwarded", "star_code", "refused"]
    assert rows[1].target == "+33612345678" and rows[1].direction == "internal"


def test_decouverte_second_simultaneous_call_is_refused(client, platform, switch, sip_folder):
    customer = Customer(
        client, platform, switch, sip_folder, [("sip-decouverte", 1), ("sip-entreprise", 2)]
    )
    decouverte, other = customer.phones
    assert other.register().ok
    answering = other.answer("200")
    first = {}
    thread = threading.Thread(
        target=lambda: first.update(outcome=decouverte.call(customer.number(1), hold_ms=3000))
    )
    thread.start()
    time.sleep(1.2)
    second = Phone(
        switch, customer.lines[0].sip_username, customer.lines[0].sip_password, sip_folder
    )
    refused = second.call("0612345678", expected=486)
    thread.join(timeout=20)
    assert first["outcome"].ok, explain(first["outcome"], switch)
    assert refused.ok and "simultaneous call limit" in refused.reason, explain(refused, switch)
    assert other.wait(answering) == 0
    rows = records(platform, 2)
    assert sorted(r.disposition for r in rows) == ["answered", "busy"]


def test_converted_line_makes_no_outgoing_call(client, platform, clock, switch, sip_folder):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)])
    with platform.transaction() as session:
        convert_line_to_alias(
            session, platform, customer.account.id, customer.group, customer.number(0)
        )
    clock.move_to(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    outcome = customer.phones[0].call("0612345678", expected=403)
    assert outcome.ok and "unknown line" in outcome.reason, explain(outcome, switch)


def test_abbreviated_number_of_the_group_rings_its_destination(
    client, platform, switch, sip_folder
):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 2)
    customer.api(
        "POST",
        f"/api/v1/telephony/{customer.group}/abbreviated-numbers",
        json={"code": "7001", "name": "Accueil", "destination": customer.number(1)},
    )
    caller, callee = customer.phones
    assert callee.register().ok
    answering = callee.answer("200")
    outcome = caller.call("7001", hold_ms=200)
    assert outcome.ok, explain(outcome, switch)
    assert callee.wait(answering) == 0
    (record,) = records(platform, 1)
    assert (record.callee, record.direction) == (customer.number(1), "internal")


def test_unreachable_line_forwards_to_voicemail_which_says_the_media_service_is_missing(
    client, platform, switch, sip_folder
):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 2)
    customer.api(
        "PUT", customer.line_url(1, "forwarding/unreachable"), json={"target": "voicemail"}
    )
    outcome = customer.phones[0].call(customer.number(1), expected=480)
    assert outcome.ok and "media service not available" in outcome.reason, explain(outcome, switch)
    (record,) = records(platform, 1)
    assert (record.route, record.target, record.disposition) == (
        "media",
        f"voicemail:{customer.number(1)}",
        "no_answer",
    )


def test_anonymous_call_from_the_trunk_is_refused_when_the_line_asks(
    client, platform, switch, sip_folder, trunk_port
):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)])
    customer.api("PATCH", customer.line_url(0, "call-settings"), json={"reject_anonymous": True})
    outside = Phone(switch, "anonymous", None, sip_folder, port=trunk_port)
    outcome = outside.call(customer.number(0).lstrip("+"), expected=433)
    assert outcome.ok and "anonymous" in outcome.reason, explain(outcome, switch)
    (record,) = records(platform, 1)
    assert (record.caller, record.direction, record.disposition) == (
        "anonymous",
        "incoming",
        "refused",
    )


def test_staff_read_the_security_events(client, platform, switch, sip_folder):
    line = delivered_lines(platform, make_account(platform).id, [("sip-entreprise", 2)])[0]
    assert Phone(switch, line.sip_username, "wrong", sip_folder).register(expected=401).ok
    staff = make_account(platform, is_staff=True)
    headers = {"Authorization": f"Bearer {api_token_for(client, staff)}"}
    deadline, events = time.monotonic() + 5, []
    while not events and time.monotonic() < deadline:
        events = client.get("/api/v1/switch/security-events", headers=headers).json()
        time.sleep(0.1)
    assert [(e["kind"], e["ip"], e["sip_username"]) for e in events] == [
        ("auth_failed", "127.0.0.1", line.sip_username)
    ]
    customer = {"Authorization": f"Bearer {api_token_for(client, make_account(platform))}"}
    assert client.get("/api/v1/switch/security-events", headers=customer).status_code == 403
    login(client, staff.email, PASSWORD)
    page = client.get("/backoffice/switch", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert "Authentification échouée" in page.text and line.sip_username in page.text


def test_hidden_caller_id_reaches_the_trunk_as_privacy_and_the_trunk_limit_holds(
    client, platform, sip_folder, trunk_port, web_url
):
    from tests.switch import harness

    settings = harness.switch_settings(
        platform.settings,
        sip_folder / "switch",
        switch_trunk=f"127.0.0.1:{trunk_port}",
        switch_trunk_calls=1,
        switch_api_url=web_url,
    )
    with harness.running_switch(settings, sip_folder / "switch") as switch:
        customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 2)
        customer.api("PATCH", customer.line_url(0, "call-settings"), json={"caller_id": "hidden"})
        trunk = Phone(switch, "trunk", None, sip_folder, port=trunk_port)
        answering = trunk.answer("200")
        first = {}
        thread = threading.Thread(
            target=lambda: first.update(outcome=customer.phones[0].call("0612345678", hold_ms=2500))
        )
        thread.start()
        time.sleep(1.2)
        over = customer.phones[1].call("0698765432", expected=486)
        thread.join(timeout=20)
        assert first["outcome"].ok, explain(first["outcome"], switch)
        assert over.ok and "limit of the trunk" in over.reason, explain(over, switch)
        assert trunk.wait(answering) == 0
        received = trunk.received()
        assert len(received) == 1, received
        pai, privacy, sender = received[0].split(" | ")
        assert customer.number(0) in pai and privacy == "Privacy: id" and "anonymous" in sender


def test_calls_go_on_without_the_web_and_star_codes_then_say_so(
    client, platform, sip_folder, trunk_port
):
    from tests.switch import harness

    settings = harness.switch_settings(
        platform.settings,
        sip_folder / "switch",
        switch_api_url=f"http://127.0.0.1:{harness.free_port()}",  # nothing listens there
    )
    with harness.running_switch(settings, sip_folder / "switch") as switch:
        customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 2)
        caller, callee = customer.phones
        assert callee.register().ok
        answering = callee.answer("200")
        assert caller.call(customer.number(1), hold_ms=200).ok
        assert callee.wait(answering) == 0
        star = caller.call("%2326%23", expected=503)
        assert star.ok and "star codes unavailable" in star.reason, explain(star, switch)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_restart_refuses_calls_cleanly_then_the_switch_reconnects(
    client, platform, switch, sip_folder
):
    from sqlalchemy import text

    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 2)
    caller, callee = customer.phones
    assert callee.register().ok
    answering = callee.answer("200")
    assert caller.call(customer.number(1), hold_ms=200).ok  # the records are now cached
    assert callee.wait(answering) == 0
    # Every connection of the switch is cut, as a restart of PostgreSQL would, and a setting
    # changes meanwhile: no call may be answered from what the switch knew before.
    with platform.transaction() as session:
        cut = session.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = 'voipdesk-switch' AND datname = current_database()"
            )
        ).scalar()
    assert cut >= 1
    customer.api("PATCH", customer.line_url(1, "call-settings"), json={"do_not_disturb": True})
    # Until every worker is back, calls get 503 at once; then the DND set meanwhile applies.
    outcomes = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        started = time.monotonic()
        busy = caller.call(customer.number(1), expected=486, timeout=10)
        outcomes.append((busy.ok, busy.reason, round(time.monotonic() - started, 2)))
        if busy.ok:
            break
        assert "routing data unavailable" in busy.output, explain(busy, switch)
        time.sleep(0.3)
    assert all(seconds < 5 for _, _, seconds in outcomes), outcomes  # refused at once, not hung
    assert outcomes[-1][0] and "do not disturb" in outcomes[-1][1], outcomes
    assert len(outcomes) >= 2, "the first call after the cut was not refused"


def test_a_caller_the_line_blocked_is_declined_and_others_still_ring(
    client, platform, switch, sip_folder, trunk_port
):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)])
    refused = client.patch(
        customer.line_url(0, "call-settings"),
        json={"blocked_callers": ["not a number"]},
        headers=customer.headers,
    )
    assert refused.status_code == 422 and refused.json()["type"].endswith("invalid-number-prefix")
    settings = customer.api(
        "PATCH", customer.line_url(0, "call-settings"), json={"blocked_callers": ["06 12 34 56 78"]}
    )
    assert settings["blocked_callers"] == ["+33612345678"]
    blocked = Phone(switch, "0612345678", None, sip_folder, port=trunk_port)
    outcome = blocked.call(customer.number(0).lstrip("+"), expected=603)
    assert outcome.ok and "refuses this caller" in outcome.reason, explain(outcome, switch)
    assert customer.phones[0].register().ok
    answering = customer.phones[0].answer("200")
    other = Phone(switch, "0698765432", None, sip_folder, port=trunk_port)
    assert other.call(customer.number(0).lstrip("+"), hold_ms=200).ok
    assert customer.phones[0].wait(answering) == 0
    declined, answered = records(platform, 2)
    assert (declined.caller, declined.disposition, declined.sip_code) == (
        "+33612345678",
        "refused",
        603,
    )
    assert answered.caller == "+33698765432" and answered.disposition == "answered"


def test_a_reached_spending_cap_refuses_calls_to_the_outside_but_not_inside(
    client, platform, switch, sip_folder
):
    from voipdesk.telephony import services as telephony

    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 2)
    with platform.transaction() as session:
        assert telephony.set_spending_cap_reached(session, platform, customer.group, True)
    caller, colleague = customer.phones
    refused = caller.call("0612345678", expected=403)
    assert refused.ok and "spending cap reached" in refused.reason, explain(refused, switch)
    assert colleague.register().ok
    answering = colleague.answer("200")
    assert caller.call(customer.number(1), hold_ms=200).ok  # a call inside the operator is free
    assert colleague.wait(answering) == 0
    with platform.transaction() as session:
        telephony.set_spending_cap_reached(session, platform, customer.group, False)
    refused_then = records(platform, 2)[0]
    assert (refused_then.route, refused_then.reason) == ("refused", "spending cap reached")
