"""Voicemail through the real switch: a busy line's caller hears the greeting, leaves a message
after the tone, and the stored WAV holds what the caller sent, sample for sample; the line then
dials 123 and hears it, and saves it with key 2."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from tests.conftest import require
from tests.switch.test_calls import Customer
from voipdesk.accounts.models import ServiceEmail
from voipdesk.media import audio, rules
from voipdesk.media.phone import Phone, PhoneCall, ToneWatch
from voipdesk.telephony.aliases import audio as speech
from voipdesk.telephony.models import VoicemailMessage


def spoken(text: str) -> bytes:
    require(speech.speech_available(), "espeak-ng and sox", "apt-get install espeak-ng sox")
    return audio.wav_pcm(speech.speak(text, "en").content)


def python_phone(switch, customer: Customer, index: int) -> Phone:  # type: ignore[no-untyped-def]
    line = customer.lines[index]
    return Phone(
        ("127.0.0.1", switch.port), switch.settings.sip_domain, line.sip_username, line.sip_password
    )


def messages(platform, timeout: float = 5.0) -> list[VoicemailMessage]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        with platform.session() as session:
            rows = list(session.scalars(select(VoicemailMessage)))
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_busy_line_caller_leaves_a_message_then_123_plays_it_and_saves_it(
    client, platform, switch, sip_folder
):
    customer = Customer(client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 2)
    customer.api("PUT", customer.line_url(1, "forwarding/busy"), json={"target": "voicemail"})
    called = customer.phones[1]
    assert called.register().ok
    refusing = called.answer("486")
    speech_pcm = spoken("Hello, this is a test message. Please call me back tomorrow.")

    async def leave_message(call: PhoneCall) -> None:
        beep = ToneWatch()
        call.rtp.on_frame = beep.frame
        assert await call.silence_until(beep.tone_over, timeout=20), "no tone heard"
        await call.send_audio(speech_pcm)
        await call.send_silence(0.5)

    caller = python_phone(switch, customer, 0)
    result = asyncio.run(caller.call(customer.number(1), leave_message))
    assert result.code == 200, result.reason + "\n" + switch.log()[-2000:]
    assert called.wait(refusing) == 0
    # The caller heard the standard greeting (speech) before the tone.
    assert audio.rms(result.heard[: 2 * rules.SAMPLE_RATE * 2]) > 300

    (message,) = messages(platform)
    assert message.audio is None and message.audio_file is not None  # a file, not a blob
    wav = platform.files.read(message.audio_file)
    stored = audio.wav_pcm(wav)
    sent = audio.round_trip(rules.PCMA, speech_pcm)
    assert stored.find(sent) >= 0, "the stored message is not what the caller sent"
    assert message.caller == customer.number(0)
    assert abs(message.duration_seconds - len(stored) / 16000) <= 1
    assert message.read_at is None

    # The customer space lists it with its player, and the owner got the e-mail with the audio.
    listed = customer.api("GET", customer.line_url(1, "voicemail/messages"))
    assert [item["id"] for item in listed["items"]] == [message.id]
    with platform.session() as session:
        (email,) = session.scalars(
            select(ServiceEmail).where(ServiceEmail.kind == "voicemail_message")
        )
        assert customer.number(1) in email.subject
        assert [a.content_type for a in email.attachments] == ["audio/wav"]
        assert email.attachments[0].data == wav

    # 123 from the line: the summary, the message itself, key 2 saves it, then goodbye.
    async def listen(call: PhoneCall) -> None:
        heard = await call.silence_until(lambda: stored[:32000] in call.heard, timeout=30)
        assert heard, "the message was not played"
        await call.silence_until(lambda: stored[-16000:] in call.heard, timeout=30)
        await call.press("2")

    owner = python_phone(switch, customer, 1)
    result = asyncio.run(owner.call("123", listen, wait_bye=True))
    assert result.code == 200, result.reason
    assert result.hung_up_by == "server"
    assert stored in result.heard  # sample for sample: re-encoding A-law values is exact
    with platform.session() as session:
        assert session.get(VoicemailMessage, message.id).read_at is not None


def test_voicemail_target_of_no_line_is_refused_before_answering(client, platform, media):
    phone = Phone(("127.0.0.1", media.port), "media", "tester", None)

    async def never(call: PhoneCall) -> None:
        raise AssertionError("answered")

    for user in ("voicemail-33999999999", "conference-33999999999", "nobody"):
        result = asyncio.run(phone.call(user, never, timeout=10))
        assert result.code == 404, (user, result)


def test_unreadable_database_is_503_before_answering(platform):  # type: ignore[no-untyped-def]
    from voipdesk.core.db import make_engine
    from voipdesk.core.platform import Platform
    from voipdesk.media.commands import Background

    broken = Platform(
        settings=platform.settings.model_copy(update={"media_port": 0}),
        engine=make_engine("postgresql://nobody@127.0.0.1:1/none"),
        clock=platform.clock,
    )
    running = Background(broken).start()
    try:
        phone = Phone(("127.0.0.1", running.port), "media", "tester", None)

        async def never(call: PhoneCall) -> None:
            raise AssertionError("answered")

        result = asyncio.run(phone.call("voicemail-33612345678", never, timeout=10))
        assert result.code == 503 and "unavailable" in result.reason
    finally:
        running.stop()


def test_media_call_command_leaves_a_message(client, platform, media, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """`voipdesk media call`, the demo's phone, here straight to the media service's port."""
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from voipdesk import cli
    from voipdesk.core.settings import get_settings

    spoken("warm up")  # skips (locally) without espeak-ng
    no_switch = SimpleNamespace(port=0, settings=platform.settings)
    customer = Customer(client, platform, no_switch, None, [("sip-entreprise", 2)])
    monkeypatch.setenv("VOIPDESK_SIP_PORT", str(media.port))
    get_settings.cache_clear()
    heard = tmp_path / "heard.wav"
    try:
        result = CliRunner().invoke(
            cli.app,
            ["media", "call", "voicemail-" + customer.number(0).lstrip("+"), "--user", "x",
             "--password", "y", "--say", "Call me back.", "--heard", str(heard)],
        )  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "Final answer 200" in result.output and "hung up by the phone" in result.output
    assert audio.rms(audio.wav_pcm(heard.read_bytes())) > 100  # the greeting and the tone
    (message,) = messages(platform)
    assert message.duration_seconds >= 1
