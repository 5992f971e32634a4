# ruff: noqa: E501  (long report lines and SQL read better unwrapped)
"""Benchmark of the monthly renewal run, on data shaped like an operator's customer base.

    uv run python bench/renewal.py --database postgresql --services 1000000 --repeat 3
    uv run python bench/renewal.py --database sqlite --services 100000

Each cycle builds a fresh database: customers (individuals, companies and associations in France,
Belgium, Switzerland and Québec, French and English speakers), billing groups of 1 to 50 services
(SIP lines with options and lent phones, trunks, alias numbers some in pools, fax lines; prices
with fractions of a cent), payment methods (SEPA mandates on their own IBANs, cards, none). March
is then renewed and invoiced by the engine itself (untimed: the previous month already invoiced,
its e-mails sent), and during March: pending changes of every kind fall due on 1 April, manual
renewals are paid or not, services start or are deleted inside the month, some are cancelled at
expiry. The timed part is the renewal of April in a child process (with the batch size of the
command and the job), then a second run for the same date, which must find nothing to do.

Measured: seconds (and per step), the child's own peak memory (VmHWM of its own address space,
read from /proc/self/status: ru_maxrss would include the parent's pages it was forked from), and
on PostgreSQL the WAL written, temporary files, the peak RSS of the run's server backends, and
the floor: PostgreSQL's own COPY of exactly the rows the run wrote (invoices, lines, taxes,
parties, collections, SEPA file, outbox messages, events, the new versions of the updated
services, changes and loans) into tables of the same definition (indexes, constraints) holding
the same previous month, in one transaction. The ratio run / floor says how far the engine is
from what the server can write at best.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

PREVIOUS = date(2026, 3, 1)  # invoiced while preparing the data
RUN_DATE = date(2026, 4, 1)  # timed
CREATED = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
PREVIOUS_CLOCK = datetime(2026, 3, 1, 0, 5, tzinfo=UTC)
RUN_CLOCK = datetime(2026, 4, 1, 0, 5, tzinfo=UTC)

COUNTRIES = (("FR", 0.70), ("BE", 0.15), ("CH", 0.10), ("CA-QC", 0.05))
KINDS = (("individual", 0.55), ("company", 0.40), ("association", 0.05))
# Offer, kind, prices in 1/10 000 (list price, discounted ones with fractions of a cent).
OFFERS = {
    "sip-decouverte": ("sip_line", (1_9900, 1_6583, 1_4925)),
    "sip-entreprise": ("sip_line", (5_0000, 4_1667, 3_7499)),
    "sip-trunk": ("sip_trunk", (12_5000, 10_4167)),
    "alias-number": ("alias_number", (1_0000, 8333, 7499)),
    "fax-line": ("fax_line", (4_0000, 3_3333)),
    "option-mobile-hours-10": ("option", (3_0000, 2_4999)),
    "option-mobile-hours-50": ("option", (9_0000, 7_4999)),
}
SLOT_KINDS = (  # what each service of a group is, weighted
    ("sip-decouverte", 0.20),
    ("sip-entreprise", 0.22),
    ("sip-trunk", 0.02),
    ("alias-number", 0.36),
    ("fax-line", 0.08),
    ("option", 0.12),
)
GROUP_SIZES = list(range(1, 51))
GROUP_WEIGHTS = [1 / size for size in GROUP_SIZES]  # many small groups, some large: mean ~11
BANKS = {"FR": ("30006", "AGRIFRPP"), "BE": ("539", "GKCCBEBB"), "CH": ("00762", "UBSWCHZH")}

ACCOUNT_COLUMNS = ("id", "handle", "kind", "country", "language", "first_name", "last_name",
                   "organisation_name", "address_line1", "postal_code", "city", "email",
                   "password_hash", "is_staff", "created_at")  # fmt: skip
METHOD_COLUMNS = ("id", "account_id", "method_type", "is_default", "label", "iban", "bic",
                  "holder_name", "mandate_reference", "mandate_signed_on", "card_brand",
                  "card_last4", "provider", "provider_token", "created_at")  # fmt: skip
GROUP_COLUMNS = ("id", "account_id", "name", "admin_account_id", "tech_account_id",
                 "billing_account_id", "tax_country", "state", "created_at")  # fmt: skip
SERVICE_COLUMNS = ("id", "billing_group_id", "account_id", "kind", "number_e164", "offer_code",
                   "parent_service_id", "pool_id", "simultaneous_calls", "outgoing_calls",
                   "monthly_price_e4", "tax_country", "renewal_mode", "state", "expiry_on",
                   "cancel_at_expiry", "sip_username", "sip_ha1",
                   "created_at")  # fmt: skip
LOAN_COLUMNS = ("id", "account_id", "billing_group_id", "service_id", "hardware_code", "deposit",
                "state", "lent_at")  # fmt: skip
CHANGE_COLUMNS = ("id", "billing_group_id", "service_id", "kind", "new_offer_code",
                  "new_simultaneous_calls", "new_monthly_price_e4", "reason", "params",
                  "effective_on", "state", "requested_at", "requested_by")  # fmt: skip


def hexid(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def pick(rng: random.Random, items: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([item for item, _ in items], weights=[w for _, w in items], k=1)[0]


def iban(rng: random.Random, country: str) -> str:
    """A valid IBAN (ISO 13616 check digits) of a bank of that country."""
    bank, _ = BANKS[country]
    if country == "FR":
        bban = (
            f"{bank}{rng.randrange(10**5):05d}{rng.randrange(10**11):011d}{rng.randrange(100):02d}"
        )
    elif country == "BE":
        account = rng.randrange(10**7)
        number = int(f"{bank}{account:07d}")
        bban = f"{bank}{account:07d}{(number % 97) or 97:02d}"
    else:
        bban = f"{bank}{rng.randrange(10**12):012d}"
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


class Data:
    """The generated rows, by table (a chunk at a time, to keep the generator's memory flat)."""

    def __init__(self, services: int, seed: int) -> None:
        self.target = services
        self.rng = random.Random(seed)
        self.accounts = self.groups = self.services = 0

    def chunks(self, chunk: int = 100_000):  # type: ignore[no-untyped-def]
        rng = self.rng
        created = CREATED.isoformat()
        tables: dict[str, list[tuple[Any, ...]]] = {
            "account": [], "payment_method": [], "billing_group": [], "service": [],
            "phone_loan": [],
        }  # fmt: skip
        account_id = country = None
        while self.services < self.target:
            # A fifth of the customers hold two or three billing groups.
            if account_id is None or rng.random() > 0.15:
                account_id, country = self._account(tables, created)
            self._group(tables, account_id, country, created)
            if len(tables["service"]) >= chunk:
                yield tables
                tables = {name: [] for name in tables}
        yield tables

    def _account(self, tables: dict[str, list[tuple[Any, ...]]], created: str) -> tuple[str, str]:
        rng = self.rng
        index = self.accounts
        self.accounts += 1
        account_id = hexid(rng)
        country = pick(rng, COUNTRIES)
        kind = pick(rng, KINDS)
        language = "en" if rng.random() < (0.35 if country in ("CH", "CA-QC") else 0.08) else "fr"
        organisation = None if kind == "individual" else f"Société {index}"
        tables["account"].append(
            (account_id, f"b{index:07d}-vd", kind, country, language, "Jeanne", f"Martin{index}",
             organisation, f"{index % 200 + 1} rue de la Paix", "75002", "Paris",
             f"c{index}@bench.example", "x", False, created)
        )  # fmt: skip
        draw = rng.random()
        if country != "CA-QC" and draw < 0.58:
            _, bic = BANKS[country]
            tables["payment_method"].append(
                (hexid(rng), account_id, "sepa_debit", True, "IBAN", iban(rng, country), bic,
                 organisation or f"Jeanne Martin{index}", f"VD-{index:010d}", "2026-01-15", None,
                 None, None, None, created)
            )  # fmt: skip
        elif draw < 0.90:
            tables["payment_method"].append(
                (hexid(rng), account_id, "card", True, "Visa", None, None, None, None, None,
                 "visa", f"{index % 10000:04d}", "fake", f"tok_{index}", created)
            )  # fmt: skip
        return account_id, country

    def _group(
        self, tables: dict[str, list[tuple[Any, ...]]], account_id: str, country: str, created: str
    ) -> None:
        rng = self.rng
        group_id = hexid(rng)
        index = self.groups
        self.groups += 1
        tables["billing_group"].append(
            (group_id, account_id, f"g{index}", account_id, account_id, account_id, country,
             "active", created)
        )  # fmt: skip
        size = rng.choices(GROUP_SIZES, weights=GROUP_WEIGHTS, k=1)[0]
        lines: list[str] = []
        aliases: list[int] = []  # positions in tables["service"]
        for position in range(size):
            slot = pick(rng, SLOT_KINDS)
            if slot == "option" and not lines:
                slot = "sip-entreprise"
            offer = (
                rng.choice(("option-mobile-hours-10", "option-mobile-hours-50"))
                if slot == "option"
                else slot
            )
            kind, prices = OFFERS[offer]
            service_id = hexid(rng)
            number = (
                None
                if kind == "option"
                else f"+33{9 if kind != 'fax_line' else 8}{index:07d}{position:02d}"
            )
            is_line = kind in ("sip_line", "sip_trunk")
            calls = rng.choice((2, 3, 4, 6, 10)) if offer in ("sip-entreprise", "sip-trunk") else 1
            manual = rng.random() < 0.03
            tables["service"].append(
                (service_id, group_id, account_id, kind, number, offer,
                 rng.choice(lines) if kind == "option" else None, None, calls, kind != "alias_number",
                 rng.choice(prices), country, "manual" if manual else "automatic", "active",
                 # Manual renewals paid for March already; the others are renewed for March.
                 "2026-03-31" if manual else "2026-02-28", False,
                 f"b{index}x{position}" if is_line else None, "0" * 32 if is_line else None,
                 created)
            )  # fmt: skip
            self.services += 1
            if is_line:
                lines.append(service_id)
                if rng.random() < 0.3:
                    tables["phone_loan"].append(
                        (hexid(rng), account_id, group_id, service_id, "phone-pnp-pro", "49.00",
                         "lent", created)
                    )  # fmt: skip
            if kind == "alias_number":
                aliases.append(len(tables["service"]) - 1)
        if len(aliases) >= 3 and rng.random() < 0.3:  # these numbers were ordered as a pool
            pool = hexid(rng)
            for row in aliases:
                values = list(tables["service"][row])
                values[SERVICE_COLUMNS.index("pool_id")] = pool
                tables["service"][row] = tuple(values)


def copy_rows(
    cursor: Any, postgres: bool, table: str, columns: tuple[str, ...], rows: list
) -> None:
    if not rows:
        return
    if postgres:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in rows],
    )


