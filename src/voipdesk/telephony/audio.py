"""Audio conversion with sox (Debian packages `sox` and `libsox-fmt-mp3`): a greeting uploaded as
WAV or MP3 becomes the telephony format (WAV, 8 kHz, mono, 16-bit PCM) the media service plays."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from voipdesk.telephony import rules


class AudioError(Exception):
    """The file could not be read as audio (or sox is missing)."""


def _sox() -> str:
    found = shutil.which("sox")
    if found is None:
        raise AudioError("sox is not installed (apt-get install sox libsox-fmt-mp3)")
    return found


def to_telephony_wav(data: bytes, kind: str) -> tuple[bytes, float]:
    """The converted WAV and its duration in seconds."""
    with tempfile.TemporaryDirectory(prefix="voipdesk-audio-") as folder:
        source = Path(folder) / f"in.{kind}"
        target = Path(folder) / "out.wav"
        source.write_bytes(data)
        command = [
            _sox(),
            "-V1",
            "-t",
            kind,
            str(source),
            "-r",
            str(rules.TELEPHONY_RATE),
            "-c",
            str(rules.TELEPHONY_CHANNELS),
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(target),
        ]
        done = subprocess.run(command, capture_output=True, timeout=60, check=False)
        if done.returncode != 0 or not target.exists():
            raise AudioError(done.stderr.decode(errors="replace")[:200])
        converted = target.read_bytes()
    return converted, wav_duration(converted)


def wav_duration(data: bytes) -> float:
    """Seconds of a PCM WAV (from its header)."""
    import io
    import wave

    try:
        with wave.open(io.BytesIO(data)) as reader:
            return reader.getnframes() / float(reader.getframerate() or 1)
    except (wave.Error, EOFError) as error:
        raise AudioError(str(error)) from error
