"""A phone in Python for trying the media service through the switch (the tests and the
benchmark use it): it calls with digest authentication, sends audio and RFC 4733 keys at the
20 ms pace, keeps what it hears (placed by RTP timestamp) and hangs up or answers the BYE.

What the phone does during the call is a script: a coroutine given the `PhoneCall`."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import random
import struct
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from voipdesk.media import audio, rules, sip

EVENT_TYPE = 101


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest(
    challenge: str, method: str, uri: str, user: str, password: str, header_name: str
) -> tuple[str, str]:
    """The (Proxy-)Authorization header answering a Digest challenge (RFC 2617, qop=auth)."""
    values = dict(
        (k.strip(), v.strip().strip('"'))
        for k, _, v in (part.partition("=") for part in sip.split_list(challenge[7:]))
    )
    realm, nonce = values.get("realm", ""), values.get("nonce", "")
    ha1 = _md5(f"{user}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    fields = f'username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}"'
    if "auth" in values.get("qop", "").split(","):
        cnonce, count = uuid.uuid4().hex[:16], "00000001"
        answer = _md5(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")
        fields += f', qop=auth, nc={count}, cnonce="{cnonce}"'
    else:
        answer = _md5(f"{ha1}:{nonce}:{ha2}")
    fields += f', response="{answer}", algorithm=MD5'
    if values.get("opaque"):
        fields += f', opaque="{values["opaque"]}"'
    return header_name, f"Digest {fields}"


class _Sip(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.inbox: asyncio.Queue[tuple[sip.Message, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        with contextlib.suppress(sip.SipParseError, ValueError):
            self.inbox.put_nowait((sip.parse(data), addr))


class _Rtp(asyncio.DatagramProtocol):
    def __init__(self, codec: int) -> None:
        self.codec = codec
        self.transport: asyncio.DatagramTransport | None = None
        self.base: int | None = None
        self.heard = bytearray()
        self.packets = 0
        self.on_frame: Callable[[bytes], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 12 or (data[1] & 0x7F) != self.codec:
            return
        timestamp = struct.unpack_from("!I", data, 4)[0]
        pcm = audio.decode(self.codec, data[12:])
        if self.base is None:
            self.base = timestamp
        position = ((timestamp - self.base) & 0xFFFFFFFF) * 2
        if position > 600 * rules.SAMPLE_RATE * 2:
            return
        if position > len(self.heard):
            self.heard.extend(bytes(position - len(self.heard)))
        self.heard[position : position + len(pcm)] = pcm
        self.packets += 1
        if self.on_frame is not None:
            self.on_frame(pcm)


@dataclass
class Result:
    code: int
    reason: str = ""
    heard: bytes = b""
    hung_up_by: str = ""  # "phone" | "server"
    referred_to: str | None = None  # the Refer-To URI of a transfer the server asked for
    answered_after: float = 0.0


@dataclass
class PhoneCall:
    """The answered call, as the script sees it."""

    rtp: _Rtp
    remote: tuple[str, int]
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    sequence: int = field(default_factory=lambda: random.getrandbits(16))
    timestamp: int = field(default_factory=lambda: random.getrandbits(32))
    _due: float = 0.0

    @property
    def heard(self) -> bytes:
        return bytes(self.rtp.heard)

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        if not self._due:
            self._due = loop.time()
        self._due += rules.FRAME_MS / 1000
        delay = self._due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    def _packet(self, kind: int, payload: bytes, marker: bool = False) -> None:
        assert self.rtp.transport is not None
        header = struct.pack(
            "!BBHII", 0x80, (0x80 if marker else 0) | kind, self.sequence, self.timestamp, self.ssrc
        )
        self.rtp.transport.sendto(header + payload, self.remote)
        self.sequence = (self.sequence + 1) & 0xFFFF

    async def send_audio(self, pcm: bytes) -> None:
        for frame in audio.frames(pcm):
            if self.ended.is_set():
                return
            await self._pace()
            self._packet(self.rtp.codec, audio.encode(self.rtp.codec, frame))
            self.timestamp = (self.timestamp + rules.FRAME_SAMPLES) & 0xFFFFFFFF

    async def send_silence(self, seconds: float) -> None:
        await self.send_audio(audio.silence(seconds))

    async def press(self, keys: str, frames: int = 5) -> None:
        """Each key as an RFC 4733 event of `frames` x 20 ms (one timestamp, 3 end packets),
        in place of the audio it covers, then 60 ms of silence."""
        for key in keys:
            event = rules.DTMF_KEYS.index(key)
            for n in range(1, frames + 1):
                await self._pace()
                payload = struct.pack("!BBH", event, 10, n * rules.FRAME_SAMPLES)
                self._packet(EVENT_TYPE, payload, marker=n == 1)
            for _repeat in range(3):
                payload = struct.pack("!BBH", event, 0x80 | 10, frames * rules.FRAME_SAMPLES)
                self._packet(EVENT_TYPE, payload)
            self.timestamp = (self.timestamp + frames * rules.FRAME_SAMPLES) & 0xFFFFFFFF
            await self.send_silence(0.06)

    async def silence_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Sends silence until `condition()` holds (True) or `timeout` seconds passed."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.ended.is_set() or time.monotonic() > deadline:
                return False
            await self.send_silence(0.02)
        return True


Script = Callable[[PhoneCall], Awaitable[None]]


@dataclass
class Phone:
    server: tuple[str, int]  # the switch
    domain: str
    user: str
    password: str | None
    codec: int = rules.PCMA
    host: str = "127.0.0.1"

    async def call(
        self, dialled: str, script: Script, *, wait_bye: bool = False, timeout: float = 60
    ) -> Result:
        """Calls `dialled@domain`; runs `script` once answered, then hangs up (or, with
        `wait_bye`, waits for the server's BYE)."""
        loop = asyncio.get_running_loop()
        signalling, proto = await loop.create_datagram_endpoint(_Sip, local_addr=(self.host, 0))
        rtp_transport, rtp = await loop.create_datagram_endpoint(
            lambda: _Rtp(self.codec), local_addr=(self.host, 0)
        )
        try:
            return await asyncio.wait_for(
                self._call(dialled, script, wait_bye, proto, rtp), timeout
            )
        finally:
            signalling.close()
            rtp_transport.close()

    async def _call(
        self, dialled: str, script: Script, wait_bye: bool, proto: _Sip, rtp: _Rtp
    ) -> Result:
        assert proto.transport is not None and rtp.transport is not None
        port = proto.transport.get_extra_info("sockname")[1]
        rtp_port = rtp.transport.get_extra_info("sockname")[1]
        uri = f"sip:{dialled}@{self.domain}"
        call_id = uuid.uuid4().hex
        from_ = f"<sip:{self.user}@{self.domain}>;tag={sip.new_tag()}"
        contact = f"<sip:{self.user}@{self.host}:{port}>"
        body = (
            f"v=0\r\no=phone 1 1 IN IP4 {self.host}\r\ns=-\r\nc=IN IP4 {self.host}\r\nt=0 0\r\n"
            f"m=audio {rtp_port} RTP/AVP {self.codec} {EVENT_TYPE}\r\n"
            f"a=rtpmap:{self.codec} {rules.CODEC_NAMES[self.codec]}/8000\r\n"
            f"a=rtpmap:{EVENT_TYPE} telephone-event/8000\r\na=fmtp:{EVENT_TYPE} 0-15\r\n"
        )
        started = time.monotonic()
        cseq = 1
        auth: list[tuple[str, str]] = []

        def via() -> str:
            return f"SIP/2.0/UDP {self.host}:{port};branch={sip.new_branch()};rport"

        def send(message: sip.Message, address: tuple[str, int] = self.server) -> None:
            assert proto.transport is not None
            proto.transport.sendto(message.to_bytes(), address)

        while True:
            invite = sip.request(
                "INVITE", uri, via=via(), from_=from_, to=f"<{uri}>", call_id=call_id,
                cseq=cseq, contact=contact, body=body, extra=auth,
            )  # fmt: skip
            send(invite)
            final = await self._final(proto, invite, send)
            if final.status in (401, 407) and not auth and self.password is not None:
                send(self._ack(invite, final, uri))
                header = "WWW-Authenticate" if final.status == 401 else "Proxy-Authenticate"
                answer = "Authorization" if final.status == 401 else "Proxy-Authorization"
                auth = [digest(final[header], "INVITE", uri, self.user, self.password, answer)]
                cseq += 1
                continue
            break
        reason = final.get("Reason") or ""
        if final.status != 200:
            send(self._ack(invite, final, uri))
            return Result(final.status, reason)
        routes = list(reversed(final.get_all("Record-Route")))
        target = sip.uri_of(final.get("Contact") or f"<{uri}>")
        hop = sip.uri_host_port(sip.uri_of(routes[0])) if routes else sip.uri_host_port(target)
        to = final["To"]

        def in_dialog(method: str, number: int) -> sip.Message:
            return sip.request(
                method, target, via=via(), from_=from_, to=to, call_id=call_id, cseq=number,
                routes=routes,
            )  # fmt: skip

        send(in_dialog("ACK", cseq), hop)
        offer = rules.parse_sdp(final.body)
        assert offer is not None
        call = PhoneCall(rtp, (offer.address, offer.port))
        result = Result(200, reason, answered_after=time.monotonic() - started)

        async def listen() -> None:
            while True:
                message, address = await proto.inbox.get()
                if message.is_request and message.method == "BYE":
                    send(sip.response(message, 200, "OK"), address)
                    result.hung_up_by = result.hung_up_by or "server"
                    call.ended.set()
                elif message.is_request and message.method == "REFER":
                    # Taken (202); the test places the new call itself, as a phone would.
                    send(sip.response(message, 202, "Accepted"), address)
                    result.referred_to = sip.uri_of(message.get("Refer-To") or "")
                elif message.is_request:
                    send(sip.response(message, 200, "OK"), address)
                elif (
                    not message.is_request and message.status == 200 and message.cseq[1] == "INVITE"
                ):
                    send(in_dialog("ACK", cseq), hop)  # our ACK was lost: the 200 came again
                elif not message.is_request and message.cseq[1] == "BYE":
                    call.ended.set()

        listening = asyncio.create_task(listen())
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await script(call)
            if wait_bye:
                while not call.ended.is_set():
                    await call.send_silence(0.02)
            if not call.ended.is_set():
                result.hung_up_by = "phone"
                bye = in_dialog("BYE", cseq + 1)
                for _attempt in range(6):
                    send(bye, hop)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(call.ended.wait()), 0.5)
                    if call.ended.is_set():
                        break
        finally:
            listening.cancel()
        result.heard = call.heard
        return result

    async def _final(
        self, proto: _Sip, invite: sip.Message, send: Callable[[sip.Message], None]
    ) -> sip.Message:
        interval, provisional = 0.5, False
        while True:
            try:
                message, _address = await asyncio.wait_for(proto.inbox.get(), interval)
            except TimeoutError:
                if not provisional:
                    send(invite)
                interval = min(interval * 2, 4.0)
                continue
            if message.is_request or message.cseq != invite.cseq:
                continue
            if message.status < 200:
                provisional = True
                continue
            return message

    def _ack(self, invite: sip.Message, final: sip.Message, uri: str) -> sip.Message:
        # The ACK of a refused INVITE: same branch (the same transaction), the answer's To.
        return sip.request(
            "ACK", uri, via=invite["Via"], from_=invite["From"], to=final["To"],
            call_id=invite.call_id, cseq=invite.cseq[0],
        )  # fmt: skip


def goertzel(pcm: bytes, hertz: float) -> float:
    """The power of one frequency in a frame (to hear a tone)."""
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    coefficient = 2 * math.cos(2 * math.pi * hertz / rules.SAMPLE_RATE)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    return previous * previous + before * before - coefficient * previous * before


class ToneWatch:
    """Watches the frames a phone hears for a tone (the voicemail's beep), then its end."""

    def __init__(self, hertz: float = 1000, threshold: float = 1e11, frames: int = 10) -> None:
        self.hertz = hertz
        self.threshold = threshold
        self.frames = frames  # this many frames in a row make the tone (speech has none)
        self.run = 0
        self.heard_tone = False
        self.after = 0  # frames since the tone ended

    def frame(self, pcm: bytes) -> None:
        if goertzel(pcm, self.hertz) > self.threshold and audio.rms(pcm) > 2000:
            self.run += 1
            self.after = 0
            if self.run >= self.frames:
                self.heard_tone = True
        else:
            self.run = 0
            if self.heard_tone:
                self.after += 1

    def tone_over(self) -> bool:
        return self.heard_tone and self.after >= 3
