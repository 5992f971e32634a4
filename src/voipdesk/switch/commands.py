"""`voipdesk switch config` and `voipdesk switch run` (the main command line adds them)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from types import FrameType

import typer
from rich.console import Console

from voipdesk.core.migrate import upgrade
from voipdesk.core.platform import Platform
from voipdesk.core.settings import Settings, get_settings
from voipdesk.switch import config

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
