"""RTP (RFC 3550) for one call: G.711 audio both ways, RFC 4733 key events in, and the call's
recorder. Sending is paced by the server's 20 ms clock (`Ticker`), which also mixes the
conference rooms, so every call's frames leave in step."""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from voipdesk.media import audio, rules

log = logging.getLogger("voipdesk.media")

HEADER = struct.Struct("!BBHII")
JITTER_FRAMES = 6  # frames kept per conference member before the oldest is dropped


@dataclass
class Recorder:
    """The caller's audio placed by RTP timestamp (a late or reordered packet lands where it
    belongs, a lost one leaves silence), from the first packet after `start`."""

    max_seconds: float = rules.MESSAGE_MAX_SECONDS
    base: int | None = None
    pcm: bytearray = field(default_factory=bytearray)
    silent_frames: int = 0
    heard_voice: bool = False

    def add(self, timestamp: int, pcm: bytes) -> None:
        if self.base is None:
            self.base = timestamp
        offset = (timestamp - self.base) & 0xFFFFFFFF
        if offset > 0x7FFFFFFF:
            return  # older than the first packet kept
        position = offset * 2
        if position + len(pcm) > self.max_seconds * rules.SAMPLE_RATE * 2:
            return
        if position > len(self.pcm):
            self.pcm.extend(bytes(position - len(self.pcm)))
        self.pcm[position : position + len(pcm)] = pcm
        if rules.is_silence(audio.rms(pcm)):
            self.silent_frames += 1
        else:
            self.silent_frames = 0
            self.heard_voice = True

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (rules.SAMPLE_RATE * 2)

    @property
    def silent_seconds(self) -> float:
        return self.silent_frames * rules.FRAME_MS / 1000


class RtpStream(asyncio.DatagramProtocol):
    def __init__(self, codec: int, event_type: int | None, remote: tuple[str, int]) -> None:
        self.codec = codec
        self.event_type = event_type
        self.remote = remote
        self.transport: asyncio.DatagramTransport | None = None
        self.ssrc = random.getrandbits(32)
        self.sequence = random.getrandbits(16)
        self.timestamp = random.getrandbits(32)
        self.marker = True
        self.on_key: Callable[[str], None] | None = None
        self.recorder: Recorder | None = None
        self.on_audio: Callable[[bytes], None] | None = None  # a conference member's inbound
        self._event_timestamp: int | None = None
        self.received = 0

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        first, second, _sequence, timestamp, _ssrc = HEADER.unpack_from(data)
        start = 12 + 4 * (first & 0x0F)
        if first & 0x10 and len(data) >= start + 4:  # header extension
            start += 4 + 4 * struct.unpack_from("!H", data, start + 2)[0]
        end = len(data) - (data[-1] if first & 0x20 else 0)
        payload = data[start:end]
        kind = second & 0x7F
        self.received += 1
        if kind == self.event_type and len(payload) >= 4:
            # One key press is one event timestamp, however many packets (and end repeats).
            if timestamp != self._event_timestamp:
                self._event_timestamp = timestamp
                key = rules.dtmf_key(payload[0])
                if key is not None and self.on_key is not None:
                    self.on_key(key)
            return
        if kind != self.codec or not payload:
            return
        pcm = audio.decode(self.codec, payload)
        if self.recorder is not None:
            self.recorder.add(timestamp, pcm)
        if self.on_audio is not None:
            self.on_audio(pcm)

    def send(self, pcm: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        header = HEADER.pack(
            0x80,
            (0x80 if self.marker else 0) | self.codec,
            self.sequence,
            self.timestamp,
            self.ssrc,
        )
        self.marker = False
        self.transport.sendto(header + audio.encode(self.codec, pcm), self.remote)
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + rules.FRAME_SAMPLES) & 0xFFFFFFFF

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Player:
    """Frames queued to be played to one call; `done` when the last one left (or stopped)."""

    def __init__(self, pcm: bytes) -> None:
        self.frames = deque(audio.frames(pcm))
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def next(self) -> bytes | None:
        if self.frames:
            return self.frames.popleft()
        if not self.done.done():
            self.done.set_result(None)
        return None

    def stop(self) -> None:
        self.frames.clear()
        if not self.done.done():
            self.done.set_result(None)


class Inbound:
    """A conference member's received frames, a few kept to even out the jitter."""

    def __init__(self) -> None:
        self.frames: deque[bytes] = deque(maxlen=JITTER_FRAMES)
        self.primed = False

    def put(self, pcm: bytes) -> None:
        for frame in audio.frames(pcm):
            self.frames.append(frame)

    def take(self) -> bytes | None:
        if not self.primed:
            if len(self.frames) < 2:
                return None
            self.primed = True
        if not self.frames:
            self.primed = False
            return None
        return self.frames.popleft()
