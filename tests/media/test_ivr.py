"""An alias configured as an IVR, through the real switch: key 1 transfers the caller to a line
(REFER, then the caller's phone calls it and that line answers); key 2 takes a message for
another line's voicemail in the same call."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from tests.media.test_voicemail import messages, python_phone, spoken
from tests.switch.test_calls import Customer
from voipdesk.media import audio, rules, sip
from voipdesk.media.phone import PhoneCall, ToneWatch


def test_ivr_key_transfers_to_a_line_and_another_key_takes_a_voicemail_message(
    client, platform, switch, sip_folder
):
    customer = Customer(
        client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 3, aliases=1
    )
    alias = customer.aliases[0]
    sales, office = customer.number(2), customer.number(1)
    customer.api(
        "PUT",
        f"/api/v1/telephony/{customer.group}/numbers/{quote(alias)}/configuration",
        json={
            "configuration": {
                "type": "ivr",
                "greeting": {"text": "Welcome.", "language": "en"},
                "menus": [
                    {
                        "id": "main",
                        "name": "Main",
                        "prompt": {"text": "Sales, one. Messages, two.", "language": "en"},
                        "keys": [
                            {"key": "1", "action": "line", "target": sales},
                            {"key": "2", "action": "voicemail", "target": office},
                        ],
                    }
                ],
            }
        },
    )

    def press(key: str):  # type: ignore[no-untyped-def]
        async def script(call: PhoneCall) -> None:
            await call.send_silence(1.0)
            await call.press(key)

        return script

    caller = python_phone(switch, customer, 0)
    result = asyncio.run(caller.call(alias, press("1"), wait_bye=True))
    assert result.code == 200, result.reason
    assert result.hung_up_by == "server"
    assert result.referred_to is not None and sip.uri_user(result.referred_to) == sales
    # The caller's phone calls the line it was referred to: it rings there and is answered.
    answering = customer.phones[2]
    assert answering.register().ok
    waiting = answering.answer("200")

    async def talk(call: PhoneCall) -> None:
        await call.send_silence(0.5)

    transferred = asyncio.run(caller.call(sip.uri_user(result.referred_to), talk))
    assert transferred.code == 200, transferred.reason + switch.log()[-1500:]
    assert answering.wait(waiting) == 0

    words = spoken("Please call the office back.")

    async def leave(call: PhoneCall) -> None:
        await call.send_silence(1.0)
        await call.press("2")
        beep = ToneWatch()
        call.rtp.on_frame = beep.frame
        assert await call.silence_until(beep.tone_over, timeout=20)
        await call.send_audio(words)
        await call.send_silence(0.5)

    result = asyncio.run(caller.call(alias, leave))
    assert result.code == 200
    (message,) = messages(platform)
    stored = audio.wav_pcm(platform.files.read(message.audio_file))
    assert stored.find(audio.round_trip(rules.PCMA, words)) >= 0
    assert message.caller == customer.number(0)
    listed = customer.api("GET", customer.line_url(1, "voicemail/messages"))
    assert [item["id"] for item in listed["items"]] == [message.id]  # the office line's
