"""Converting prompts to the telephony format with sox, and speaking text with espeak-ng.

Uploaded WAV or MP3 files and text-to-speech all end as WAV, 8 kHz, mono, 16-bit signed: what the
media service plays. The tools run as subprocesses on temporary files, with a time limit.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from voipdesk.telephony.aliases import errors, rules

TOOL_TIMEOUT = 60  # seconds


@dataclass(frozen=True)
class Converted:
    content: bytes
    duration_ms: int


@lru_cache(maxsize=1)
def sox_formats() -> frozenset[str]:
    """The file formats this machine's sox reads (MP3 needs Debian's libsox-fmt-mp3)."""
    sox = shutil.which("sox")
    if sox is None:
        return frozenset()
    output = subprocess.run(
        [sox, "-h"], capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
    ).stdout
    for line in output.splitlines():
        if line.startswith("AUDIO FILE FORMATS:"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def speech_available() -> bool:
    return shutil.which("espeak-ng") is not None and "wav" in sox_formats()


def _duration_ms(content: bytes) -> int:
    with wave.open(io.BytesIO(content)) as reader:
        return int(reader.getnframes() * 1000 / reader.getframerate())


def _to_telephony(source: Path, kind: str, folder: Path) -> Converted:
    target = folder / "out.wav"
    result = subprocess.run(
        [
            "sox",
            "-t",
            kind,
            str(source),
            "-t",
            "wav",
            "-r",
            str(rules.TELEPHONY_RATE),
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(target),
        ],
        capture_output=True,
        timeout=TOOL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0 or not target.exists():
        raise errors.UnsupportedAudio(reason="unreadable")
    content = target.read_bytes()
    duration = _duration_ms(content)
    if duration == 0:
        raise errors.UnsupportedAudio(reason="silent")
    if duration > rules.MAX_AUDIO_SECONDS * 1000:
        raise errors.AudioTooLong(seconds=duration // 1000, maximum=rules.MAX_AUDIO_SECONDS)
    return Converted(content, duration)


def convert_upload(data: bytes) -> Converted:
    """An uploaded WAV or MP3 file in the telephony format; refused when too large, not audio,
    or in a format this server cannot convert."""
    if len(data) > rules.MAX_AUDIO_BYTES:
        raise errors.AudioTooLarge(size=len(data), maximum=rules.MAX_AUDIO_BYTES)
    kind = rules.audio_format(data[:16])
    if kind is None:
        raise errors.UnsupportedAudio(reason="not-audio")
    if kind not in sox_formats():
        raise errors.UnsupportedAudio(reason=f"{kind}-unavailable")
    with tempfile.TemporaryDirectory(prefix="voipdesk-audio-") as name:
        folder = Path(name)
        source = folder / f"in.{kind}"
        source.write_bytes(data)
        return _to_telephony(source, kind, folder)


ESPEAK_VOICES = {"fr": "fr-fr", "en": "en-gb"}


def speak(text: str, language: str) -> Converted:
    """The text spoken by espeak-ng in that language, in the telephony format."""
    if not speech_available():
        raise errors.SpeechUnavailable()
    with tempfile.TemporaryDirectory(prefix="voipdesk-speech-") as name:
        folder = Path(name)
        spoken = folder / "speech.wav"
        result = subprocess.run(
            ["espeak-ng", "-v", ESPEAK_VOICES.get(language, "fr-fr"), "-w", str(spoken), "--stdin"],
            input=text[: rules.MAX_SPEECH_CHARACTERS].encode(),
            capture_output=True,
            timeout=TOOL_TIMEOUT,
            check=False,
        )
        if result.returncode != 0 or not spoken.exists():
            raise errors.SpeechUnavailable()
        return _to_telephony(spoken, "wav", folder)