def load(url: str, services: int, seed: int) -> dict[str, int]:
    from voipdesk.core.db import make_engine

    engine = make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    columns = {
        "account": ACCOUNT_COLUMNS, "payment_method": METHOD_COLUMNS,
        "billing_group": GROUP_COLUMNS, "service": SERVICE_COLUMNS, "phone_loan": LOAN_COLUMNS,
    }  # fmt: skip
    counts: dict[str, int] = {}
    data = Data(services, seed)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for tables in data.chunks():
            for table in ("account", "payment_method", "billing_group", "service", "phone_loan"):
                rows = tables[table]
                counts[table] = counts.get(table, 0) + len(rows)
                copy_rows(cursor, postgres, table, columns[table], rows)
        raw.commit()
        if postgres:
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return counts


def make_platform(url: str, clock_at: datetime, **engine_options: Any):  # type: ignore[no-untyped-def]
    from voipdesk.areas import load_handlers
    from voipdesk.core.clock import MovableClock
    from voipdesk.core.db import make_engine
    from voipdesk.core.platform import Platform
    from voipdesk.core.settings import Settings, new_secret

    load_handlers()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        smtp_host=None,
        payment_provider="sandbox",
        payment_webhook_secret=new_secret(),
    )
    return Platform(
        settings=settings, engine=make_engine(url, **engine_options), clock=MovableClock(clock_at)
    )


