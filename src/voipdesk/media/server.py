"""The media service's SIP user agent (UDP, asyncio): it answers the calls the switch hands it,
after the target's settings are loaded, runs the target's application (voicemail, 123,
conference) on the call and hangs up. One 20 ms clock paces every call's audio and mixes the
conference rooms.

Interface with the switch (any media server in its place must do the same): the request URI's
user names the target, "<kind>-<E.164 digits>"; unknown targets get 404, unreadable data 503,
both before answering; the caller is the P-Asserted-Identity (or From) user, hidden when the
INVITE says "Privacy: id"; media is G.711 (PCMA, PCMU) with RFC 4733 key events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from voipdesk.media import audio, errors, rules, sip
from voipdesk.media.rtp import Inbound, Player, Recorder, RtpStream

log = logging.getLogger("voipdesk.media")

T1 = 0.5  # RFC 3261 timer T1 (s)
T2 = 4.0


class CallEnded(Exception):
    """The caller hung up (or the call was cancelled)."""


class Application(Protocol):
    async def run(self, call: Call) -> None: ...


# Prepares the target's application before the call is answered (blocking work runs in a
# thread): raises errors.MediaRefusal to refuse the call.
Prepare = Callable[[rules.Target, "str | None"], Awaitable[Application]]


@dataclass
class Call:
    server: MediaServer
    invite: sip.Message
    source: tuple[str, int]
    target: rules.Target
    caller: str | None
    local_tag: str = field(default_factory=sip.new_tag)
    rtp: RtpStream | None = None
    answer: rules.Answer | None = None
    final: sip.Message | None = None  # the INVITE's final answer (resent on retransmissions)
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    player: Player | None = None
    cue: Player | None = None  # a room's join or leave cue, heard over the mix
    room: Room | None = None
    muted: bool = False
    inbound: Inbound | None = None
    mix: bytes | None = None
    local_cseq: int = field(default_factory=lambda: random.randint(1, 10000))
    started: float = field(default_factory=time.time)
    task: asyncio.Task[Any] | None = None
    pending_keys: deque[str] = field(default_factory=deque)
    key_arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def call_id(self) -> str:
        return self.invite.call_id

    # --- what the applications use ---
    def check(self) -> None:
        if self.ended.is_set():
            raise CallEnded()

    def pressed(self, key: str) -> None:
        self.pending_keys.append(key)
        self.key_arrived.set()

    async def _wait(self, *events: asyncio.Future[Any], timeout: float | None = None) -> None:
        ending = asyncio.ensure_future(self.ended.wait())
        try:
            await asyncio.wait([ending, *events], timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            ending.cancel()
            for event in events:
                event.cancel()

    async def play(self, pcm: bytes, *, interrupt: bool = False) -> str | None:
        """Plays `pcm`; with `interrupt`, a key pressed stops it and is returned (it stays
        pending for `key`)."""
        self.check()
        if interrupt and self.pending_keys:
            return self.pending_keys[0]
        player = Player(pcm)
        self.player = player
        self.key_arrived.clear()
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(asyncio.shield(player.done))]
        if interrupt:
            waits.append(asyncio.ensure_future(self.key_arrived.wait()))
        try:
            await self._wait(*waits)
        finally:
            player.stop()
            if self.player is player:
                self.player = None
        self.check()
        return self.pending_keys[0] if interrupt and self.pending_keys else None

    async def key(self, timeout: float) -> str | None:
        """The next key pressed within `timeout` seconds (None: none)."""
        self.check()
        if not self.pending_keys:
            self.key_arrived.clear()
            await self._wait(asyncio.ensure_future(self.key_arrived.wait()), timeout=timeout)
        self.check()
        return self.pending_keys.popleft() if self.pending_keys else None

    async def keys(self, maximum: int, timeout: float, end: str = "#") -> str:
        entered = ""
        while len(entered) < maximum:
            key = await self.key(timeout)
            if key is None or key == end:
                break
            entered += key
        return entered

    def flush_keys(self) -> None:
        self.pending_keys.clear()

    async def record(self) -> tuple[bytes, str]:
        """Records the caller until hang-up, silence or the maximum length: (audio, why)."""
        assert self.rtp is not None
        recorder = Recorder()
        self.rtp.recorder = recorder
        why = "hung up"
        try:
            while not self.ended.is_set():
                over = rules.recording_over(recorder.seconds, recorder.silent_seconds)
                if over is not None:
                    why = over
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.ended.wait(), 0.1)
        finally:
            self.rtp.recorder = None
        return bytes(recorder.pcm), why

    async def until_hangup(self) -> None:
        await self.ended.wait()

    def frame(self) -> bytes:
        """The next 20 ms to send: a prompt, else the room's mix, else silence; a cue over it."""
        frame = self.player.next() if self.player is not None else None
        if frame is None:
            frame = self.mix if self.mix is not None else audio.SILENT_FRAME
        if self.cue is not None:
            tone = self.cue.next()
            if tone is None:
                self.cue = None
            else:
                frame = audio.add(frame, tone)
        return frame


