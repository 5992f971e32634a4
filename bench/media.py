"""Concurrent voicemail-style calls into the media service, measured on this machine.

    uv run python bench/media.py --levels 50,100,200,400

Each call: a Python phone (voipdesk.media.phone, in this process) calls a line's voicemail
target on the media service (its own process: `bench/media.py --serve`, whose CPU is read from
/proc), hears the spoken greeting and the tone, sends 16 s of speech (espeak-ng, PCMA) with the
RFC 4733 key 5 at 8 s, and hangs up; the media service records the caller from the tone on and
stores the message in the database (SQLite), as in production. N calls start at once, within
one second.

Reported per level: calls answered and messages stored, the media service's CPU (percent of one
core while the calls last, and per call), how long after the last hang-up the last message was
stored (and the CPU that took), keys detected by the media service, recorded frames that are
exactly a frame the phone sent (the A-law round trip) and frames missing, and the media clock's
late ticks. The phones go straight to the media service's SIP port (not through Kamailio: the
switch's own cost is in bench/switch.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TICKS = os.sysconf("SC_CLK_TCK")
KEY = "5"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def seed(database_url: str) -> str:
    """One delivered customer with a line (its voicemail takes every message)."""
    from tests.accounts.factories import make_account
    from tests.conftest import test_settings
    from tests.subscriptions.factories import deliver

    from voipdesk.core.db import make_engine
    from voipdesk.core.migrate import upgrade
    from voipdesk.core.platform import Platform

    settings = test_settings(database_url)
    platform = Platform(settings=settings, engine=make_engine(database_url))
    upgrade(platform.engine)
    account = make_account(platform)
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)])
    return result.sip_credentials[0].number_e164


def serve(database_url: str, port: int, stats: Path) -> None:
    """The media service for the bench; its counters are written to `stats` on SIGTERM."""
    from tests.conftest import test_settings

    from voipdesk.core.db import make_engine
    from voipdesk.core.platform import Platform
    from voipdesk.media.apps import Applications
    from voipdesk.media.backend import Backend
    from voipdesk.media.server import Call, MediaServer

    settings = test_settings(database_url)
    platform = Platform(settings=settings, engine=make_engine(database_url))
    keys = [0]
    pressed = Call.pressed

    def counting(self: Call, key: str) -> None:
        keys[0] += key == KEY
        pressed(self, key)

    Call.pressed = counting  # type: ignore[method-assign]
    server = MediaServer(Applications(Backend(platform)), port=port, rtp_ports=(30000, 39998))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await server.start()
        await stop.wait()
        stats.write_text(json.dumps({"keys": keys[0], "late_ticks": server.late_ticks}))
        await server.stop()

    asyncio.run(main())


async def one_call(port: int, number: str, speech: bytes, at: float) -> int:
    from voipdesk.media.phone import Phone, PhoneCall

    await asyncio.sleep(at)
    phone = Phone(("127.0.0.1", port), "media", "bench", None)

    async def script(call: PhoneCall) -> None:
        half = len(speech) // 2 - (len(speech) // 2) % 320
        await call.send_audio(speech[:half])
        await call.press(KEY)  # 5 event frames and 3 of silence, in place of that much speech
        await call.send_audio(speech[half + 8 * 320 :])

    result = await phone.call("voicemail-" + number.lstrip("+"), script, timeout=60)
    return result.code


def level(
    count: int, port: int, pid: int, number: str, speech: bytes, database_url: str
) -> dict[str, object]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM telephony_voicemail_message"))
    before = cpu_seconds(pid)
    started = time.monotonic()

    async def everyone() -> list[int]:
        return await asyncio.gather(
            *(one_call(port, number, speech, i / count) for i in range(count))
        )

    results = asyncio.run(everyone())
    seconds = time.monotonic() - started
    cpu = cpu_seconds(pid) - before
    # Messages are written after each hang-up, one transaction each (SQLite: one at a time).
    count_sql = text("SELECT count(*) FROM telephony_voicemail_message")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(count_sql).scalar_one() >= count:
                break
        time.sleep(0.2)
    stored_after = time.monotonic() - started - seconds
    cpu_storing = cpu_seconds(pid) - before - cpu
    from voipdesk.media import audio, rules

    expected = set(audio.frames(audio.round_trip(rules.PCMA, speech)))
    expected.add(audio.round_trip(rules.PCMA, audio.SILENT_FRAME))  # after the key
    with engine.connect() as connection:
        stored = [
            row[0]
            for row in connection.execute(text("SELECT audio FROM telephony_voicemail_message"))
        ]
    exact = missing = total = 0
    for wav in stored:
        frames = audio.frames(audio.wav_pcm(wav))[:-1]  # the last one may be cut
        for frame in frames:
            if frame == bytes(len(frame)):
                missing += 1  # a lost frame (or the key's, which replaced audio)
                continue
            total += 1
            exact += frame in expected
    engine.dispose()
    return {
        "calls": count,
        "answered": sum(1 for code in results if code == 200),
        "stored": len(stored),
        "cpu_percent": round(100 * cpu / seconds, 1),
        "cpu_ms_per_call": round(1000 * cpu / count, 1),
        "frames": total,
        "exact_percent": round(100 * exact / max(total, 1), 3),
        "zero_frames": missing,
        "seconds": round(seconds, 1),
        "all_stored_after_s": round(stored_after, 1),
        "cpu_s_storing_after": round(cpu_storing, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="50,100,200,400")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--stats", default="")
    args = parser.parse_args()
    if args.serve:
        serve(args.database_url, args.port, Path(args.stats))
        return
    from voipdesk.media import audio
    from voipdesk.switch.sipp import free_port
    from voipdesk.telephony.aliases import audio as speech_audio

    folder = Path(tempfile.mkdtemp(prefix="voipdesk-bench-media-"))
    database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    number = seed(database_url)
    words = (
        "This is the benchmark caller, speaking for ten seconds into the voicemail of the line, "
        "so that every frame of the recording can be compared with what was sent."
    )
    spoken = audio.wav_pcm(speech_audio.speak(words, "en").content)
    speech = (spoken * 3)[: 16 * 16000]  # 16 s: about 10 s recorded after the greeting
    print(f"caller speech: {len(speech) / 16000:.2f} s; database {database_url}")
    for count in [int(n) for n in args.levels.split(",")]:
        port = free_port()
        stats = folder / f"stats-{count}.json"
        process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                "--database-url",
                database_url,
                "--port",
                str(port),
                "--stats",
                str(stats),
            ]
        )
        time.sleep(2.0)
        try:
            # One call first: the greeting is spoken (and cached) before the level starts.
            asyncio.run(one_call(port, number, speech[: 3 * 16000], 0))
            row = level(count, port, process.pid, number, speech, database_url)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        counters = json.loads(stats.read_text())
        row["keys_detected"] = counters["keys"] - 1  # the warm-up call's key
        row["late_ticks"] = counters["late_ticks"]
        print(json.dumps(row))


if __name__ == "__main__":
    main()