def prepare_previous_month(url: str, seed: int) -> dict[str, int]:
    """March renewed and invoiced by the engine, its e-mails sent; then what happens in March."""
    from voipdesk.billing.renewal import run_renewal
    from voipdesk.catalogue.demo import seed_catalogue

    platform = make_platform(url, PREVIOUS_CLOCK)
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    run_renewal(platform, PREVIOUS)
    rng = random.Random(seed + 1)
    counts: dict[str, int] = {}
    with platform.engine.begin() as connection:
        connection.execute(
            text("UPDATE outbox_message SET delivered_at = created_at, attempts = 1")
        )  # March's invoice e-mails went out during March
        rows = connection.execute(
            text(
                "SELECT id, billing_group_id, kind, offer_code, simultaneous_calls, renewal_mode,"
                " pool_id, account_id, tax_country FROM service ORDER BY id"
            )
        ).all()
        groups = sorted({row[1] for row in rows})
        changes: list[dict[str, Any]] = []
        paid_manual, deleted, cancelled, started = [], [], [], []

        def change(row: Any, kind: str, **values: Any) -> None:
            changes.append(
                {"id": hexid(rng), "group": row[1] if row else values.pop("group"),
                 "service": row[0] if row else None, "kind": kind,
                 "offer": values.get("offer"), "calls": values.get("calls"),
                 "price": values.get("price"), "reason": values.get("reason")}
            )  # fmt: skip

        for row in rows:
            _, _, kind, offer, calls, mode, pool, _, _ = row
            draw = rng.random()
            if mode == "manual":
                if draw < 0.35:
                    paid_manual.append(row[0])
                continue
            if offer == "sip-decouverte" and draw < 0.015:
                change(row, "offer_change", offer="sip-entreprise", price=5_0000)
            elif offer == "sip-entreprise" and calls > 2 and draw < 0.01:
                change(row, "simultaneous_calls_decrease", calls=calls - 1, price=None)
            elif kind == "sip_line" and 0.98 < draw < 0.982:
                change(row, "line_to_alias", price=1_0000)
            elif kind == "alias_number" and pool is None and 0.98 < draw < 0.982:
                change(row, "alias_to_line", offer="sip-decouverte", price=1_9900)
            elif kind != "option" and 0.5 < draw < 0.505:
                change(row, "termination", reason="competitor")
            elif 0.6 < draw < 0.603:
                deleted.append(row[0])
            elif 0.7 < draw < 0.705:
                cancelled.append(row[0])
        for group in rng.sample(groups, max(1, len(groups) // 500)):
            change(None, "group_termination", group=group, reason="moving")
        # Services started inside March, their first days not paid yet (0.5 %).
        for row in rng.sample(rows, max(1, len(rows) // 200)):
            if row[2] in ("alias_number", "fax_line"):
                started.append(row)
        if paid_manual:
            connection.execute(
                text("UPDATE service SET expiry_on = :expiry WHERE id = :id"),
                [{"id": service_id, "expiry": date(2026, 4, 30)} for service_id in paid_manual],
            )
        if deleted:
            connection.execute(
                text("UPDATE service SET state = 'deleted', deleted_at = :at WHERE id = :id"),
                [
                    {"id": sid, "at": f"2026-03-{rng.randint(2, 30):02d} 14:00:00"}
                    for sid in deleted
                ],
            )
        if cancelled:
            connection.execute(
                text(
                    "UPDATE service SET cancel_at_expiry = :yes, cancel_reason = 'price' WHERE id = :id"
                ),
                [{"id": sid, "yes": True} for sid in cancelled],
            )
        if started:
            connection.execute(
                text(
                    "INSERT INTO service (id, billing_group_id, account_id, kind, number_e164,"
                    " offer_code, simultaneous_calls, outgoing_calls, monthly_price_e4, tax_country,"
                    " renewal_mode, state, expiry_on, cancel_at_expiry, created_at)"
                    " VALUES (:id, :group, :account, :kind, :number, :offer, 1, :out, :price,"
                    " :country, 'automatic', 'active', :expiry, :no, :created)"
                ),
                [
                    {
                        "id": hexid(rng),
                        "group": row[1],
                        "account": row[7],
                        "kind": row[2],
                        "number": f"+3377{index:08d}",
                        "offer": row[3],
                        "out": row[2] != "alias_number",
                        "price": rng.choice(OFFERS[row[3]][1]),
                        "country": row[8],
                        "expiry": date(2026, 3, rng.randint(1, 29)),
                        "no": False,
                        "created": "2026-03-15 10:00:00",
                    }
                    for index, row in enumerate(started)
                ],
            )
        connection.execute(
            text(
                "INSERT INTO pending_change (id, billing_group_id, service_id, kind, new_offer_code,"
                " new_simultaneous_calls, new_monthly_price_e4, reason, params, effective_on, state,"
                " requested_at, requested_by) VALUES (:id, :group, :service, :kind, :offer, :calls,"
                " :price, :reason, '{}', :on, 'pending', :at, 'bench')"
            ),
            [{**c, "on": RUN_DATE, "at": "2026-03-20 10:00:00"} for c in changes],
        )
        counts = {
            "pending_changes": len(changes),
            "manual_paid": len(paid_manual),
            "deleted_in_march": len(deleted),
            "cancel_at_expiry": len(cancelled),
            "started_in_march": len(started),
        }
        for kind in ("offer_change", "simultaneous_calls_decrease", "line_to_alias",
                     "alias_to_line", "termination", "group_termination"):  # fmt: skip
            counts[f"change:{kind}"] = sum(1 for c in changes if c["kind"] == kind)
    if platform.engine.dialect.name == "postgresql":
        with platform.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))  # a month of autovacuum
    platform.engine.dispose()
    return counts


def _vm_hwm_mb(pid: int | str = "self") -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def renew_once(url: str) -> dict[str, object]:
    """One timed run in this (child) process, with the production batch size."""
    from voipdesk.billing.renewal import BATCH_SIZE, run_renewal

    postgres = url.startswith("postgresql")
    options = {"connect_args": {"application_name": "renewal-bench"}} if postgres else {}
    platform = make_platform(url, RUN_CLOCK, **options)
    before: dict[str, Any] = {}
    if postgres:
        with platform.engine.connect() as connection:
            before = dict(
                connection.execute(
                    text(
                        "SELECT pg_current_wal_lsn() AS lsn, temp_bytes FROM pg_stat_database"
                        " WHERE datname = current_database()"
                    )
                )
                .mappings()
                .one()
            )
    started = time.perf_counter()
    summary = run_renewal(platform, RUN_DATE, batch_size=BATCH_SIZE)
    seconds = time.perf_counter() - started
    result: dict[str, object] = {
        "seconds": round(seconds, 2),
        "summary": summary.as_json(),
        "peak_rss_mb": _vm_hwm_mb(),
    }
    if postgres:
        with platform.engine.connect() as connection:
            after = connection.execute(
                text(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), :lsn), temp_bytes - :temp"
                    " FROM pg_stat_database WHERE datname = current_database()"
                ),
                {"lsn": before["lsn"], "temp": before["temp_bytes"]},
            ).one()
            pids = (
                connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = 'renewal-bench'"
                    )
                )
                .scalars()
                .all()
            )
        result["wal_mb"] = round(float(after[0]) / 2**20, 1)
        result["temp_mb"] = round(float(after[1]) / 2**20, 1)
        peaks = [peak for peak in (_vm_hwm_mb(pid) for pid in pids) if peak is not None]
        result["pg_backend_peak_rss_mb"] = max(peaks) if peaks else None
    platform.engine.dispose()
    return result