class Room:
    """A conference room: each member hears the sum of the others (mix-minus)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.members: list[Call] = []

    def join(self, call: Call) -> None:
        call.inbound = Inbound()
        assert call.rtp is not None
        call.rtp.on_audio = call.inbound.put
        call.room = self
        self._cue(rules.JOIN_CUE_HZ)  # the others hear someone come in
        self.members.append(call)

    def leave(self, call: Call) -> None:
        if call not in self.members:
            return
        self.members.remove(call)
        call.room = None
        call.mix = None
        if call.rtp is not None:
            call.rtp.on_audio = None
        self._cue(rules.LEAVE_CUE_HZ)

    def _cue(self, frequencies: tuple[float, ...]) -> None:
        pcm = audio.cue(frequencies, rules.CUE_TONE_SECONDS)
        for member in self.members:
            member.cue = Player(pcm)

    def tick(self) -> None:
        heard: list[tuple[Call, bytes | None]] = []
        total = audio.SILENT_FRAME
        for member in self.members:
            assert member.inbound is not None
            frame = member.inbound.take()
            if frame is not None and not member.muted:
                total = audio.add(total, frame)
                heard.append((member, frame))
            else:
                heard.append((member, None))
        for member, own in heard:
            member.mix = audio.subtract(total, own) if own is not None else total


class MediaServer(asyncio.DatagramProtocol):
    def __init__(
        self,
        prepare: Prepare,
        host: str = "127.0.0.1",
        port: int = 5080,
        rtp_ports: tuple[int, int] = (20000, 29999),
        advertised: str | None = None,
    ) -> None:
        self.prepare = prepare
        self.host = host
        self.port = port
        self.rtp_ports = rtp_ports
        self.advertised = advertised or host
        self.transport: asyncio.DatagramTransport | None = None
        self.calls: dict[str, Call] = {}
        self.rooms: dict[str, Room] = {}
        self.pending: dict[tuple[str, int], asyncio.Future[sip.Message]] = {}
        self._next_rtp = rtp_ports[0]
        self._ticker: asyncio.Task[None] | None = None
        self.late_ticks = 0

    # --- life ---
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.host, self.port)
        )
        self.port = int(self.transport.get_extra_info("sockname")[1])
        self._ticker = asyncio.create_task(self.tick_forever())
        log.info("media service on udp %s:%s", self.host, self.port)

    async def stop(self) -> None:
        # Every call in progress is hung up at once (each BYE waits for its answer).
        await asyncio.gather(
            *(
                self.hang_up(call)
                for call in list(self.calls.values())
                if call.acked.is_set() and not call.ended.is_set()
            ),
            return_exceptions=True,
        )
        tasks = [call.task for call in self.calls.values() if call.task is not None]
        if self._ticker is not None:
            tasks.append(self._ticker)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.transport is not None:
            self.transport.close()

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room(name)
        return self.rooms[name]

    async def tick_forever(self) -> None:
        """Every 20 ms on an absolute schedule (no drift): mix the rooms, send a frame per call."""
        loop = asyncio.get_running_loop()
        step = rules.FRAME_MS / 1000
        due = loop.time()
        while True:
            due += step
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.2:  # far behind (a stalled machine): start the schedule again
                self.late_ticks += 1
                due = loop.time()
            try:
                for room in list(self.rooms.values()):
                    room.tick()
                for call in list(self.calls.values()):
                    if call.acked.is_set() and not call.ended.is_set() and call.rtp is not None:
                        call.rtp.send(call.frame())
            except Exception:  # pragma: no cover - one bad call must not stop every call's audio
                log.exception("media clock")

    # --- SIP ---
    def send(self, message: sip.Message, address: tuple[str, int]) -> None:
        if self.transport is not None:
            self.transport.sendto(message.to_bytes(), address)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data.strip() == b"":
            return  # keep-alive
        try:
            message = sip.parse(data)
        except (sip.SipParseError, ValueError, IndexError):
            return
        try:
            if message.is_request:
                self.on_request(message, addr)
            else:
                self.on_response(message)
        except (sip.SipParseError, ValueError, IndexError) as error:
            log.warning("bad SIP message from %s: %s", addr, error)

    def contact(self, user: str) -> str:
        return f"<sip:{user}@{self.advertised}:{self.port}>"

    def on_request(self, message: sip.Message, addr: tuple[str, int]) -> None:
        method = message.method
        call = self.calls.get(message.call_id)
        if method == "INVITE":
            if call is None:
                self.new_call(message, addr)
            elif sip.tag(message["To"]) is None:  # a retransmission
                self.send(call.final or sip.response(message, 100, "Trying"), addr)
            else:
                self.reinvite(call, message, addr)
        elif method == "ACK":
            if call is not None and call.final is not None and call.final.status == 200:
                call.acked.set()
        elif method == "CANCEL":
            self.send(sip.response(message, 200, "OK"), addr)
            if call is not None and call.final is None:
                call.final = sip.response(
                    call.invite, 487, "Request Terminated", to_tag=call.local_tag
                )
                self.send(call.final, call.source)
                self.end(call)
        elif method == "BYE":
            if call is None:
                self.send(sip.response(message, 481, "Call Does Not Exist"), addr)
                return
            self.send(sip.response(message, 200, "OK"), addr)
            self.end(call)
        elif method == "OPTIONS" or (method == "INFO" and call is not None):
            self.send(sip.response(message, 200, "OK"), addr)
        else:
            self.send(sip.response(message, 405, "Method Not Allowed"), addr)

    def on_response(self, message: sip.Message) -> None:
        waiting = self.pending.get((message.call_id, message.cseq[0]))
        if waiting is not None and not waiting.done() and message.status >= 200:
            waiting.set_result(message)

    def new_call(self, invite: sip.Message, addr: tuple[str, int]) -> None:
        user = sip.uri_user(invite.uri)
        target = rules.parse_target(user)
        caller = caller_of(invite)
        call = Call(self, invite, addr, target or rules.Target("", ""), caller)
        self.calls[invite.call_id] = call
        self.send(sip.response(invite, 100, "Trying"), addr)
        call.task = asyncio.create_task(self.run_call(call, target))

    def refuse(self, call: Call, code: int, phrase: str, text: str) -> None:
        reason = ("Reason", f'SIP;cause={code};text="{text[:150]}"')
        call.final = sip.response(call.invite, code, phrase, to_tag=call.local_tag, extra=[reason])
        self.send(call.final, call.source)
        log.info("refused %s (%s): %s %s", call.invite.uri, call.call_id, code, text)

    async def run_call(self, call: Call, target: rules.Target | None) -> None:
        try:
            if target is None:
                self.refuse(call, 404, "Not Found", "no such media target")
                return
            offer = rules.parse_sdp(call.invite.body)
            answer = rules.choose(offer) if offer is not None else None
            if offer is None or answer is None:
                self.refuse(call, 488, "Not Acceptable Here", "G.711 (PCMA or PCMU) only")
                return
            try:
                application = await asyncio.wait_for(
                    self.prepare(target, call.caller), rules.SETUP_TIMEOUT_SECONDS
                )
            except errors.MediaRefusal as refusal:
                self.refuse(call, refusal.code, refusal.phrase, refusal.text)
                return
            except TimeoutError:
                self.refuse(call, 503, "Service Unavailable", "voipdesk data not readable in time")
                return
            if call.ended.is_set():  # cancelled meanwhile
                return
            await self.open_media(call, offer, answer)
            await self.answer_call(call)
            if not call.acked.is_set():
                return
            try:
                await application.run(call)
            except CallEnded:
                pass
            except Exception:
                log.exception("application of %s failed", target.name)
            if not call.ended.is_set():
                await self.hang_up(call)
        finally:
            await self.forget_later(call)

    async def open_media(self, call: Call, offer: rules.Offer, answer: rules.Answer) -> None:
        loop = asyncio.get_running_loop()
        low, high = self.rtp_ports
        for _attempt in range((high - low) // 2 + 1):
            port = self._next_rtp
            self._next_rtp = port + 2 if port + 2 <= high else low
            try:
                _transport, stream = await loop.create_datagram_endpoint(
                    lambda: RtpStream(answer.codec, answer.event_type, (offer.address, offer.port)),
                    local_addr=(self.host, port),
                )
            except OSError:
                continue
            stream.on_key = call.pressed
            call.rtp, call.answer = stream, answer
            return
        raise errors.DataUnavailable("no RTP port free")

    def sdp(self, call: Call) -> str:
        assert call.rtp is not None and call.answer is not None
        return rules.sdp_answer(self.advertised, call.rtp.port, call.answer, int(call.started))

    async def answer_call(self, call: Call) -> None:
        call.final = sip.response(
            call.invite,
            200,
            "OK",
            to_tag=call.local_tag,
            contact=self.contact(call.target.name),
            body=self.sdp(call),
        )
        interval = T1
        deadline = time.monotonic() + 64 * T1
        while not call.acked.is_set() and not call.ended.is_set():
            self.send(call.final, call.source)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(call.acked.wait(), interval)
            interval = min(interval * 2, T2)
            if time.monotonic() > deadline and not call.acked.is_set():
                log.warning("no ACK for %s: hanging up", call.call_id)
                await self.hang_up(call)
                return

    def reinvite(self, call: Call, message: sip.Message, addr: tuple[str, int]) -> None:
        """A re-INVITE (hold, session refresh): same media, new remote address if any."""
        offer = rules.parse_sdp(message.body)
        if offer is not None and call.rtp is not None and offer.address != "0.0.0.0":
            call.rtp.remote = (offer.address, offer.port)
        body = self.sdp(call) if call.rtp is not None else ""
        self.send(
            sip.response(message, 200, "OK", contact=self.contact(call.target.name), body=body),
            addr,
        )

    async def in_dialog(
        self, call: Call, method: str, extra: list[tuple[str, str]] | None = None
    ) -> sip.Message | None:
        """A request of ours inside the call, through the route the INVITE recorded (the
        switch), retransmitted until answered: its final response (None: no answer)."""
        invite = call.invite
        routes = invite.get_all("Record-Route")
        remote = sip.uri_of(invite.get("Contact") or invite["From"])
        next_hop = sip.uri_host_port(sip.uri_of(routes[0]) if routes else remote)
        call.local_cseq += 1
        to_header = invite["To"]
        if sip.tag(to_header) is None:
            to_header = f"{to_header};tag={call.local_tag}"
        request = sip.request(
            method,
            remote,
            via=f"SIP/2.0/UDP {self.advertised}:{self.port};branch={sip.new_branch()};rport",
            from_=to_header,
            to=invite["From"],
            call_id=invite.call_id,
            cseq=call.local_cseq,
            routes=routes,
            contact=self.contact(call.target.name),
            extra=extra,
        )
        key = (invite.call_id, call.local_cseq)
        waiting: asyncio.Future[sip.Message] = asyncio.get_running_loop().create_future()
        self.pending[key] = waiting
        interval = T1
        try:
            for _attempt in range(7):
                self.send(request, next_hop)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiting), interval)
                if waiting.done():
                    return waiting.result()
                interval = min(interval * 2, T2)
        finally:
            self.pending.pop(key, None)
        return None

    async def hang_up(self, call: Call) -> None:
        self.end(call)
        await self.in_dialog(call, "BYE")

    async def transfer(self, call: Call, uri: str) -> bool:
        """Asks the caller's phone to call `uri` instead (REFER, RFC 3515); True when it took
        it (2xx), then this call is hung up."""
        call.check()
        answer = await self.in_dialog(
            call,
            "REFER",
            [("Refer-To", f"<{uri}>"), ("Referred-By", self.contact(call.target.name))],
        )
        return answer is not None and 200 <= answer.status < 300

    def end(self, call: Call) -> None:
        if call.ended.is_set():
            return
        call.ended.set()
        if call.room is not None:
            room = call.room
            room.leave(call)
            if not room.members:
                self.rooms.pop(room.name, None)
        if call.player is not None:
            call.player.stop()

    async def forget_later(self, call: Call) -> None:
        # Kept a while after the end so that retransmitted requests still find the call.
        self.end(call)
        if call.rtp is not None:
            call.rtp.close()
        await asyncio.sleep(2 * T2)
        self.calls.pop(call.call_id, None)


def caller_of(invite: sip.Message) -> str | None:
    """The caller's number as the switch presented it: None when hidden or not a number."""
    if (invite.get("Privacy") or "").strip().lower() == "id":
        return None
    for header in ("P-Asserted-Identity", "From"):
        value = invite.get(header)
        if value:
            user = sip.uri_user(sip.uri_of(value))
            digits = user.lstrip("+")
            if digits.isdigit() and len(digits) >= 3:
                return "+" + digits if len(digits) >= 8 else digits
    return None
