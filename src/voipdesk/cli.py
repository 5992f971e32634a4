"""The `voipdesk` command line: serve, db upgrade, worker, staff create, renew."""

from __future__ import annotations

import gc
import getpass
import signal
import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from voipdesk.areas import load_handlers
from voipdesk.core.db import normalise_url
from voipdesk.core.migrate import upgrade
from voipdesk.core.platform import Platform
from voipdesk.core.settings import Settings, get_settings, new_secret, secret_problems
from voipdesk.media import commands as media_commands
from voipdesk.switch import commands as switch_commands

app = typer.Typer(help="voipdesk: the platform for VoIP operators.", no_args_is_help=True)
db_app = typer.Typer(help="Database commands.", no_args_is_help=True)
staff_app = typer.Typer(help="Operator staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(staff_app, name="staff")
app.add_typer(switch_commands.app, name="switch")
app.add_typer(media_commands.app, name="media")
console = Console(soft_wrap=True)

DATABASE_OPTION = typer.Option(
    None, "--database-url", help="SQLAlchemy URL; default VOIPDESK_DATABASE_URL or SQLite here."
)


def _platform(database_url: str | None) -> Platform:
    settings = get_settings()
    if database_url:
        settings = Settings(**{**settings.model_dump(), "database_url": database_url})
    load_handlers()
    return Platform.from_settings(settings)


# uvicorn settings shared by `serve` and bench/api.py (which measures the framework's ceiling
# with the same ones): no access log (one log line per request costs about a tenth of a request).
# No `server` header naming the software either.
GC_YOUNG_THRESHOLD = 10_000  # allocations between young collections (Python's default: 700)
SERVER_SETTINGS: dict[str, object] = {
    "log_level": "warning",
    "access_log": False,
    "server_header": False,
}


def refuse_unsafe_secrets(settings: Settings) -> None:
    """Stops here, saying what to set, when the settings must not serve real customers."""
    problems = secret_problems(settings)
    if not problems:
        return
    console.print("[bold red]voipdesk will not start with these settings:[/]")
    for problem in problems:
        console.print(f"  - {problem}")
    console.print("(`voipdesk serve --demo` runs the demo without them.)")
    raise typer.Exit(2)


def demo_payments(settings: Settings) -> None:
    """The demo pays with the sandbox provider unless told otherwise, with a webhook secret of
    its own for this run."""
    if not settings.payment_provider:
        settings.payment_provider = "sandbox"
    if not settings.payment_webhook_secret:
        settings.payment_webhook_secret = new_secret()


@app.command()
def secret() -> None:
    """Prints a fresh random secret for VOIPDESK_SECRET_KEY (or a webhook secret)."""
    typer.echo(new_secret())


def check_workers(workers: int, database_url: str) -> str | None:
    """Why `serve --workers N` cannot run on this database, or None when it can."""
    if workers < 1:
        return "--workers must be at least 1."
    if workers > 1 and not normalise_url(database_url).startswith("postgresql"):
        return (
            "--workers above 1 needs PostgreSQL (set --database-url or VOIPDESK_DATABASE_URL to "
            "a postgresql:// URL): SQLite lets one process write at a time, so several web "
            "processes would only wait for each other's write lock."
        )
    return None


def web_app() -> object:
    """The application of one web process of `serve --workers N` (uvicorn's factory): its
    settings come from the environment that `serve` prepared; no outbox worker in here."""
    from voipdesk.app import create_app

    load_handlers()
    application = create_app(Platform.from_settings(get_settings()))
    settle_heap()
    return application


def settle_heap() -> None:
    """Moves what start-up built (modules, routes, schemas, the demo) out of the garbage
    collector's sight, and collects the young generation less often: a served process otherwise
    pauses every request now and then to scan that long-lived heap again (the p99 latency)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo: bool = typer.Option(
        False, "--demo", help="Load the demo operator, catalogue and customers first."
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        help="Web processes (PostgreSQL only above 1); the outbox worker runs once, here.",
    ),
    database_url: str | None = DATABASE_OPTION,
    no_switch: bool = typer.Option(
        False, "--no-switch", help="With --demo: do not start Kamailio beside the web."
    ),
) -> None:
    """Web pages, REST API and an in-process worker (one outbox worker whatever --workers);
    with --demo also the switch (Kamailio) when it is installed."""
    import os

    import uvicorn

    from voipdesk.app import create_app
    from voipdesk.core.outbox import Worker

    platform = _platform(database_url)
    refusal = check_workers(workers, platform.settings.database_url)
    if refusal is not None:
        console.print(f"[bold red]{refusal}[/]")
        raise typer.Exit(2)
    if demo:
        demo_payments(platform.settings)
        # The demo's webhook endpoint is voipdesk's own test receiver, on this machine.
        platform.settings.webhooks_allow_private_addresses = True
    else:
        refuse_unsafe_secrets(platform.settings)
    if host != "127.0.0.1" or port != 8000:
        platform.settings.base_url = f"http://{host}:{port}"
    upgrade(platform.engine)
    logins: list[tuple[str, str, str]] = []
    if demo:
        from voipdesk.demo import load_demo

        logins = load_demo(platform)
    # The outbox worker runs in this process only (uvicorn's supervisor when workers > 1), so no
    # message is delivered twice by two web processes.
    worker = Worker(platform)
    worker.start_thread()
    # The demo also runs the switch when Kamailio is installed (phones can call each other),
    # and the media service beside it (voicemail, 123, conference rooms), which the switch
    # hands those calls to.
    media = None
    if demo and not no_switch:
        media = media_commands.start_in_background(platform)
        if media is not None and not platform.settings.switch_media_uri:
            platform.settings.switch_media_uri = media_commands.media_uri(platform.settings)
    switch = (
        switch_commands.start_in_background(platform.settings, Path("switch"))
        if demo and not no_switch
        else None
    )
    url = platform.settings.base_url
    console.print(
        f"[bold green]voipdesk[/] is serving on [link={url}]{url}[/link]"
        f"  (API docs: {url}/api/docs)" + (f", {workers} web processes" if workers > 1 else "")
    )
    if logins:
        console.print("Demo logins (password for all: [bold]" + logins[0][2] + "[/]):")
        for role, login, _password in logins:
            console.print(f"  {role:<40} {login}")
    try:
        if workers > 1:
            # Each web process builds its platform from the environment (see web_app).
            os.environ["VOIPDESK_DATABASE_URL"] = platform.settings.database_url
            os.environ["VOIPDESK_BASE_URL"] = platform.settings.base_url
            if platform.settings.payment_provider:
                os.environ["VOIPDESK_PAYMENT_PROVIDER"] = platform.settings.payment_provider
            if platform.settings.payment_webhook_secret:
                os.environ["VOIPDESK_PAYMENT_WEBHOOK_SECRET"] = (
                    platform.settings.payment_webhook_secret
                )
            uvicorn.run(
                "voipdesk.cli:web_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                **SERVER_SETTINGS,  # type: ignore[arg-type]
            )
        else:
            application = create_app(platform)
            settle_heap()
            uvicorn.run(application, host=host, port=port, **SERVER_SETTINGS)  # type: ignore[arg-type]
    finally:
        worker.stop()
        if media is not None:
            media.stop()
        if switch is not None:
            switch.terminate()
            switch.wait(timeout=10)


@db_app.command("upgrade")
def db_upgrade(database_url: str | None = DATABASE_OPTION) -> None:
    """Applies every pending migration."""
    platform = _platform(database_url)
    upgrade(platform.engine)
    console.print("Database is up to date.")


@app.command()
def worker(
    once: bool = typer.Option(False, "--once", help="Deliver what is due, then stop."),
    database_url: str | None = DATABASE_OPTION,
) -> None:
    """A job worker: delivers the outbox and runs periodic jobs. Run several on PostgreSQL."""
    from voipdesk.core.jobs import run_due_jobs
    from voipdesk.core.outbox import Worker, drain

    platform = _platform(database_url)
    refuse_unsafe_secrets(platform.settings)
    if once:
        delivered = drain(platform)
        run_due_jobs(platform)
        console.print(f"Delivered {delivered} message(s).")
        return
    running = Worker(platform)
    signal.signal(signal.SIGTERM, lambda *_: running.stop())
    console.print("Worker started; Ctrl-C to stop.")
    try:
        running.run()
    except KeyboardInterrupt:
        running.stop()


@staff_app.command("create")
def staff_create(
    email: str = typer.Option(..., prompt=True),
    first_name: str = typer.Option(..., prompt=True),
    last_name: str = typer.Option(..., prompt=True),
    password: str | None = typer.Option(None, help="Asked for when not given."),
    database_url: str | None = DATABASE_OPTION,
) -> None:
    """Creates an operator staff account."""
    from voipdesk.accounts.actions import create_staff
    from voipdesk.core.errors import DomainError

    platform = _platform(database_url)
    upgrade(platform.engine)
    if password is None:
        password = getpass.getpass("Password: ")
    try:
        account = create_staff(
            platform, email=email, first_name=first_name, last_name=last_name, password=password
        )
    except DomainError as error:
        console.print(f"[red]Refused:[/] {error.detail('en')}")
        for field in error.field_errors("en"):
            console.print(f"  {field['field']}: {field['message']}")
        raise typer.Exit(2) from error
    console.print(f"Staff account created: [bold]{account.handle}[/] ({account.email})")


@app.command()
def renew(
    on: str = typer.Option(..., "--date", help="The renewal date, YYYY-MM-DD (normally the 1st)."),
    database_url: str | None = DATABASE_OPTION,
    wait: bool = typer.Option(
        False, "--wait", help="If a renewal of that month is running, wait for it to end."
    ),
) -> None:
    """The monthly renewal run for that date: idempotent, safe to run again after a crash."""
    from voipdesk.billing.errors import RenewalAlreadyRunning
    from voipdesk.billing.renewal import run_renewal

    try:
        renewal_date = date.fromisoformat(on)
    except ValueError as error:
        console.print(f"[red]Not a date:[/] {on!r} (expected YYYY-MM-DD)")
        raise typer.Exit(2) from error
    platform = _platform(database_url)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=total)
            progress.update(tasks[step], completed=done, total=total)

        try:
            summary = run_renewal(platform, renewal_date, progress=report, wait=wait)
        except RenewalAlreadyRunning as error:
            progress.stop()
            console.print(f"[red]Refused:[/] {error}")
            raise typer.Exit(1) from error
    console.print(summary.as_table() if hasattr(summary, "as_table") else summary)


@app.command("star-code")
def star_code(
    sip_user: str = typer.Argument(..., help="The line's SIP username (its number without +)."),
    dialled: str = typer.Argument(..., help="What the phone dials, e.g. '*21*0612345678#'."),
    database_url: str | None = DATABASE_OPTION,
) -> None:
    """Applies a star code as the switch does when the line's phone dials it (same use case as
    the calls-management page)."""
    from voipdesk.core.errors import DomainError
    from voipdesk.telephony.actions.star_codes import apply_star_code

    platform = _platform(database_url)
    try:
        with platform.transaction() as session:
            outcome = apply_star_code(session, platform, sip_user, dialled)
    except DomainError as error:
        console.print(f"[red]Refused ({error.code}):[/] {error.detail('en')}")
        raise typer.Exit(2) from error
    target = f" -> {outcome.number}" if outcome.number else ""
    console.print(f"{outcome.action} {outcome.condition or ''}{target}".replace("  ", " "))


# --- consumption ----------------------------------------------------------------------------------
consumption_app = typer.Typer(help="Call records and their rating.", no_args_is_help=True)
app.add_typer(consumption_app, name="consumption")


@consumption_app.command("import")
def consumption_import(
    path: str = typer.Argument(..., help="A CSV file of call records (format in the README)."),
    database_url: str | None = DATABASE_OPTION,
) -> None:
    """Imports call records from another switch; each call is stored once (by its identity),
    then every call not rated yet is rated."""
    from voipdesk.consumption import importer, services
    from voipdesk.core.errors import DomainError

    platform = _platform(database_url)
    try:
        with open(path, encoding="utf-8-sig", newline="") as source:
            with Progress(
                TextColumn("[bold]{task.description}"),
                TextColumn("{task.completed:,} read"),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("import", total=None)
                result = importer.import_calls(
                    platform,
                    importer.read_calls(source),
                    lambda read, stored: progress.update(task, completed=read),
                )
            with console.status("rating"):
                services.rate_everything_pending(platform)
    except OSError as error:
        console.print(f"[red]Cannot read[/] {path}: {error}")
        raise typer.Exit(2) from error
    except DomainError as error:
        console.print(f"[red]Refused ({error.code}):[/] {error.detail('en')}")
        raise typer.Exit(2) from error
    console.print(
        f"{result.read:,} calls read, {result.stored:,} stored, "
        f"{result.already_known:,} already known."
    )


@consumption_app.command("rerate")
def consumption_rerate(
    month: str = typer.Argument(..., help="The month, YYYY-MM."),
    explanation: str = typer.Option(..., "--explanation", help="Why (shown on the invoice)."),
    database_url: str | None = DATABASE_OPTION,
) -> None:
    """Rates a month's calls again with the rate tables of today (after a correction); the
    difference for months already invoiced goes on the next invoice. Idempotent."""
    from voipdesk.consumption import actions, rules

    wanted = rules.parse_month(month)
    if wanted is None:
        console.print(f"[red]Not a month:[/] {month!r} (expected YYYY-MM)")
        raise typer.Exit(2)
    platform = _platform(database_url)
    with platform.transaction() as session:
        result = actions.rerate_month(session, platform, wanted, explanation, "cli")
    console.print(
        f"{result.lines:,} lines rated again; {result.groups_changed:,} billing groups with a "
        f"difference of {result.difference_cents / 100:.2f} EUR in all."
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
