"""Conference rooms: three lines call an alias configured as a conference through the real
switch, enter its PIN by keys and each sends its own tone: each hears the other two, not its
own. Muted on entry: the others do not hear a muted caller. The others hear a rising cue when
someone joins and a falling one when they leave."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from urllib.parse import quote

from tests.media.test_voicemail import python_phone
from tests.switch.test_calls import Customer
from voipdesk.media import audio, rules
from voipdesk.media.phone import Phone, PhoneCall, goertzel

TONES = (440.0, 1000.0, 1800.0)


def configure(customer: Customer, alias: str, **settings: object) -> None:
    customer.api(
        "PUT",
        f"/api/v1/telephony/{customer.group}/numbers/{quote(alias)}/configuration",
        json={"configuration": {"type": "conference", **settings}},
    )


def levels(frames: list[bytes]) -> dict[float, float]:
    """Mean Goertzel power of each test tone over the frames."""
    return {hz: sum(goertzel(f, hz) for f in frames) / max(len(frames), 1) for hz in TONES}


def member(hertz: float, pin: str | None, heard: list[bytes], send: bool = True):  # type: ignore[no-untyped-def]
    async def script(call: PhoneCall) -> None:
        await call.send_silence(0.5)
        if pin is not None:
            await call.press(pin + "#")
        await call.send_silence(3.5)  # the welcome, and the others joining
        call.rtp.on_frame = heard.append
        await call.send_audio(audio.tone(hertz, 5.0) if send else audio.silence(5.0))
        call.rtp.on_frame = None

    return script


def test_three_callers_each_hear_the_other_two_not_themselves(client, platform, switch, sip_folder):
    customer = Customer(
        client, platform, switch, sip_folder, [("sip-entreprise", 2)] * 3, aliases=1
    )
    alias = customer.aliases[0]
    configure(customer, alias, pin="4821")
    heard: list[list[bytes]] = [[], [], []]

    async def everyone() -> list:  # type: ignore[type-arg]
        calls = [
            python_phone(switch, customer, i).call(
                alias, member(TONES[i], "4821", heard[i]), timeout=40
            )
            for i in range(3)
        ]
        return await asyncio.gather(*calls)

    results = asyncio.run(everyone())
    assert [r.code for r in results] == [200, 200, 200], [r.reason for r in results]
    for index, frames in enumerate(heard):
        middle = frames[75:200]  # 1.5 s to 4 s of the 5 s when all three send
        power = levels(middle)
        own = power[TONES[index]]
        others = [power[hz] for hz in TONES if hz != TONES[index]]
        assert min(others) > 1e10, (index, power)
        assert own < min(others) / 100, (index, power)  # 20 dB under: window leakage only


def test_wrong_pin_is_refused_and_a_muted_caller_is_not_heard(client, platform, media):
    no_switch = SimpleNamespace(port=0, settings=platform.settings)
    customer = Customer(client, platform, no_switch, None, [("sip-entreprise", 2)], aliases=1)
    alias = customer.aliases[0]
    configure(customer, alias, pin="4821", muted_on_entry=True)
    target = "conference-" + alias.lstrip("+")
    heard: list[list[bytes]] = [[], []]

    async def wrong(call: PhoneCall) -> None:
        for _attempt in range(3):
            await call.send_silence(0.5)
            await call.press("1111#")
            await call.send_silence(2.5)

    async def both() -> list:  # type: ignore[type-arg]
        phones = [Phone(("127.0.0.1", media.port), "media", f"caller{i}", None) for i in range(2)]
        return await asyncio.gather(
            *(phones[i].call(target, member(TONES[i], "4821", heard[i])) for i in range(2))
        )

    refused = asyncio.run(
        Phone(("127.0.0.1", media.port), "media", "wrong", None).call(
            target, wrong, wait_bye=True, timeout=40
        )
    )
    assert refused.code == 200 and refused.hung_up_by == "server"
    results = asyncio.run(both())
    assert [r.code for r in results] == [200, 200]
    # Both joined muted: neither hears the other's tone.
    for index, frames in enumerate(heard):
        other = TONES[1 - index]
        assert frames and levels(frames[75:200])[other] < 1e8, (index, levels(frames[75:200]))


def cue_sequence(frames: list[bytes]) -> list[float]:
    """The cue tones heard, in order: each run of frames where one cue frequency dominates."""
    hertz = (*rules.JOIN_CUE_HZ,)
    runs: list[float] = []
    current: float | None = None
    quiet = 0  # frames since the last cue frame: a run ends after 10 (200 ms)
    for frame in frames:
        power = {hz: goertzel(frame, hz) for hz in hertz}
        loudest = max(power, key=lambda hz: power[hz])
        others = [power[hz] for hz in hertz if hz != loudest]
        if power[loudest] > 1e9 and power[loudest] > 100 * max(others):
            if loudest != current:
                runs.append(loudest)
            current, quiet = loudest, 0
        else:
            quiet += 1
            if quiet >= 10:
                current = None
    return runs


def test_the_others_hear_a_cue_when_someone_joins_and_when_they_leave(client, platform, media):
    no_switch = SimpleNamespace(port=0, settings=platform.settings)
    customer = Customer(client, platform, no_switch, None, [("sip-entreprise", 2)], aliases=1)
    alias = customer.aliases[0]
    configure(customer, alias)
    target = "conference-" + alias.lstrip("+")
    heard: list[bytes] = []
    newcomer_heard: list[bytes] = []

    async def first(call: PhoneCall) -> None:
        await call.send_silence(2.8)  # its own welcome (spoken, so not counted)
        call.rtp.on_frame = heard.append
        await call.send_silence(6.2)

    async def newcomer(call: PhoneCall) -> None:
        await call.send_silence(3.0)  # its own welcome
        call.rtp.on_frame = newcomer_heard.append
        await call.send_silence(1.5)  # a while in the room, then it hangs up

    async def both() -> list:  # type: ignore[type-arg]
        phones = [Phone(("127.0.0.1", media.port), "media", f"caller{i}", None) for i in range(2)]

        async def later():  # type: ignore[no-untyped-def]
            await asyncio.sleep(3.0)  # the first caller is in the room by then
            return await phones[1].call(target, newcomer)

        return await asyncio.gather(phones[0].call(target, first), later())

    results = asyncio.run(both())
    assert [r.code for r in results] == [200, 200]
    rising, falling = list(rules.JOIN_CUE_HZ), list(rules.LEAVE_CUE_HZ)
    assert cue_sequence(heard) == rising + falling, cue_sequence(heard)  # came in, then left
    assert cue_sequence(newcomer_heard) == []  # nobody joined or left after it
