"""`voipdesk media run`: the media service in the foreground (the main command line adds it);
`start_in_background` runs it beside `voipdesk serve --demo`."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from pathlib import Path

import typer
from rich.console import Console

from voipdesk.core.migrate import upgrade
from voipdesk.core.platform import Platform
from voipdesk.core.settings import Settings, get_settings
from voipdesk.media.apps import Applications
from voipdesk.media.backend import Backend
from voipdesk.media.server import MediaServer

app = typer.Typer(help="The media service: voicemail, 123 and conference rooms (SIP and RTP).")
console = Console(soft_wrap=True)


def media_uri(settings: Settings) -> str:
    return f"{settings.media_address}:{settings.media_port}"


def make_server(platform: Platform) -> MediaServer:
    settings = platform.settings
    return MediaServer(
        Applications(Backend(platform)),
        host=settings.media_address,
        port=settings.media_port,
        rtp_ports=(settings.media_rtp_min, settings.media_rtp_max),
    )


async def _serve(server: MediaServer, stop: asyncio.Event) -> None:
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop()


class Background:
    """The media service in a thread of its own (its own event loop) of this process."""

    def __init__(self, platform: Platform) -> None:
        self.server = make_server(platform)
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.started = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="voipdesk-media", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.stop_event = asyncio.Event()
            try:
                await self.server.start()
            except OSError as error:
                self.error = error
                self.started.set()
                return
            self.started.set()
            try:
                await self.stop_event.wait()
            finally:
                await self.server.stop()

        self.loop.run_until_complete(main())

    def start(self, timeout: float = 5) -> Background:
        self.thread.start()
        self.started.wait(timeout)
        if self.error is not None:
            raise self.error
        return self

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self) -> None:
        if self.stop_event is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=15)


def start_in_background(platform: Platform) -> Background | None:
    """The media service beside `voipdesk serve --demo`; None (and why, printed) when it cannot
    listen."""
    try:
        running = Background(platform).start()
    except OSError as error:
        console.print(
            f"[red]Media service not started[/]: udp {media_uri(platform.settings)}: {error} "
            "(set VOIPDESK_MEDIA_PORT)."
        )
        return None
    where = media_uri(platform.settings)
    console.print(f"[bold green]Media service[/] (voicemail, 123, conference): udp {where}")
    return running


@app.command("run")
def run(
    database_url: str | None = typer.Option(None, "--database-url", help="SQLAlchemy URL."),
) -> None:
    """Runs the media service in the foreground (Ctrl-C stops it). The switch reaches it when
    VOIPDESK_SWITCH_MEDIA_URI is its address and port."""
    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    platform = Platform.from_settings(settings)
    upgrade(platform.engine)
    server = make_server(platform)
    stop = asyncio.Event()
    console.print(f"[bold green]Media service[/]: SIP on udp {media_uri(settings)}")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await _serve(server, stop)

    asyncio.run(main())


@app.command("call")
def call(
    number: str = typer.Argument(..., help="What the phone dials (a line's number, 123...)."),
    user: str = typer.Option(..., "--user", help="The line's SIP username (number without +)."),
    password: str = typer.Option(..., "--password", help="The line's SIP password."),
    say: str = typer.Option(
        "Hello, this is a test message.", help="Spoken after the voicemail's tone."
    ),
    keys: str = typer.Option("", help="Keys pressed once answered (e.g. 1, or 4821# for a PIN)."),
    seconds: float = typer.Option(15, help="How long the call lasts at most."),
    heard: Path | None = typer.Option(None, help="Where to write what the phone heard (WAV)."),
) -> None:
    """A Python phone through the switch: it presses KEYS, and after a voicemail's tone says SAY
    (espeak-ng); it hangs up after SECONDS, or when the media service does."""
    from voipdesk.media import audio as media_audio
    from voipdesk.media.phone import Phone, PhoneCall, ToneWatch
    from voipdesk.telephony.aliases import services as aliases

    settings = get_settings()
    phone = Phone(("127.0.0.1", settings.sip_port), settings.sip_domain, user, password)
    speech = media_audio.wav_pcm(aliases.spoken(say, "en")) if say else b""

    async def script(call: PhoneCall) -> None:
        await call.send_silence(0.5)
        if keys:
            await call.press(keys)
        beep = ToneWatch()
        call.rtp.on_frame = beep.frame
        if await call.silence_until(beep.tone_over, timeout=seconds) and speech:
            await call.send_audio(speech)
            await call.send_silence(0.5)

    result = asyncio.run(phone.call(number, script, timeout=seconds + 30))
    if heard is not None:
        heard.write_bytes(media_audio.wav_bytes(result.heard))
    console.print(
        f"Final answer {result.code} {result.reason}".strip()
        + (f"; hung up by the {result.hung_up_by}" if result.code == 200 else "")
        + (f"; referred to {result.referred_to}" if result.referred_to else "")
    )
    raise typer.Exit(0 if result.code == 200 else 1)
