"""Voicemail of a line, on both databases: settings and their refusals, a greeting uploaded as
WAV or MP3 (made here with espeak-ng and sox) converted to 8 kHz mono, messages listed, listened
to, marked read and deleted, from the API and the page."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.accounts.factories import PASSWORD, api_token_for, make_account
from tests.conftest import require
from tests.subscriptions.factories import deliver
from tests.web.conftest import csrf_from, login
from voipdesk.telephony.actions.voicemail import check_voicemail_pin, store_message
from voipdesk.telephony.queries import routing_record_for


def _tools() -> None:
    require(
        bool(shutil.which("sox") and shutil.which("espeak-ng")),
        "sox and espeak-ng",
        "apt-get install sox libsox-fmt-mp3 espeak-ng",
    )


def spoken(tmp_path: Path, text: str, kind: str = "wav", rate: int = 22050) -> bytes:
    """A recording of `text` (espeak-ng), as WAV or MP3 (sox)."""
    _tools()
    source = tmp_path / "spoken.wav"
    subprocess.run(["espeak-ng", "-w", str(source), text], check=True, capture_output=True)
    if kind == "wav" and rate == 22050:
        return source.read_bytes()
    target = tmp_path / f"spoken-{rate}.{kind}"
    subprocess.run(["sox", str(source), "-r", str(rate), str(target)], check=True)
    return target.read_bytes()


def _setup(client):
    platform = client.app.state.platform
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)])
    number = result.sip_credentials[0].number_e164
    headers = {"Authorization": f"Bearer {api_token_for(client, account)}", "Accept-Language": "en"}
    url = f"/api/v1/telephony/{result.billing_group_id}/lines/{quote(number)}/voicemail"
    return platform, account, result.billing_group_id, number, headers, url


def _service_id(platform, number):
    with platform.session() as session:
        return routing_record_for(session, number)


def test_settings_pin_and_refusals(client):
    platform, _account, _group, number, headers, url = _setup(client)
    assert client.get(url, headers=headers).json()["enabled"] is True
    answer = client.patch(
        url,
        json={"pin": "2580", "email_notification": "without_audio", "delete_after_email": True,
              "greeting": "name", "greeting_name": "Léa Rousseau"},
        headers=headers,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["pin_set"], body["email_notification"], body["greeting"]) == (
        True,
        "without_audio",
        "name",
    )
    assert "2580" not in answer.text
    from sqlalchemy import select

    from voipdesk.subscriptions.models import Service

    with platform.session() as session:
        service_id = session.scalar(select(Service.id).where(Service.number_e164 == number))
        assert check_voicemail_pin(session, service_id, "2580")
        assert not check_voicemail_pin(session, service_id, "2581")
    for body, code in (
        ({"pin": "1234"}, "voicemail-pin-trivial"),
        ({"pin": "12"}, "voicemail-pin-format"),
        ({"greeting": "recording"}, "greeting-recording-missing"),
        ({"greeting": "name", "greeting_name": ""}, "greeting-name-missing"),
    ):
        refused = client.patch(url, json=body, headers=headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"].endswith(code)
    with platform.session() as session:
        assert check_voicemail_pin(session, service_id, "2580")  # nothing changed
    # A forward to the voicemail keeps it on.
    forwarding = url.replace("/voicemail", "/forwarding/busy")
    assert client.put(forwarding, json={"target": "voicemail"}, headers=headers).status_code == 200
    refused = client.patch(url, json={"enabled": False}, headers=headers)
    assert refused.status_code == 409 and refused.json()["type"].endswith(
        "voicemail-used-by-forward"
    )
    assert _service_id(platform, number).record["voicemail"]["pin_set"] is True


@pytest.mark.parametrize("kind", ["wav", "mp3"])
def test_greeting_uploaded_is_converted_to_telephony_wav(client, tmp_path, kind):
    platform, _account, _group, number, headers, url = _setup(client)
    audio = spoken(tmp_path, "You have reached Rousseau Conseil. Please leave a message.", kind)
    content_type = "audio/wav" if kind == "wav" else "audio/mpeg"
    answer = client.put(
        f"{url}/greeting", content=audio, headers={**headers, "Content-Type": content_type}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["greeting"] == "recording" and answer.json()["has_recording"] is True
    stored = client.get(f"{url}/greeting", headers=headers)
    assert stored.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(stored.content)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (8000, 1, 2)
        assert 1.0 < reader.getnframes() / 8000 < 10
    assert _service_id(platform, number).record["voicemail"]["greeting"] == "recording"


def test_bad_greetings_are_refused(client, tmp_path):
    _platform, _account, _group, _number, headers, url = _setup(client)
    for content, content_type, status, code in (
        (b"not audio at all", "audio/wav", 422, "greeting-unreadable"),
        (b"OggS....", "audio/ogg", 415, "greeting-format-unsupported"),
        (b"0" * (5 * 1024 * 1024 + 1), "audio/wav", 413, "greeting-too-large"),
    ):
        _tools()
        answer = client.put(
            f"{url}/greeting", content=content, headers={**headers, "Content-Type": content_type}
        )
        assert answer.status_code == status, answer.text
        assert answer.json()["type"].endswith(code)
    assert client.get(url, headers=headers).json()["has_recording"] is False


def test_messages_listed_listened_marked_and_deleted(client, tmp_path, clock):
    platform, account, group, number, headers, url = _setup(client)
    from datetime import timedelta

    from sqlalchemy import select

    from voipdesk.subscriptions.models import Service
    from voipdesk.telephony import audio

    wav, _seconds = audio.to_telephony_wav(spoken(tmp_path, "Hello, call me back."), "wav")
    with platform.transaction() as session:
        service_id = session.scalar(select(Service.id).where(Service.number_e164 == number))
        first = store_message(session, platform, service_id, "+33612345678", wav)
    clock.advance(timedelta(minutes=5))
    with platform.transaction() as session:
        second = store_message(session, platform, service_id, None, wav)
    listed = client.get(f"{url}/messages?limit=1", headers=headers).json()
    assert [m["id"] for m in listed["items"]] == [second]  # newest first
    assert listed["items"][0]["caller"] is None and listed["items"][0]["read"] is False
    rest = client.get(f"{url}/messages?limit=1&cursor={listed['next_cursor']}", headers=headers)
    assert [m["id"] for m in rest.json()["items"]] == [first]
    assert rest.json()["items"][0]["duration_seconds"] >= 1
    played = client.get(rest.json()["items"][0]["audio_url"], headers=headers)
    assert played.status_code == 200 and played.content == wav
    download = client.get(f"{url}/messages/{first}/audio?download=1", headers=headers)
    assert "attachment" in download.headers["content-disposition"]
    marked = client.patch(f"{url}/messages/{first}", json={"read": True}, headers=headers)
    assert marked.json()["read"] is True
    assert client.get(url, headers=headers).json()["unread"] == 1
    assert client.delete(f"{url}/messages/{first}", headers=headers).status_code == 204
    assert client.get(f"{url}/messages/{first}", headers=headers).status_code == 404
    stranger = make_account(platform)
    other = {"Authorization": f"Bearer {api_token_for(client, stranger)}"}
    assert client.get(f"{url}/messages/{second}/audio", headers=other).status_code == 404

    # The page lists it, plays it and deletes it.
    login(client, account.email, PASSWORD)
    page_url = f"/telephony/{group}/lines/{quote(number)}/voicemail"
    page = client.get(page_url)
    assert page.status_code == 200 and f'data-message="{second}"' in page.text
    assert "Hidden number" in page.text
    assert client.get(f"{page_url}/messages/{second}/audio").content == wav
    deleted = client.post(
        f"{page_url}/messages/{second}/delete",
        data={"csrf_token": csrf_from(page.text)},
        follow_redirects=True,
    )
    assert (
        "The message is deleted." in deleted.text and f'data-message="{second}"' not in deleted.text
    )


def test_voicemail_page_refuses_a_trivial_pin_and_keeps_nothing(client):
    _platform, account, group, number, headers, url = _setup(client)
    login(client, account.email, PASSWORD)
    page_url = f"/telephony/{group}/lines/{quote(number)}/voicemail"
    page = client.get(page_url)
    answer = client.post(
        f"{page_url}/settings",
        data={"csrf_token": csrf_from(page.text), "enabled": "true", "greeting": "standard",
              "pin": "1111", "email_notification": "with_audio"},
    )  # fmt: skip
    assert answer.status_code == 422
    assert "too easy to guess" in answer.text
    assert client.get(url, headers=headers).json()["pin_set"] is False
