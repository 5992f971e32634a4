"""Audio helpers: G.711 (A-law and µ-law) to and from 16-bit linear PCM, WAV files, tones,
levels and mixing. The C code of `audioop` does the sample work (the standard library's up to
Python 3.12, the `audioop-lts` package from 3.13)."""

from __future__ import annotations

import io
import math
import struct
import sys
import warnings
import wave

with warnings.catch_warnings():
    # Deprecated in 3.11-3.12 only because it leaves the standard library (audioop-lts then).
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

from voipdesk.media import rules

SILENT_FRAME = bytes(rules.FRAME_BYTES)


def decode(codec: int, payload: bytes) -> bytes:
    # The second argument is the width of the *output* samples: 2 bytes.
    if codec == rules.PCMA:
        return audioop.alaw2lin(payload, 2)
    return audioop.ulaw2lin(payload, 2)


def encode(codec: int, pcm: bytes) -> bytes:
    if codec == rules.PCMA:
        return audioop.lin2alaw(pcm, 2)
    return audioop.lin2ulaw(pcm, 2)


def round_trip(codec: int, pcm: bytes) -> bytes:
    """What a recording of this audio sent in this codec holds, sample for sample."""
    return decode(codec, encode(codec, pcm))


def rms(pcm: bytes) -> int:
    return int(audioop.rms(pcm, 2)) if pcm else 0


def add(first: bytes, second: bytes) -> bytes:
    """The sum of two frames of equal length, saturated."""
    return audioop.add(first, second, 2)


def subtract(total: bytes, part: bytes) -> bytes:
    return audioop.add(total, audioop.mul(part, 2, -1), 2)


def tone(hertz: float, seconds: float, level: float = 0.3) -> bytes:
    samples = int(rules.SAMPLE_RATE * seconds)
    amplitude = level * 32767
    return struct.pack(
        f"<{samples}h",
        *(
            int(amplitude * math.sin(2 * math.pi * hertz * n / rules.SAMPLE_RATE))
            for n in range(samples)
        ),
    )


BEEP = tone(1000, 0.3)


def silence(seconds: float) -> bytes:
    return bytes(int(rules.SAMPLE_RATE * seconds) * 2)


def wav_bytes(pcm: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rules.SAMPLE_RATE)
        writer.writeframes(pcm)
    return buffer.getvalue()


class NotTelephonyAudio(ValueError):
    pass


def wav_pcm(data: bytes) -> bytes:
    """The samples of a telephony WAV (8 kHz, mono, 16-bit)."""
    try:
        with wave.open(io.BytesIO(data)) as reader:
            shape = (reader.getframerate(), reader.getnchannels(), reader.getsampwidth())
            if shape != (rules.SAMPLE_RATE, 1, 2):
                raise NotTelephonyAudio(f"not 8 kHz mono 16-bit: {shape}")
            pcm = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as error:
        raise NotTelephonyAudio(str(error)) from None
    if sys.byteorder == "big":  # pragma: no cover - WAV is little-endian, as the codecs here
        pcm = audioop.byteswap(pcm, 2)
    return pcm


def frames(pcm: bytes) -> list[bytes]:
    """20 ms frames, the last padded with silence."""
    size = rules.FRAME_BYTES
    out = [pcm[i : i + size] for i in range(0, len(pcm), size)]
    if out and len(out[-1]) < size:
        out[-1] = out[-1] + bytes(size - len(out[-1]))
    return out


def cue(frequencies: tuple[float, ...], seconds_each: float) -> bytes:
    """Tones one after the other, quieter than speech (a room's join or leave cue)."""
    return b"".join(tone(hertz, seconds_each, level=0.15) for hertz in frequencies)