def drain_once(url: str, count: int) -> dict[str, object]:
    """The outbox worker's pace on invoice e-mails (PDF rendered, e-mail stored), in a child."""
    from voipdesk.billing.actions import INVOICE_EMAIL
    from voipdesk.core.outbox import OutboxMessage, drain

    platform = make_platform(url, RUN_CLOCK + timedelta(minutes=5))
    started = time.perf_counter()
    sent = drain(platform, limit=count, where=OutboxMessage.topic == INVOICE_EMAIL)
    seconds = time.perf_counter() - started
    platform.engine.dispose()
    return {"sent": sent, "seconds": round(seconds, 2), "per_second": round(sent / seconds, 1)}


def run_child(url: str, drain: int = 0) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", url, "--drain", str(drain)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "VOIPDESK_LOG_LEVEL": "WARNING"},
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# What the April run wrote, table by table (selected after it, copied back in as the floor).
APRIL_INVOICES = "x.invoice_id IN (SELECT id FROM invoice WHERE renewal_period = '2026-04-01')"
WRITTEN = {
    "invoice": "x.renewal_period = '2026-04-01'",
    "invoice_line": APRIL_INVOICES,
    "invoice_tax": APRIL_INVOICES,
    "invoice_party": APRIL_INVOICES,
    "billing_collection": APRIL_INVOICES,
    "billing_sepa_file": "x.period_start = '2026-04-01'",
    "outbox_message": "x.delivered_at IS NULL",
    "service_event": "x.at >= '2026-04-01'",
    "service": "x.expiry_on = '2026-04-30' OR x.terminated_at >= '2026-04-01'"
    " OR x.suspended_at >= '2026-04-01' OR x.deleted_at >= '2026-04-01'",
    "pending_change": "x.state = 'applied'",
    "phone_loan": "x.return_opened_on = '2026-04-01'",
}
# Tables whose rows the run updates (new row versions): their floor table starts empty. The
# others receive new rows beside the previous month's, as the real ones did.
UPDATED = ("service", "pending_change", "phone_loan")


