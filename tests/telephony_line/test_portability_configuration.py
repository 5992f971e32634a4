"""A portability whose numbers take an alias number's configuration (an IVR with its spoken
greeting and queue): once activated, each ported number answers with the same menu and its own
copy of the recording; a destination that is not a configured alias number of the group, or a
line and a configuration at once, is refused with nothing stored. Both databases."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import func, select

from tests.accounts.factories import PASSWORD
from tests.telephony_line.helpers import PORTED, SIREN, rio_for, staff_headers
from tests.telephony_numbers.helpers import customer, ivr_with_queue
from tests.web.conftest import csrf_from, login
from voipdesk.subscriptions.models import ServiceEvent
from voipdesk.telephony.aliases import queries
from voipdesk.telephony.aliases.models import AliasAudio
from voipdesk.telephony.portability.models import Portability, PortabilityEvent
from voipdesk.telephony.queries import routing_record_for

STEPS = ("received", "validated", "sent_to_operator", "acknowledged", "final_report", "activated")


def _request(client, who, **destination):  # type: ignore[no-untyped-def]
    body = {
        "country": "FR",
        "numbers": PORTED,
        "current_operator": "Orange",
        "rio": rio_for(PORTED[0]),
        "holder_kind": "company",
        "holder_name": "Martin Télécom SARL",
        "registration_number": SIREN,
        "desired_date": "2026-03-11",
        **destination,
    }
    return client.post(
        f"/api/v1/telephony/{who.group}/portabilities", json=body, headers=who.headers
    )


def test_ported_numbers_take_the_configuration_of_an_alias_number_with_its_recordings(client):
    platform = client.app.state.platform
    who = customer(client)
    source = who.aliases[0]
    configured = client.put(
        who.url(source), json={"configuration": ivr_with_queue(who.lines)}, headers=who.headers
    )
    assert configured.status_code == 200, configured.text
    made = _request(client, who, destination_configuration=source)
    assert made.status_code == 201, made.text
    assert made.json()["destination_configuration"] == source
    staff = staff_headers(client)
    pid = made.json()["id"]
    for to in STEPS:
        moved = client.post(
            f"/api/v1/backoffice/portabilities/{pid}/steps", json={"to": to}, headers=staff
        )
        assert moved.status_code == 200, moved.text

    with platform.session() as session:
        original = queries.compiled_configuration(session, source).compiled
        source_audio = session.scalars(
            select(AliasAudio).where(AliasAudio.number_e164 == source)
        ).one()
        for number in PORTED:
            copy = queries.compiled_configuration(session, number).compiled
            assert copy["type"] == "ivr"
            assert copy["menus"] == original["menus"] and copy["queues"] == original["queues"]
            # Its own recording: deleting the source's greeting later leaves this one intact.
            own = session.scalars(select(AliasAudio).where(AliasAudio.number_e164 == number)).one()
            assert copy["greeting"]["audio_id"] == own.id != source_audio.id
            assert own.content == source_audio.content
            # The switch routes the number by the copy.
            record = routing_record_for(session, number)
            assert record is not None
            assert record.record["alias_configuration"]["type"] == "ivr"
        whats = [e.what for e in session.scalars(select(ServiceEvent))]
        assert sum(f"copied from {source}" in w for w in whats) == 2
    # The customer can play the ported number's greeting like any other.
    with platform.session() as session:
        own_id = session.scalars(
            select(AliasAudio.id).where(AliasAudio.number_e164 == PORTED[0])
        ).one()
    played = client.get(
        f"/api/v1/telephony/{who.group}/numbers/{quote(PORTED[0])}/audio/{own_id}",
        headers=who.headers,
    )
    assert played.status_code == 200 and played.content[:4] == b"RIFF"


def test_a_destination_that_is_not_a_configured_alias_number_is_refused(client):
    platform = client.app.state.platform
    who = customer(client)
    unconfigured = who.aliases[1]
    client.put(
        who.url(who.aliases[0]),
        json={"configuration": {"type": "redirect", "destination": who.lines[0]}},
        headers=who.headers,
    )
    cases = {
        "portability-configuration-invalid": {"destination_configuration": unconfigured},
        "portability-two-destinations": {
            "destination_line": who.lines[0],
            "destination_configuration": who.aliases[0],
        },
    }
    for code, destination in cases.items():
        answer = _request(client, who, **destination)
        assert answer.status_code == 422, (code, answer.text)
        assert answer.json()["type"].endswith(code)
        assert [e["field"] for e in answer.json()["errors"]] == ["destination_configuration"]
    with platform.session() as session:
        assert session.scalar(select(func.count()).select_from(Portability)) == 0
        assert session.scalar(select(func.count()).select_from(PortabilityEvent)) == 0


def test_the_page_offers_the_groups_configured_numbers_as_a_destination(client):
    platform = client.app.state.platform
    who = customer(client)
    source = who.aliases[0]
    client.put(
        who.url(source), json={"configuration": ivr_with_queue(who.lines)}, headers=who.headers
    )
    login(client, who.account.email, PASSWORD)  # type: ignore[attr-defined]
    page = client.get(f"/telephony/{who.group}/portabilities")
    choice = f"configuration:{source}"
    assert f'value="{choice}"' in page.text and "Même configuration que" in page.text
    assert f'value="configuration:{who.aliases[1]}"' not in page.text  # not configured
    form = {
        "csrf_token": csrf_from(page.text),
        "country": "FR",
        "numbers": "\n".join(PORTED),
        "current_operator": "Orange",
        "rio": rio_for(PORTED[0]),
        "holder_kind": "individual",
        "holder_name": "Claire Martin",
        "desired_date": "",
        "destination": f"configuration:{who.aliases[1]}",
    }
    refused = client.post(f"/telephony/{who.group}/portabilities", data=form)
    assert refused.status_code == 422 and "pas un numéro alias configuré" in refused.text
    made = client.post(
        f"/telephony/{who.group}/portabilities", data={**form, "destination": choice}
    )
    assert made.status_code == 200 and "est demandée" in made.text  # redirected, then told
    with platform.session() as session:
        row = session.scalars(select(Portability)).one()
        assert (row.destination_configuration, row.destination_line) == (source, None)
    detail = client.get(f"/telephony/{who.group}/portabilities/{row.id}")
    assert "Même configuration que" in detail.text
