"""Alias number configurations and abbreviated numbers through the API, on both databases."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import func, select

from tests.accounts.factories import api_token_for, make_account
from tests.telephony_numbers.helpers import OUTSIDE, customer, ivr_with_queue, tone_wav
from voipdesk.subscriptions.models import ServiceEvent
from voipdesk.telephony.aliases import queries, services
from voipdesk.telephony.aliases.models import AliasConfiguration


def _put(client, who, alias, configuration, confirm=False):  # type: ignore[no-untyped-def]
    return client.put(
        who.url(alias),
        json={"configuration": configuration, "confirm_delete": confirm},
        headers=who.headers,
    )


def _compiled(client, number):  # type: ignore[no-untyped-def]
    with client.app.state.platform.session() as session:
        return queries.compiled_configuration(session, number)


def test_a_number_starts_without_configuration_then_redirects_with_a_new_version(client):
    who = customer(client)
    alias = who.aliases[0]
    answer = client.get(who.url(alias), headers=who.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["configuration"] == {"type": "none"}
    assert answer.json()["version"] == 0
    assert _compiled(client, alias) is None

    answer = _put(
        client,
        who,
        alias,
        {"type": "redirect", "destination": who.lines[0], "present_alias": True},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["version"] == 1
    assert body["compiled"]["redirect"] == {"number": who.lines[0], "present_alias": True}
    compiled = _compiled(client, alias)
    assert compiled is not None and compiled.version == 1
    assert compiled.compiled["type"] == "redirect"

    # National format is read in the account's country; the version goes up with each change.
    answer = _put(client, who, alias, {"type": "redirect", "destination": "04 78 12 34 56"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["configuration"]["destination"] == OUTSIDE
    assert _compiled(client, alias).version == 2


def test_changing_the_type_says_the_old_configuration_is_deleted_and_needs_confirmation(client):
    who = customer(client)
    alias = who.aliases[0]
    assert (
        _put(client, who, alias, {"type": "redirect", "destination": who.lines[0]}).status_code
        == 200
    )
    queue = {
        "type": "queue",
        "queue": {"members": [{"kind": "line", "number": n} for n in who.lines]},
    }
    refused = _put(client, who, alias, queue)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("configuration-type-change-needs-confirmation")
    assert "Redirect" in refused.json()["detail"] and "deletes it" in refused.json()["detail"]
    french = client.put(
        who.url(alias),
        json={"configuration": queue},
        headers={**who.headers, "Accept-Language": "fr"},
    )
    assert "supprime" in french.json()["detail"]
    assert _compiled(client, alias).compiled["type"] == "redirect"  # nothing changed

    done = _put(client, who, alias, queue, confirm=True)
    assert done.status_code == 200, done.text
    members = done.json()["compiled"]["queue"]["members"]
    assert [m["number"] for m in members] == who.lines
    assert members[0]["sip_user"] == who.lines[0].lstrip("+")
    assert done.json()["compiled"]["queue"]["strategy"] == "ring_all"

    # "Supprimer la configuration": back to none, with a new version.
    assert client.delete(who.url(alias), headers=who.headers).status_code == 204
    after = client.get(who.url(alias), headers=who.headers).json()
    assert after["configuration"] == {"type": "none"} and after["version"] == 3
    with client.app.state.platform.session() as session:
        history = session.scalars(
            select(ServiceEvent.what).where(ServiceEvent.billing_group_id == who.group)
        ).all()
    assert any("queue saved" in h and "redirect configuration deleted" in h for h in history)
    assert any("alias configuration queue deleted" in h for h in history)


def test_bad_configurations_are_refused_by_their_rule_and_nothing_is_stored(client):
    who = customer(client)
    alias = who.aliases[0]
    cases = [
        ({"type": "queue", "queue": {"members": []}}, "queue-without-members"),
        ({"type": "redirect", "destination": "12"}, "invalid-number"),
        ({"type": "redirect", "destination": alias}, "destination-is-this-number"),
        (
            {"type": "queue", "queue": {"members": [{"kind": "line", "number": OUTSIDE}]}},
            "not-a-line-of-the-group",
        ),
        (
            {
                **ivr_with_queue(who.lines),
                "menus": [
                    {
                        "id": "main",
                        "name": "Main",
                        "keys": [
                            {"key": "1", "action": "line", "target": who.lines[0]},
                            {"key": "1", "action": "line", "target": who.lines[1]},
                        ],
                    }
                ],
            },
            "ivr-key-used-twice",
        ),
        (
            {
                "type": "ivr",
                "menus": [
                    {
                        "id": "main",
                        "name": "Main",
                        "keys": [{"key": "1", "action": "submenu", "target": "sub"}],
                    },
                    {
                        "id": "sub",
                        "name": "Sub",
                        "keys": [{"key": "*", "action": "submenu", "target": "main"}],
                    },
                ],
            },
            "ivr-menu-without-way-out",
        ),
        ({"type": "conference", "pin": "1234"}, "conference-pin-trivial"),
    ]
    for configuration, code in cases:
        answer = _put(client, who, alias, configuration)
        assert answer.status_code == 422, (code, answer.text)
        assert answer.json()["type"].endswith(code), answer.json()
    assert _compiled(client, alias) is None
    # Pydantic's own checks list each bad field.
    answer = _put(
        client, who, alias, {"type": "queue", "queue": {"members": [], "ring_timeout": 1}}
    )
    assert answer.status_code == 422
    assert any("ring_timeout" in e["field"] for e in answer.json()["errors"])


def test_redirect_loop_through_the_group_is_refused(client):
    who = customer(client)
    first, second = who.aliases
    assert _put(client, who, first, {"type": "redirect", "destination": second}).status_code == 200
    answer = _put(client, who, second, {"type": "redirect", "destination": first})
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("redirect-loop")
    assert first in answer.json()["detail"]


def test_ivr_with_spoken_greeting_and_a_queue_is_compiled_for_the_switch(client):
    who = customer(client)
    alias = who.aliases[0]
    answer = _put(client, who, alias, ivr_with_queue(who.lines))
    assert answer.status_code == 200, answer.text
    compiled = _compiled(client, alias).compiled
    assert compiled["root"] == "main"
    keys = compiled["menus"]["main"]["keys"]
    assert keys["1"] == {"action": "line", "number": who.lines[0], "sip_user": who.lines[0][1:]}
    assert keys["2"] == {"action": "queue", "target": "sales"}
    assert [m["number"] for m in compiled["queues"]["sales"]["members"]] == who.lines
    audio_id = compiled["greeting"]["audio_id"]
    assert audio_id
    wav = client.get(who.url(alias, f"audio/{audio_id}"), headers=who.headers)
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    assert wav.content[:4] == b"RIFF"
    listed = client.get(who.url(alias, "audio"), headers=who.headers).json()["items"]
    assert [(a["source"], a["text"]) for a in listed] == [("speech", "Bonjour, bienvenue.")]


def test_opening_hours_and_public_holidays_go_into_the_compiled_record(client):
    who = customer(client)
    alias = who.aliases[0]
    configuration = ivr_with_queue(who.lines)
    configuration["opening_hours"] = {
        "timezone": "Europe/Paris",
        "periods": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}
        ],
        "holidays_country": "FR",
    }
    configuration["closed"] = {"action": "voicemail", "target": who.lines[0]}
    answer = _put(client, who, alias, configuration)
    assert answer.status_code == 200, answer.text
    hours = _compiled(client, alias).compiled["opening_hours"]
    assert "2026-07-14" in hours["holidays"] and "2027-12-25" in hours["holidays"]
    assert services.is_open(hours, client.app.state.platform.now())  # a Monday, 10:00 in Paris
    bad = dict(
        configuration,
        opening_hours={"periods": [{"days": ["mon"], "start": "18:00", "end": "09:00"}]},
    )
    assert _put(client, who, alias, bad).json()["type"].endswith("invalid-opening-hours")


def test_uploaded_audio_is_converted_and_bad_files_are_refused(client):
    who = customer(client)
    alias = who.aliases[0]
    answer = client.post(
        who.url(alias, "audio"),
        files={"file": ("hello.wav", tone_wav(1.0), "audio/wav")},
        headers=who.headers,
    )
    assert answer.status_code == 201, answer.text
    audio = answer.json()
    assert audio["source"] == "upload" and 950 <= audio["duration_ms"] <= 1050
    import io
    import wave

    content = client.get(who.url(alias, f"audio/{audio['id']}"), headers=who.headers).content
    with wave.open(io.BytesIO(content)) as reader:
        assert (reader.getframerate(), reader.getnchannels()) == (8000, 1)
    # The recording is used as the greeting of a conference-free IVR.
    configuration = ivr_with_queue(who.lines)
    configuration["greeting"] = {"audio_id": audio["id"]}
    assert _put(client, who, alias, configuration).status_code == 200
    bad = client.post(
        who.url(alias, "audio"),
        files={"file": ("notes.txt", b"this is no sound at all", "text/plain")},
        headers=who.headers,
    )
    assert bad.status_code == 422 and bad.json()["type"].endswith("unsupported-audio")
    from voipdesk.telephony.aliases import rules

    huge = client.post(
        who.url(alias, "audio"),
        files={"file": ("big.wav", b"RIFF0000WAVE" + b"\0" * rules.MAX_AUDIO_BYTES, "audio/wav")},
        headers=who.headers,
    )
    assert huge.status_code == 413 and huge.json()["type"].endswith("audio-too-large")
    unknown = dict(configuration, greeting={"audio_id": "0" * 32})
    assert _put(client, who, alias, unknown).json()["type"].endswith("audio-not-found")


def test_contact_center_agents_recording_flag_and_recordings(client):
    who = customer(client)
    alias = who.aliases[0]
    configuration = dict(ivr_with_queue(who.lines), type="contact_center", recording=True)
    answer = _put(client, who, alias, configuration)
    assert answer.status_code == 200, answer.text
    assert answer.json()["agents"] == [
        {"line": who.lines[0], "status": "available"},
        {"line": who.lines[1], "status": "available"},
    ]
    assert _compiled(client, alias).compiled["recording"] is True
    # From the page/API...
    line = quote(who.lines[0])
    answer = client.put(
        who.url(alias, f"configuration/agents/{line}"),
        json={"status": "on_break"},
        headers=who.headers,
    )
    assert answer.status_code == 200, answer.text
    compiled = _compiled(client, alias)
    assert compiled.version == 2 and compiled.compiled["agents"][who.lines[0]] == "on_break"
    # ...and by star code from the agent's phone: the same use case.
    platform = client.app.state.platform
    with platform.transaction() as session:
        assert services.agent_star_code(session, platform, who.lines[1], "#45#") == "logged_out"
        assert services.agent_star_code(session, platform, who.lines[1], "*99#") is None
    compiled = _compiled(client, alias)
    assert compiled.version == 3 and compiled.compiled["agents"][who.lines[1]] == "logged_out"
    statuses = {m["number"]: m["status"] for m in compiled.compiled["queues"]["sales"]["members"]}
    assert statuses == {who.lines[0]: "on_break", who.lines[1]: "logged_out"}

    # Recordings: stored by the media service, listed newest first and playable.
    with platform.transaction() as session:
        for minutes in (0, 5):
            services.store_call_recording(
                session,
                platform,
                alias,
                caller=OUTSIDE,
                agent_number=who.lines[0],
                started_at=platform.now() + timedelta(minutes=minutes),
                duration_seconds=42,
                content=tone_wav(0.2),
            )
    listed = client.get(who.url(alias, "recordings?limit=1"), headers=who.headers).json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]
    first = listed["items"][0]
    assert first["caller"] == OUTSIDE and first["duration_seconds"] == 42
    rest = client.get(
        who.url(alias, f"recordings?limit=1&cursor={listed['next_cursor']}"), headers=who.headers
    ).json()
    assert rest["items"][0]["started_at"] < first["started_at"]
    audio = client.get(who.url(alias, f"recordings/{first['id']}/audio"), headers=who.headers)
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"

    # With recording off, nothing more is recorded.
    assert _put(client, who, alias, dict(configuration, recording=False)).status_code == 200
    with platform.transaction() as session:
        try:
            services.store_call_recording(
                session,
                platform,
                alias,
                caller=OUTSIDE,
                agent_number=None,
                started_at=platform.now(),
                duration_seconds=1,
                content=b"RIFF",
            )
            raise AssertionError("recorded with recording off")
        except Exception as error:
            assert getattr(error, "code", "") == "call-recording-off"


def test_conference_settings(client):
    who = customer(client)
    alias = who.aliases[0]
    answer = _put(client, who, alias, {"type": "conference", "pin": "4821", "muted_on_entry": True})
    assert answer.status_code == 200, answer.text
    assert answer.json()["compiled"]["conference"] == {
        "pin": "4821",
        "muted_on_entry": True,
        "recording": False,
    }


def test_someone_elses_number_answers_404(client):
    who = customer(client)
    other = make_account(client.app.state.platform)
    headers = {"Authorization": f"Bearer {api_token_for(client, other)}"}
    assert client.get(who.url(who.aliases[0]), headers=headers).status_code == 404
    assert client.get(who.url(who.lines[0]), headers=who.headers).status_code == 404  # a line
    answer = client.put(
        who.url(who.aliases[0]),
        json={"configuration": {"type": "conference"}},
        headers=headers,
    )
    assert answer.status_code == 404
    assert (
        client.get(
            f"/api/v1/telephony/{who.group}/abbreviated-numbers", headers=headers
        ).status_code
        == 404
    )


def test_compiled_lookup_is_one_indexed_query(client):
    who = customer(client)
    alias = who.aliases[0]
    _put(client, who, alias, {"type": "conference"})
    platform = client.app.state.platform
    with platform.engine.connect() as connection:
        indexes = __import__("sqlalchemy").inspect(connection).get_unique_constraints(
            "alias_configuration"
        ) + __import__("sqlalchemy").inspect(connection).get_indexes("alias_configuration")
    assert any(item.get("column_names") == ["number_e164"] for item in indexes), (
        "the switch's lookup must use an index on number_e164"
    )
    statements = []
    from sqlalchemy import event

    def count(_connection, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    event.listen(platform.engine, "before_cursor_execute", count)
    try:
        with platform.session() as session:
            assert queries.compiled_configuration(session, alias) is not None
    finally:
        event.remove(platform.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    with platform.session() as session:
        assert session.scalar(select(func.count()).select_from(AliasConfiguration)) == 1


# --- Abbreviated numbers --------------------------------------------------------------------------
def test_group_abbreviated_numbers_with_the_three_digit_warning(client):
    who = customer(client)
    url = f"/api/v1/telephony/{who.group}/abbreviated-numbers"
    four = client.post(
        url,
        json={"code": "7001", "name": "Reception", "destination": who.lines[0]},
        headers=who.headers,
    )
    assert four.status_code == 201, four.text
    assert four.json()["warnings"] == [] and four.json()["scope"] == "group"
    three = client.post(
        url,
        json={"code": "701", "name": "Bakery", "destination": "04 78 12 34 56"},
        headers=who.headers,
    )
    assert three.status_code == 201, three.text
    assert "dial timeout" in three.json()["warnings"][0]
    assert three.json()["destination"] == OUTSIDE
    listed = client.get(url, headers=who.headers).json()["items"]
    assert [a["code"] for a in listed] == ["7001", "701"]
    for body, status, code in [
        (
            {"code": "7001", "name": "Again", "destination": OUTSIDE},
            409,
            "abbreviated-number-already-used",
        ),
        (
            {"code": "2001", "name": "Line range", "destination": OUTSIDE},
            422,
            "abbreviated-number-out-of-range",
        ),
        (
            {"code": "70001", "name": "Too long", "destination": OUTSIDE},
            422,
            "abbreviated-number-out-of-range",
        ),
        ({"code": "7002", "name": "Bad", "destination": "0000"}, 422, "invalid-number"),
    ]:
        answer = client.post(url, json=body, headers=who.headers)
        assert answer.status_code == status, answer.text
        assert answer.json()["type"].endswith(code)
    assert len(client.get(url, headers=who.headers).json()["items"]) == 2
    assert client.delete(f"{url}/701", headers=who.headers).status_code == 204
    assert client.delete(f"{url}/701", headers=who.headers).status_code == 404
    from voipdesk.telephony.abbreviated import queries as abbreviated

    with client.app.state.platform.session() as session:
        assert abbreviated.dial_plan(session, who.lines[0]) == {"7001": who.lines[0]}
        assert abbreviated.dial_plan(session, who.lines[1]) == {}  # Découverte: none


def test_line_abbreviated_numbers_and_the_decouverte_rule(client):
    who = customer(client)
    entreprise, decouverte = who.lines
    url = f"/api/v1/telephony/{who.group}/lines/{quote(entreprise)}/abbreviated-numbers"
    answer = client.post(
        url, json={"code": "2001", "name": "Home", "destination": OUTSIDE}, headers=who.headers
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["line"] == entreprise
    wrong = client.post(
        url,
        json={"code": "7001", "name": "Group range", "destination": OUTSIDE},
        headers=who.headers,
    )
    assert wrong.status_code == 422
    french = client.post(
        url,
        json={"code": "7001", "name": "Group range", "destination": OUTSIDE},
        headers={**who.headers, "Accept-Language": "fr"},
    )
    assert "d'une ligne" in french.json()["detail"]
    refused = client.post(
        f"/api/v1/telephony/{who.group}/lines/{quote(decouverte)}/abbreviated-numbers",
        json={"code": "2001", "name": "Home", "destination": OUTSIDE},
        headers=who.headers,
    )
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("abbreviated-numbers-not-on-offer")
    assert client.get(url, headers=who.headers).json()["items"][0]["code"] == "2001"
    assert client.delete(f"{url}/2001", headers=who.headers).status_code == 204


def test_an_uploaded_mp3_is_converted_to_the_telephony_format(client, tmp_path):
    import subprocess

    from tests.conftest import require
    from voipdesk.telephony.aliases import audio

    require(
        "mp3" in audio.sox_formats(),
        "sox with MP3 support",
        "apt-get install libsox-fmt-mp3",
    )
    source = tmp_path / "tone.wav"
    source.write_bytes(tone_wav(1.0))
    mp3 = tmp_path / "tone.mp3"
    subprocess.run(["sox", str(source), str(mp3)], check=True)
    who = customer(client)
    answer = client.post(
        who.url(who.aliases[0], "audio"),
        files={"file": ("tone.mp3", mp3.read_bytes(), "audio/mpeg")},
        headers=who.headers,
    )
    assert answer.status_code == 201, answer.text
    assert 900 <= answer.json()["duration_ms"] <= 1200


def test_mp3_without_sox_support_is_refused_by_its_rule(client, monkeypatch):
    from voipdesk.telephony.aliases import audio

    monkeypatch.setattr(audio, "sox_formats", lambda: frozenset({"wav"}))
    who = customer(client)
    answer = client.post(
        who.url(who.aliases[0], "audio"),
        files={"file": ("song.mp3", b"ID3\x04\x00" + b"\0" * 100, "audio/mpeg")},
        headers={**who.headers, "Accept-Language": "fr"},
    )
    assert answer.status_code == 422
    assert "le MP3 ne peut pas être converti sur ce serveur" in answer.json()["detail"]


def test_a_number_that_is_no_longer_an_alias_loses_its_configuration(client):
    from voipdesk.subscriptions.models import Service
    from voipdesk.telephony.aliases import actions

    who = customer(client)
    kept, gone = who.aliases
    for alias in (kept, gone):
        assert _put(client, who, alias, {"type": "conference"}).status_code == 200
    platform = client.app.state.platform
    with platform.transaction() as session:  # what the renewal does to a terminated number
        service = session.scalar(select(Service).where(Service.number_e164 == gone))
        service.state = "terminated"
    with platform.transaction() as session:
        assert actions.release_gone_numbers(session, platform) == 1
    with platform.transaction() as session:
        assert actions.release_gone_numbers(session, platform) == 0  # once
    released = _compiled(client, gone)
    assert released.compiled["type"] == "none" and released.version == 2
    assert _compiled(client, kept).compiled["type"] == "conference"


def test_the_numbers_routing_record_carries_its_configuration_from_the_same_transaction(client):
    """What the switch reads per call (telephony's routing record) follows each configuration
    change at once, with a new record version."""
    from voipdesk.telephony.queries import routing_record_for

    who = customer(client)
    alias = who.aliases[0]

    def record():  # type: ignore[no-untyped-def]
        with client.app.state.platform.session() as session:
            return routing_record_for(session, alias)

    before = record()
    answer = _put(client, who, alias, {"type": "redirect", "destination": who.lines[0]})
    assert answer.status_code == 200, answer.text
    after = record()
    assert after is not None
    assert after.record["alias_configuration"]["type"] == "redirect"
    assert after.record["alias_configuration"]["redirect"]["number"] == who.lines[0]
    assert before is None or after.version > before.version

    answer = _put(client, who, alias, {"type": "redirect", "destination": "04 78 12 34 56"})
    assert answer.status_code == 200, answer.text
    again = record()
    assert again is not None and again.version > after.version
    assert again.record["alias_configuration"]["redirect"]["number"] == OUTSIDE


def test_a_terminated_queue_member_leaves_the_compiled_records_at_the_renewal(client):
    """Terminating a line at the renewal compiles again, in the renewal's transaction, every
    configuration of the group that names it: the queue no longer rings it, the contact
    center's agents and an IVR key to it follow, each with a new version in the number's
    routing record; configurations that do not name it keep their version."""
    from datetime import date

    from voipdesk.billing.renewal import run_renewal
    from voipdesk.telephony.queries import routing_record_for

    who = customer(client, aliases=3)
    first, second = who.lines[:2]
    queue_alias, ivr_alias, other_alias = who.aliases
    queue = {
        "type": "queue",
        "queue": {"members": [{"kind": "line", "number": n} for n in (first, second)]},
    }
    assert _put(client, who, queue_alias, queue).status_code == 200
    assert _put(client, who, ivr_alias, ivr_with_queue([first, second])).status_code == 200
    assert _put(client, who, other_alias, {"type": "conference"}).status_code == 200
    platform = client.app.state.platform

    def record(number):  # type: ignore[no-untyped-def]
        with platform.session() as session:
            return routing_record_for(session, number)

    before = {alias: record(alias) for alias in who.aliases}
    ended = client.post(
        f"/api/v1/telephony/{who.group}/lines/{quote(second)}/termination",
        json={"reason": "move"},
        headers=who.headers,
    )
    assert ended.status_code in (200, 201), ended.text
    # Until the renewal the line is live: nothing changes.
    assert record(queue_alias).version == before[queue_alias].version
    run_renewal(platform, date(2026, 4, 1))

    members = record(queue_alias).record["alias_configuration"]["queue"]["members"]
    assert [m["number"] for m in members] == [first]
    assert record(queue_alias).version == before[queue_alias].version + 1
    assert _compiled(client, queue_alias).version == 2
    ivr = record(ivr_alias).record["alias_configuration"]
    assert [m["number"] for m in ivr["queues"]["sales"]["members"]] == [first]
    assert record(ivr_alias).version == before[ivr_alias].version + 1
    assert record(other_alias).version == before[other_alias].version
    # The customer's settings still say what they chose; the page shows them as they are.
    shown = client.get(who.url(queue_alias), headers=who.headers).json()
    assert [m["number"] for m in shown["configuration"]["queue"]["members"]] == [first, second]
    assert [m["number"] for m in shown["compiled"]["queue"]["members"]] == [first]


def test_an_ivr_key_to_an_ended_line_says_it_is_unavailable():
    from voipdesk.telephony.aliases import rules

    settings = {
        "root": "main",
        "menus": [
            {
                "id": "main",
                "keys": [
                    {"key": "1", "action": "line", "target": "+33100000001"},
                    {"key": "2", "action": "voicemail", "target": "+33100000002"},
                ],
            }
        ],
    }
    assert rules.lines_named("ivr", settings) == {"+33100000001", "+33100000002"}
    compiled = rules.compile_configuration(
        "+33100000009", "ivr", settings, 3, year=2026, gone_lines={"+33100000001"}
    )
    keys = compiled["menus"]["main"]["keys"]
    assert keys["1"]["available"] is False and "available" not in keys["2"]
    redirect = rules.compile_configuration(
        "+33100000009", "redirect", {"destination": "+33100000001"}, 1, year=2026,
        gone_lines={"+33100000001"},
    )  # fmt: skip
    assert redirect["redirect"]["available"] is False
    assert rules.numbers_named("redirect", {"destination": "+33478123456"}) == {"+33478123456"}
