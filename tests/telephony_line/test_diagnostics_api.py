"""A line's diagnostics through the API, on both databases, with the registrations the tests
insert as the switch would: registered or not, forward, do-not-disturb, outgoing blocked,
spending cap reached, suspended; each finding with what to do."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tests.telephony_line.helpers import auth, line_url, setup
from voipdesk.subscriptions.models import Service
from voipdesk.telephony.models import Registration, RoutingRecord


def _register(platform, number, minutes_ago, lasting, ip="203.0.113.7", agent="Yealink SIP-T46U"):  # type: ignore[no-untyped-def]
    at = platform.now() - timedelta(minutes=minutes_ago)
    with platform.transaction() as session:
        session.add(
            Registration(
                number=number,
                sip_username=number.lstrip("+"),
                registered_at=at,
                expires_at=at + timedelta(minutes=lasting),
                ip=ip,
                port=5060,
                transport="udp",
                user_agent=agent,
                contact=f"sip:{number.lstrip('+')}@{ip}:5060",
            )
        )


def _diagnose(client, headers, group, number):  # type: ignore[no-untyped-def]
    answer = client.get(line_url(group, number, "/diagnostics"), headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _codes(found):  # type: ignore[no-untyped-def]
    return [f["code"] for f in found["findings"]]


def test_diagnostics_tell_each_state(client, clock):
    platform, customer, group, (line, other) = setup(client)
    headers = auth(client, customer)
    never = _diagnose(client, headers, group, line)
    assert never["registered"] is False and _codes(never) == ["never_registered"]
    assert never["findings"][0]["what_to_do"]

    _register(platform, line, minutes_ago=3, lasting=10)
    ok = _diagnose(client, headers, group, line)
    assert ok["registered"] is True and _codes(ok) == ["registered", "all_clear"]
    assert "203.0.113.7" in ok["findings"][0]["text"] and "Yealink" in ok["findings"][0]["text"]
    assert ok["registrations"][0]["ip"] == "203.0.113.7"

    clock.advance(timedelta(minutes=20))
    expired = _diagnose(client, headers, group, line)
    assert expired["registered"] is False and _codes(expired) == ["registration_expired"]
    _register(platform, line, minutes_ago=1, lasting=10)
    _register(platform, line, minutes_ago=0, lasting=0)  # the phone unregistered
    gone = _diagnose(client, headers, group, line)
    assert _codes(gone) == ["unregistered"] and gone["registrations"][0]["unregistration"]
    _register(platform, line, minutes_ago=0, lasting=10)

    client.put(
        line_url(group, line, "/forwarding/unconditional"),
        json={"target": "line", "number": other},
        headers=headers,
    )
    forwarded = _diagnose(client, headers, group, line)
    assert _codes(forwarded) == ["forward_unconditional", "registered"]
    assert "#21#" in forwarded["findings"][0]["what_to_do"]
    client.delete(line_url(group, line, "/forwarding/unconditional"), headers=headers)

    put = client.patch(
        line_url(group, line, "/call-settings"), json={"do_not_disturb": True}, headers=headers
    )
    assert put.status_code == 200, put.text
    assert _codes(_diagnose(client, headers, group, line))[0] == "do_not_disturb"
    client.patch(
        line_url(group, line, "/call-settings"), json={"do_not_disturb": False}, headers=headers
    )


def test_outgoing_blocked_cap_reached_and_suspended(client):
    platform, customer, group, (line, _other) = setup(client)
    headers = auth(client, customer)
    _register(platform, line, minutes_ago=1, lasting=10)
    blocked = client.patch(
        line_url(group, line, "/restrictions"), json={"block_outgoing": True}, headers=headers
    )
    assert blocked.status_code == 200, blocked.text
    assert _codes(_diagnose(client, headers, group, line)) == ["outgoing_blocked", "registered"]

    # The consumption side sets the cap flag in the record; missing means not reached.
    with platform.transaction() as session:
        row = session.get(RoutingRecord, line)
        record = dict(row.record)
        record["limits"] = {**record["limits"], "spending_cap_reached": True}
        row.record = record
    capped = _diagnose(client, headers, group, line)
    assert "spending_cap_reached" in _codes(capped)
    found = next(f for f in capped["findings"] if f["code"] == "spending_cap_reached")
    assert found["severity"] == "warning" and "spending cap" in found["what_to_do"]

    with platform.transaction() as session:
        session.execute(
            update(Service).where(Service.number_e164 == line).values(state="suspended")
        )
    suspended = _diagnose(client, headers, group, line)
    assert _codes(suspended)[0] == "suspended"
    assert suspended["findings"][0]["severity"] == "problem"


def test_someone_elses_line_has_no_diagnostics(client):
    _platform, _customer, group, (line, _other) = setup(client)
    _p, intruder, _g, _l = setup(client)
    answer = client.get(line_url(group, line, "/diagnostics"), headers=auth(client, intruder))
    assert answer.status_code == 404


def test_diagnostics_in_french(client):
    platform, customer, group, (line, _other) = setup(client)
    with platform.session() as session:
        assert session.scalar(select(Service.id).where(Service.number_e164 == line))
    found = _diagnose(client, auth(client, customer, "fr"), group, line)
    assert found["findings"][0]["text"].startswith("Aucun téléphone")
