"""Benchmark of the monthly renewal run.

Generates N billing groups (one customer each) of M services with a realistic share of pending
changes and payment methods, then times the renewal of every service for the next month, and a
second run for the same date (which must do nothing).

    uv run python bench/renewal.py --database postgresql --groups 100000 --services 10
    uv run python bench/renewal.py --database sqlite --groups 10000 --services 10

PostgreSQL: a throw-away database is created on the server of --server-url and dropped at the
end. Each run is timed in its own process, so the peak memory reported is the run's.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

RUN_DATE = date(2026, 4, 1)
CREATED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
EXPIRY = date(2026, 3, 31)

# Share of services with a pending change due at the renewal, per kind of change.
CHANGE_SHARES = (
    ("offer_change", 0.02),
    ("simultaneous_calls_decrease", 0.005),
    ("line_to_alias", 0.002),
    ("termination", 0.005),
)
# Kinds of service, weighted like a business customer base.
KINDS = (
    ("sip_line", "sip-entreprise", 5_0000, 0.35),
    ("sip_line", "sip-decouverte", 1_9900, 0.2),
    ("option", "option-mobile-hours-10", 3_0000, 0.1),
    ("alias_number", "alias-number", 1_0000, 0.3),
    ("fax_line", "fax-line", 4_0000, 0.05),
)
COUNTRIES = (("FR", 0.7), ("BE", 0.15), ("CH", 0.1), ("CA-QC", 0.05))


def hexid(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def weighted(rng: random.Random, items: tuple, weights: list[float]):
    return rng.choices(items, weights=weights, k=1)[0]


def generate_rows(groups: int, services: int, seed: int = 7):
    """Yields (table, columns, rows) chunks for accounts, payment methods, groups, services,
    pending changes."""
    rng = random.Random(seed)
    kind_weights = [k[3] for k in KINDS]
    country_weights = [c[1] for c in COUNTRIES]
    created = CREATED.isoformat()
    accounts, methods, group_rows, service_rows, changes = [], [], [], [], []
    for index in range(groups):
        account_id = hexid(rng)
        country = weighted(rng, COUNTRIES, country_weights)[0]
        accounts.append(
            (account_id, f"bk{index:07d}-vd", "company", country, "fr" if index % 4 else "en",
             "Jeanne", f"Martin{index}", f"Société {index}", "1 rue de la Paix", "75002", "Paris",
             f"c{index}@bench.example", "x", False, created)
        )  # fmt: skip
        draw = rng.random()
        if draw < 0.6:
            methods.append(
                (hexid(rng), account_id, "sepa_debit", True, "IBAN", "FR7630006000011234567890189",
                 "AGRIFRPP", f"Société {index}", f"BENCHM-{index:08d}", "2026-01-01", created)
            )  # fmt: skip
        elif draw < 0.9:
            methods.append(
                (
                    hexid(rng),
                    account_id,
                    "card",
                    True,
                    "card",
                    None,
                    None,
                    None,
                    None,
                    None,
                    created,
                )
            )
        group_id = hexid(rng)
        group_rows.append(
            (group_id, account_id, f"bk{index}", account_id, account_id, account_id, country,
             "active", created)
        )  # fmt: skip
        for position in range(services):
            kind, offer, price, _ = weighted(rng, KINDS, kind_weights)
            service_id = hexid(rng)
            number = f"+339{index:07d}{position:02d}"
            service_rows.append(
                (service_id, group_id, account_id, kind, number, offer, 1, kind != "alias_number",
                 price, country, "automatic" if rng.random() < 0.97 else "manual", "active",
                 EXPIRY.isoformat(), False, created)
            )  # fmt: skip
            draw = rng.random()
            cumulative = 0.0
            for change_kind, share in CHANGE_SHARES:
                cumulative += share
                if draw < cumulative:
                    if change_kind == "offer_change" and offer != "sip-decouverte":
                        break
                    if (
                        change_kind in ("simultaneous_calls_decrease", "line_to_alias")
                        and kind != "sip_line"
                    ):
                        break
                    changes.append(
                        (hexid(rng), group_id, service_id, change_kind,
                         "sip-entreprise" if change_kind == "offer_change" else None,
                         1 if change_kind == "simultaneous_calls_decrease" else None,
                         {"offer_change": 5_0000, "line_to_alias": 1_0000}.get(change_kind),
                         "move" if change_kind == "termination" else None,
                         "2026-04-01", "pending", created, "bench")
                    )  # fmt: skip
                    break
        if len(service_rows) >= 200_000:
            yield from _chunks(accounts, methods, group_rows, service_rows, changes)
            accounts, methods, group_rows, service_rows, changes = [], [], [], [], []
    yield from _chunks(accounts, methods, group_rows, service_rows, changes)


ACCOUNT_COLUMNS = ("id", "handle", "kind", "country", "language", "first_name", "last_name",
                   "organisation_name", "address_line1", "postal_code", "city", "email",
                   "password_hash", "is_staff", "created_at")  # fmt: skip
METHOD_COLUMNS = ("id", "account_id", "method_type", "is_default", "label", "iban", "bic",
                  "holder_name", "mandate_reference", "mandate_signed_on",
                  "created_at")  # fmt: skip
GROUP_COLUMNS = ("id", "account_id", "name", "admin_account_id", "tech_account_id",
                 "billing_account_id", "tax_country", "state", "created_at")  # fmt: skip
SERVICE_COLUMNS = ("id", "billing_group_id", "account_id", "kind", "number_e164", "offer_code",
                   "simultaneous_calls", "outgoing_calls", "monthly_price_e4", "tax_country",
                   "renewal_mode", "state", "expiry_on", "cancel_at_expiry",
                   "created_at")  # fmt: skip
CHANGE_COLUMNS = ("id", "billing_group_id", "service_id", "kind", "new_offer_code",
                  "new_simultaneous_calls", "new_monthly_price_e4", "reason", "effective_on",
                  "state", "requested_at", "requested_by")  # fmt: skip


def _chunks(accounts, methods, groups, services, changes):
    yield "account", ACCOUNT_COLUMNS, accounts
    yield "payment_method", METHOD_COLUMNS, methods
    yield "billing_group", GROUP_COLUMNS, groups
    yield "service", SERVICE_COLUMNS, services
    yield "pending_change", CHANGE_COLUMNS, changes


def load(url: str, groups: int, services: int) -> dict[str, int]:
    from voipdesk.core.db import make_engine

    engine = make_engine(url)
    counts: dict[str, int] = {}
    raw = engine.raw_connection()
    try:
        postgres = engine.dialect.name == "postgresql"
        cursor = raw.cursor()
        for table, columns, rows in generate_rows(groups, services):
            if not rows:
                continue
            counts[table] = counts.get(table, 0) + len(rows)
            if table == "pending_change":
                columns = (*columns, "params")
                rows = [(*row, "{}") for row in rows]
            if postgres:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in rows],
                )
        raw.commit()
        if postgres:
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return counts


def renew_once(url: str, batch_size: int) -> dict[str, object]:
    """One timed run, in this process (called in a child process by main)."""
    from voipdesk.areas import load_models
    from voipdesk.billing.renewal import run_renewal
    from voipdesk.core.clock import MovableClock
    from voipdesk.core.db import make_engine
    from voipdesk.core.platform import Platform
    from voipdesk.core.settings import Settings, new_secret

    load_models()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        payment_provider="sandbox",
        payment_webhook_secret=new_secret(),
    )
    platform = Platform(
        settings=settings,
        engine=make_engine(url),
        clock=MovableClock(datetime(2026, 3, 31, 23, 5, tzinfo=UTC)),
    )
    started = time.perf_counter()
    summary = run_renewal(platform, RUN_DATE, batch_size=batch_size)
    seconds = time.perf_counter() - started
    platform.engine.dispose()
    return {
        "seconds": round(seconds, 2),
        "services_renewed": summary.services_renewed,
        "invoices": summary.invoices_created,
        "changes_applied": summary.changes_applied,
        "sepa_debits": summary.sepa_debits,
        "card_collections": summary.card_collections,
        "total_incl_tax": str(summary.total_incl_tax),
        "did_nothing": summary.did_nothing,
        "steps": summary.step_seconds,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run_child(url: str, batch_size: int) -> dict[str, object]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", url, "--batch", str(batch_size)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "VOIPDESK_LOG_LEVEL": "WARNING"},
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--services", type=int, default=10, help="services per billing group")
    parser.add_argument("--batch", type=int, default=50_000, help="billing groups per transaction")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(renew_once(arguments.child, arguments.batch)))
        return

    from voipdesk.core.db import make_engine, normalise_url
    from voipdesk.core.migrate import upgrade

    folder = tempfile.TemporaryDirectory()
    server = None
    name = f"voipdesk_bench_{uuid.uuid4().hex[:8]}"
    if arguments.database == "postgresql":
        server = create_engine(normalise_url(arguments.server_url), isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = normalise_url(arguments.server_url).rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite:///{Path(folder.name) / 'bench.sqlite3'}"
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        started = time.perf_counter()
        counts = load(url, arguments.groups, arguments.services)
        generation = time.perf_counter() - started
        first = run_child(url, arguments.batch)
        second = run_child(url, arguments.batch)
    finally:
        if server is not None:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()
        folder.cleanup()

    services = counts.get("service", 0)
    rate = int(first["services_renewed"]) / float(first["seconds"]) if first["seconds"] else 0.0
    table = io.StringIO()
    table.write(f"Renewal benchmark on {arguments.database}: {arguments.groups:,} billing groups x "
                f"{arguments.services} services = {services:,} services, "
                f"{counts.get('pending_change', 0):,} pending changes, "
                f"{arguments.batch:,} groups per batch "
                f"(data generated in {generation:.1f} s)\n")  # fmt: skip
    table.write(f"{'run':<8}{'seconds':>10}{'renewed':>12}{'invoices':>10}{'changes':>9}"
                f"{'SEPA':>9}{'cards':>8}{'services/s':>12}{'peak MB':>9}\n")  # fmt: skip
    for label, run in (("first", first), ("second", second)):
        per_second = int(run["services_renewed"]) / float(run["seconds"]) if run["seconds"] else 0
        table.write(
            f"{label:<8}{run['seconds']:>10}{run['services_renewed']:>12,}{run['invoices']:>10,}"
            f"{run['changes_applied']:>9,}{run['sepa_debits']:>9,}{run['card_collections']:>8,}"
            f"{per_second if label == 'first' else 0:>12,.0f}{run['peak_rss_mb']:>9}\n"
        )
    table.write(f"steps of the first run (s): {first['steps']}\n")
    table.write(
        f"second run did nothing: {second['did_nothing']}; first-run rate {rate:,.0f} services/s\n"
    )
    print(table.getvalue())


if __name__ == "__main__":
    main()