def copy_floor(url: str) -> dict[str, Any]:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    spool = tempfile.TemporaryDirectory()
    rows: dict[str, int] = {}
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS floor CASCADE")
        connection.execute("CREATE SCHEMA floor")
        for table, condition in WRITTEN.items():
            query = f"SELECT * FROM public.{table} x WHERE {condition}"
            connection.execute(f"CREATE TABLE floor.{table} (LIKE public.{table} INCLUDING ALL)")
            if table not in UPDATED:  # the previous month, as in the real table before the run
                connection.execute(
                    f"INSERT INTO floor.{table} SELECT * FROM public.{table} x"
                    f" WHERE NOT COALESCE({condition}, false)"
                )
            path = Path(spool.name) / f"{table}.bin"
            with (
                path.open("wb") as out,
                connection.cursor().copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
            count = connection.execute(f"SELECT COUNT(*) FROM ({query}) q").fetchone()
            rows[table] = int(count[0]) if count else 0
        connection.execute("VACUUM ANALYZE")
        connection.execute("CHECKPOINT")
        lsn = connection.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        started = time.perf_counter()
        with connection.transaction():
            cursor = connection.cursor()
            for table in WRITTEN:
                with (
                    (Path(spool.name) / f"{table}.bin").open("rb") as source,
                    cursor.copy(f"COPY floor.{table} FROM STDIN (FORMAT binary)") as copy,
                ):
                    while chunk := source.read(1 << 20):
                        copy.write(chunk)
        seconds = time.perf_counter() - started
        wal = connection.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn,)
        ).fetchone()[0]  # type: ignore[index]
        connection.execute("DROP SCHEMA floor CASCADE")
    spool.cleanup()
    return {"seconds": round(seconds, 2), "wal_mb": round(float(wal) / 2**20, 1), "rows": rows}


