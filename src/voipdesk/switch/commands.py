"""`voipdesk switch config` and `voipdesk switch run` (the main command line adds them)."""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import FrameType

import typer
from rich.console import Console

from voipdesk.core.migrate import upgrade
from voipdesk.core.platform import Platform
from voipdesk.core.settings import Settings, get_settings
from voipdesk.switch import config, sipp

app = typer.Typer(help="The switch: Kamailio routing calls by the customers' settings.")
console = Console(soft_wrap=True)

FOLDER_OPTION = typer.Option(
    Path("switch"), "--folder", help="Where the configuration is written (created if needed)."
)


def _settings(database_url: str | None) -> Settings:
    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def where_phones_register(settings: Settings) -> str:
    return (
        f"phones register to sip:{settings.sip_domain} at {settings.sip_transport} "
        f"{settings.switch_address}:{settings.sip_port} (user: the line's number without +, "
        "password: set it on the line's Calls management page)"
    )


@app.command("config")
def write_config(
    folder: Path = FOLDER_OPTION,
    database_url: str | None = typer.Option(None, "--database-url", help="SQLAlchemy URL."),
) -> None:
    """Writes kamailio.cfg, its Python routing entry and its settings into FOLDER."""
    settings = _settings(database_url)
    files = config.write(folder, settings)
    console.print(
        f"Wrote [bold]{files.config}[/] (run: {' '.join(config.command(files, settings))})"
    )


def start_in_background(settings: Settings, folder: Path) -> subprocess.Popen[bytes] | None:
    """Kamailio beside `voipdesk serve --demo`; None (and why, printed) when it cannot run."""
    if config.kamailio_binary() is None:
        console.print("[yellow]Switch not started:[/] Kamailio is not installed.")
        return None
    files = config.write(folder, settings)
    log = (folder / "kamailio.log").open("wb")
    process = config.start(files, settings, stdout=log, stderr=subprocess.STDOUT)
    time.sleep(1.0)
    if process.poll() is not None:
        console.print(
            f"[red]Switch not started[/] (see {folder / 'kamailio.log'}): is port "
            f"{settings.sip_port} in use? Set VOIPDESK_SIP_PORT."
        )
        return None
    console.print(
        f"[bold green]Switch[/] (Kamailio, pid {process.pid}): {where_phones_register(settings)}"
    )
    return process


@app.command("run")
def run(
    folder: Path = FOLDER_OPTION,
    database_url: str | None = typer.Option(None, "--database-url", help="SQLAlchemy URL."),
) -> None:
    """Runs Kamailio in the foreground with voipdesk's routing (Ctrl-C stops it)."""
    settings = _settings(database_url)
    if config.kamailio_binary() is None:
        console.print(
            "[red]Kamailio is not installed[/] (Debian: kamailio kamailio-python3-modules)."
        )
        raise typer.Exit(2)
    upgrade(Platform.from_settings(settings).engine)
    files = config.write(folder, settings)
    console.print(f"[bold green]Switch[/]: {where_phones_register(settings)}")
    process = config.start(files, settings)

    def stop(signum: int, frame: FrameType | None) -> None:
        process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    raise typer.Exit(process.wait())


# --- A phone to try it -------------------------------------------------------------------------
phone_app = typer.Typer(help="A SIPp phone (Debian's sip-tester) to try a line by hand.")
app.add_typer(phone_app, name="phone")
USER = typer.Option(..., "--user", help="The line's SIP username (its number without +).")
PASSWORD = typer.Option(..., "--password", help="The line's SIP password (set on its page).")


def _phone(user: str, password: str, port: int | None) -> sipp.Phone:
    settings = get_settings()
    folder = Path(tempfile.mkdtemp(prefix="voipdesk-phone-"))
    return sipp.Phone(
        settings.sip_port, settings.sip_domain, user, password, folder, port or sipp.free_port()
    )


def _say(outcome: sipp.Outcome, what: str) -> None:
    if outcome.ok:
        console.print(f"[green]{what}[/]" + (f" ({outcome.reason})" if outcome.reason else ""))
        return
    console.print(f"[red]{what}: failed[/]\n{outcome.output[-1500:]}")
    raise typer.Exit(1)


@phone_app.command("answer")
def phone_answer(
    user: str = USER,
    password: str = PASSWORD,
    calls: int = typer.Option(1, help="How many calls to answer before stopping."),
    port: int | None = typer.Option(None, help="The phone's local port (default: a free one)."),
) -> None:
    """Registers the line, then answers its calls (each held until the caller hangs up)."""
    phone = _phone(user, password, port)
    _say(phone.register(), f"{user} registered from 127.0.0.1:{phone.port}")
    console.print(f"Waiting for {calls} call(s)...")
    process = phone.answer("200", calls=calls, timeout=3600)
    raise typer.Exit(phone.wait(process, timeout=3600))


@phone_app.command("call")
def phone_call(
    number: str = typer.Argument(..., help="What the phone dials (a number, *21*N%23, 123...)."),
    user: str = USER,
    password: str = PASSWORD,
    expect: int = typer.Option(200, help="The final answer expected (200: answered)."),
    hold: int = typer.Option(3000, help="Milliseconds an answered call lasts."),
) -> None:
    """Calls a number from the line and says how the call ended."""
    phone = _phone(user, password, None)
    _say(phone.call(number, expected=expect, hold_ms=hold), f"{user} called {number}: {expect}")
