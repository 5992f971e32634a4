"""Portability through the API, on both databases: a request taken by staff to a failure (SMS
and e-mail with the reason and what to do), then resumed to the activation (alias numbers of the
group, taken in the inventory); cancel and change of date while allowed; bad input refused with
its rule and nothing stored."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.telephony_line.helpers import PORTED, SIREN, auth, rio_for, setup, staff_headers
from voipdesk.accounts.models import ServiceEmail, ServiceSms
from voipdesk.catalogue.models import NUMBER_ASSIGNED, InventoryNumber
from voipdesk.subscriptions.models import Service, ServiceEvent
from voipdesk.telephony.portability.models import Portability, PortabilityEvent, PortingNumber
from voipdesk.telephony.queries import routing_record_for


def _body(**overrides):  # type: ignore[no-untyped-def]
    body = {
        "country": "FR",
        "numbers": ["01 45 67 89 01", "+33145678902"],
        "current_operator": "Orange",
        "rio": rio_for(PORTED[0]),
        "holder_kind": "company",
        "holder_name": "Martin Télécom SARL",
        "registration_number": SIREN,
        "desired_date": "2026-03-11",
    }
    body.update(overrides)
    return body


def _step(client, staff, portability_id, to):  # type: ignore[no-untyped-def]
    answer = client.post(
        f"/api/v1/backoffice/portabilities/{portability_id}/steps", json={"to": to}, headers=staff
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_portability_taken_to_failure_then_to_success(client):
    platform, customer, group, (line, _other) = setup(client)
    headers = auth(client, customer)
    staff = staff_headers(client)
    made = client.post(
        f"/api/v1/telephony/{group}/portabilities",
        json=_body(destination_line=line),
        headers=headers,
    )
    assert made.status_code == 201, made.text
    portability = made.json()
    assert portability["numbers"] == PORTED
    assert portability["step"] == "form_sent" and portability["changeable"] is True
    assert portability["registration_number"] == SIREN
    pid = portability["id"]
    listed = client.get("/api/v1/backoffice/portabilities", headers=staff).json()["items"]
    assert [p["id"] for p in listed] == [pid]
    for to in ("received", "validated", "sent_to_operator"):
        assert _step(client, staff, pid, to)["step"] == to
    # Sent to the operator: too late for the customer to cancel.
    late = client.post(f"/api/v1/telephony/{group}/portabilities/{pid}/cancel", headers=headers)
    assert late.status_code == 409 and late.json()["type"].endswith("portability-not-changeable")

    failed = client.post(
        f"/api/v1/backoffice/portabilities/{pid}/failure",
        json={"reason": "rio_mismatch", "details": "RIO refused by the operator"},
        headers=staff,
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["step"] == "failed"
    failure = failed.json()["failure"]
    assert failure["reason"] == "rio_mismatch" and "3179" in failure["what_to_do"]
    with platform.session() as session:
        (sms,) = session.scalars(select(ServiceSms).where(ServiceSms.account_id == customer.id))
        assert sms.to_number == customer.mobile and sms.status == "stored"
        assert portability["reference"] in sms.body
        assert "does not match the line" in sms.body and "3179" in sms.body
        email = session.scalars(
            select(ServiceEmail).where(ServiceEmail.kind == "portability-failed")
        ).one()
        assert email.account_id == customer.id
        assert "does not match the line" in email.body_text and "3179" in email.body_text
        assert "RIO refused by the operator" in email.body_text
        # Nothing is activated yet.
        assert session.scalar(select(Service).where(Service.number_e164 == PORTED[0])) is None

    resumed = _step(client, staff, pid, "received")
    assert resumed["failure"] is None
    for to in ("validated", "sent_to_operator", "acknowledged", "final_report"):
        _step(client, staff, pid, to)
    done = _step(client, staff, pid, "activated")
    assert done["step"] == "activated" and done["ongoing"] is False
    assert [e["step"] for e in done["timeline"]] == [
        "form_sent", "received", "validated", "sent_to_operator", "failed", "received",
        "validated", "sent_to_operator", "acknowledged", "final_report", "activated",
    ]  # fmt: skip
    assert {e["actor"] for e in done["timeline"][1:]} == {staff_actor(client, staff)}
    with platform.session() as session:
        aliases = session.scalars(
            select(Service).where(Service.billing_group_id == group, Service.kind == "alias_number")
        ).all()
        assert sorted(a.number_e164 for a in aliases) == PORTED
        assert {a.state for a in aliases} == {"active"}
        for number in PORTED:
            row = session.get(InventoryNumber, number)
            assert row.status == NUMBER_ASSIGNED and row.assigned_account_id == customer.id
            # Calls to the number reach the line it was ported for.
            record = routing_record_for(session, number)
            assert record is not None
            assert record.record["alias_configuration"]["redirect"]["number"] == line
        assert session.scalar(select(func.count()).select_from(PortingNumber)) == 0
        whats = [e.what for e in session.scalars(select(ServiceEvent).order_by(ServiceEvent.id))]
        ref = portability["reference"]
        assert any(w.startswith(f"portability {ref}: requested") for w in whats)
        assert f"portability {ref}: failed (rio_mismatch); customer told by SMS and e-mail" in whats
        assert any(w.startswith(f"portability {ref}: activated") for w in whats)
    # The group's page lists it no more among the ongoing ones, but still among all.
    ongoing = client.get(
        f"/api/v1/telephony/{group}/portabilities?ongoing=true", headers=headers
    ).json()
    assert ongoing["items"] == []
    every = client.get(f"/api/v1/telephony/{group}/portabilities", headers=headers).json()
    assert [p["id"] for p in every["items"]] == [pid]


def staff_actor(client, staff_headers_):  # type: ignore[no-untyped-def]
    me = client.get("/api/v1/me", headers=staff_headers_).json()
    return f"staff:{me['id']}"


def test_cancel_and_change_of_date_while_allowed(client):
    _platform, customer, group, _lines = setup(client)
    headers = auth(client, customer)
    pid = client.post(
        f"/api/v1/telephony/{group}/portabilities", json=_body(), headers=headers
    ).json()["id"]
    url = f"/api/v1/telephony/{group}/portabilities/{pid}"
    moved = client.put(f"{url}/desired-date", json={"desired_date": "2026-03-20"}, headers=headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["desired_date"] == "2026-03-20"
    asap = client.put(f"{url}/desired-date", json={"desired_date": None}, headers=headers)
    assert asap.json()["desired_date"] is None
    soon = client.put(f"{url}/desired-date", json={"desired_date": "2026-03-04"}, headers=headers)
    assert soon.status_code == 422 and soon.json()["type"].endswith("portability-date-too-soon")
    assert client.get(url, headers=headers).json()["desired_date"] is None
    cancelled = client.post(f"{url}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["step"] == "cancelled"
    again = client.post(f"{url}/cancel", headers=headers)
    assert again.status_code == 409
    # Cancelled: the numbers may be requested again.
    second = client.post(f"/api/v1/telephony/{group}/portabilities", json=_body(), headers=headers)
    assert second.status_code == 201, second.text


def test_someone_elses_portability_is_not_found(client):
    _platform, customer, group, _lines = setup(client)
    pid = client.post(
        f"/api/v1/telephony/{group}/portabilities", json=_body(), headers=auth(client, customer)
    ).json()["id"]
    _p, intruder, other_group, _l = setup(client)
    theirs = auth(client, intruder)
    assert (
        client.get(f"/api/v1/telephony/{group}/portabilities/{pid}", headers=theirs).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/telephony/{other_group}/portabilities/{pid}", headers=theirs
        ).status_code
        == 404
    )
    assert client.get("/api/v1/backoffice/portabilities", headers=theirs).status_code == 403


def test_bad_input_is_refused_by_its_rule_and_nothing_is_stored(client):
    platform, customer, group, (line, _other) = setup(client)
    headers = auth(client, customer)
    with platform.transaction() as session:
        session.add(
            InventoryNumber(
                number_e164="+33186950001", region="FR", area_prefix="+331", area_name="Paris",
                status="free",
            )
        )  # fmt: skip
    first = client.post(
        f"/api/v1/telephony/{group}/portabilities",
        json=_body(numbers=["+33145678903"], rio=rio_for("+33145678903")),
        headers=headers,
    )
    assert first.status_code == 201
    cases = {
        "rio-checksum-wrong": _body(rio=rio_for("+33145678999")),
        "rio-malformed": _body(rio="12345"),
        "rio-required": _body(rio=None),
        "registration-number-invalid": _body(registration_number="303265046"),
        "portability-date-in-past": _body(desired_date="2026-02-27"),
        "portability-date-too-soon": _body(desired_date="2026-03-05"),
        "portability-date-not-business-day": _body(desired_date="2026-03-14"),
        "portability-number-already-ours": _body(
            numbers=["+33186950001"], rio=rio_for("+33186950001")
        ),
        "portability-number-already-porting": _body(
            numbers=["+33145678903"], rio=rio_for("+33145678903")
        ),
        "portability-number-invalid": _body(numbers=["+3225551212"]),
        "donor-reference-required": _body(
            country="BE", numbers=["+3225551212"], rio=None, registration_number="0403170701"
        ),
        "portability-destination-invalid": _body(destination_line="+33612345678"),
    }
    held = {line: _body(numbers=[line], rio=rio_for(line))}
    for code, body in {**cases, **{"portability-number-already-ours": held[line]}}.items():
        answer = client.post(f"/api/v1/telephony/{group}/portabilities", json=body, headers=headers)
        assert answer.status_code in (409, 422), (code, answer.text)
        problem = answer.json()
        assert problem["type"].endswith(code), (code, problem)
        assert problem["detail"]
    with platform.session() as session:
        assert session.scalar(select(func.count()).select_from(Portability)) == 1
        assert session.scalar(select(func.count()).select_from(PortabilityEvent)) == 1
        assert session.scalar(select(func.count()).select_from(PortingNumber)) == 1


def test_belgium_and_switzerland_need_the_customer_number_not_a_rio(client):
    _platform, customer, group, _lines = setup(client)
    headers = auth(client, customer)
    belgian = client.post(
        f"/api/v1/telephony/{group}/portabilities",
        json=_body(
            country="BE",
            numbers=["02 555 12 12"],
            rio=None,
            donor_reference="CLI-778899",
            holder_kind="individual",
            registration_number=None,
            desired_date=None,
        ),
        headers=headers,
    )
    assert belgian.status_code == 201, belgian.text
    assert belgian.json()["numbers"] == ["+3225551212"]
    assert belgian.json()["donor_reference"] == "CLI-778899"
    swiss = client.post(
        f"/api/v1/telephony/{group}/portabilities",
        json=_body(
            country="CH",
            numbers=["+41215551212"],
            rio=None,
            donor_reference="778899",
            registration_number="CHE-100.155.213",
            desired_date=None,
        ),
        headers=headers,
    )
    assert swiss.status_code == 422
    assert swiss.json()["type"].endswith("registration-number-invalid")