def cycle(arguments: argparse.Namespace, seed: int) -> dict[str, Any]:
    from voipdesk.core.db import make_engine, normalise_url
    from voipdesk.core.migrate import upgrade

    folder = tempfile.TemporaryDirectory(dir=arguments.tmp)
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
        mark = time.perf_counter()
        counts = load(url, arguments.services, seed)
        counts.update(prepare_previous_month(url, seed))
        preparation = round(time.perf_counter() - mark, 1)
        if server is not None:  # the run and the floor both start after a checkpoint
            with server.connect() as connection:
                connection.execute(text("CHECKPOINT"))
        first = run_child(url)
        second = run_child(url)
        floor = copy_floor(url) if server is not None else None
        emails = run_child(url, arguments.drain) if arguments.drain else None
    finally:
        if server is not None:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            server.dispose()
        folder.cleanup()
    return {"counts": counts, "preparation_s": preparation, "first": first, "second": second,
            "floor": floor, "emails": emails}  # fmt: skip


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="cycles, each on fresh data")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tmp", default=None, help="folder for the SQLite file")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument(
        "--drain", type=int, default=200, help="invoice e-mails to send afterwards (pace)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    os.environ.setdefault("VOIPDESK_LOG_LEVEL", "WARNING")
    if arguments.child:
        if arguments.drain:
            print(json.dumps(drain_once(arguments.child, arguments.drain)))
        else:
            print(json.dumps(renew_once(arguments.child)))
        return
    results = []
    for index in range(arguments.repeat):
        result = cycle(arguments, arguments.seed + index)
        results.append(result)
        first, second, floor = result["first"], result["second"], result["floor"]
        summary = first["summary"]
        print(
            f"cycle {index + 1}: {result['counts'].get('service', 0):,} services in"
            f" {result['counts'].get('billing_group', 0):,} groups; first {first['seconds']} s"
            f" (steps {summary['step_seconds']}), second {second['seconds']} s"
            f" (did nothing: {second['summary']['did_nothing']}), child peak"
            f" {first['peak_rss_mb']} MB"
            + (
                f", WAL {first.get('wal_mb')} MB, PG backend peak {first.get('pg_backend_peak_rss_mb')} MB,"
                f" COPY floor {floor['seconds']} s (WAL {floor['wal_mb']} MB),"
                f" ratio {first['seconds'] / floor['seconds']:.2f}"
                if floor
                else ""
            ),
            flush=True,
        )
    last = results[-1]
    summary = last["first"]["summary"]
    print(
        f"\nRenewal benchmark on {arguments.database}, {arguments.repeat} cycle(s), seed {arguments.seed}"
    )
    print("data: " + ", ".join(f"{k} {v:,}" for k, v in last["counts"].items()))
    print(
        f"first run made: {summary['invoices_created']:,} invoices, {summary['services_renewed']:,}"
        f" services renewed, {summary['changes_applied']:,} changes applied,"
        f" {summary['sepa_debits']:,} SEPA debits, {summary['card_collections']:,} card collections,"
        f" {summary['invoice_emails']:,} invoice e-mails queued, suspended {summary['services_suspended']:,},"
        f" cancelled at expiry {summary['services_cancelled_at_expiry']:,}, total incl. tax"
        f" {summary['total_incl_tax']} EUR"
    )
    firsts = [float(r["first"]["seconds"]) for r in results]
    seconds = [float(r["second"]["seconds"]) for r in results]
    print(f"first run s: {spread(firsts)}   second run s: {spread(seconds)}")
    print(f"child peak MB: {spread([float(r['first']['peak_rss_mb'] or 0) for r in results])}")
    if last["floor"]:
        floors = [float(r["floor"]["seconds"]) for r in results]
        ratios = [float(r["first"]["seconds"]) / float(r["floor"]["seconds"]) for r in results]
        print(f"COPY floor s: {spread(floors)}   ratio: {spread(ratios)}")
        print(f"WAL MB run: {spread([float(r['first']['wal_mb']) for r in results])}"
              f"   floor: {spread([float(r['floor']['wal_mb']) for r in results])}")  # fmt: skip
        print(
            f"PG backend peak RSS MB: {spread([float(r['first']['pg_backend_peak_rss_mb'] or 0) for r in results])}"
        )
        print(f"floor rows: {last['floor']['rows']}")
    if last.get("emails"):
        print(
            "invoice e-mails sent by one outbox worker afterwards: "
            + "; ".join(
                f"{r['emails']['sent']} in {r['emails']['seconds']} s ({r['emails']['per_second']}/s)"
                for r in results
            )
        )
    print(
        "steps of each first run: "
        + "; ".join(str(r["first"]["summary"]["step_seconds"]) for r in results)
    )
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
