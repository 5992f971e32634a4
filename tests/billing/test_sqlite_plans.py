# ruff: noqa: E501  (SQL reads better unwrapped)
"""On SQLite the renewal stays linear: at 100,000 services, with or without the statistics that
`PRAGMA optimize` keeps, no statement of the run reads a table once per row of another (no scan
inside a loop or a correlated subquery), and no per-batch statement scans a large table."""

from __future__ import annotations

import random
import re
import shutil
import sqlite3
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from tests.billing.test_crash_and_rerun import _platform, _populate
from voipdesk.billing.renewal import run_renewal

SERVICES = 100_000
GROUP_SIZE = 10
LARGE = {"service", "invoice", "invoice_line", "invoice_tax", "billing_group", "pending_change",
         "account", "billing_collection", "outbox_message", "invoice_party", "payment_method"}  # fmt: skip
# Inside a correlated subquery, a lookup must be by the outer row's key.
KEYED = re.compile(r"\((service_id|invoice_id|id|billing_group_id|code)=\?")


def _big_database(path) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    connection = sqlite3.connect(path)
    created = "2026-03-01 09:00:00.000000"
    groups = SERVICES // GROUP_SIZE
    accounts, group_rows, services, changes = [], [], [], []
    for index in range(groups):
        account = f"{rng.getrandbits(128):032x}"
        group = f"{rng.getrandbits(128):032x}"
        accounts.append((account, f"p{index:07d}-vd", "company", "FR", "fr", "A", "B", "C", "1 rue",
                         "75002", "Paris", f"p{index}@plan.example", "x", 0, created))  # fmt: skip
        group_rows.append((group, account, "g", account, account, account, "FR", "active", created))
        for position in range(GROUP_SIZE):
            service = f"{rng.getrandbits(128):032x}"
            services.append((service, group, account, "sip_line", f"+3399{index:06d}{position}",
                             "sip-decouverte", 1, 1, 19_900, "FR", "automatic", "active",
                             "2026-03-31", 0, created))  # fmt: skip
            if rng.random() < 0.02:
                kind = rng.choice(("offer_change", "simultaneous_calls_decrease", "termination",
                                   "line_to_alias"))  # fmt: skip
                changes.append((f"{rng.getrandbits(128):032x}", group, service, kind,
                                "sip-entreprise", 1, 50_000, "move", "{}", "2026-04-01",
                                "pending", created, "plan"))  # fmt: skip
    with connection:
        connection.executemany(
            f"INSERT INTO account (id, handle, kind, country, language, first_name, last_name, organisation_name, address_line1, postal_code, city, email, password_hash, is_staff, created_at) VALUES ({', '.join('?' * 15)})",
            accounts,
        )
        connection.executemany(
            f"INSERT INTO billing_group (id, account_id, name, admin_account_id, tech_account_id, billing_account_id, tax_country, state, created_at) VALUES ({', '.join('?' * 9)})",
            group_rows,
        )
        connection.executemany(
            f"INSERT INTO service (id, billing_group_id, account_id, kind, number_e164, offer_code, simultaneous_calls, outgoing_calls, monthly_price_e4, tax_country, renewal_mode, state, expiry_on, cancel_at_expiry, created_at) VALUES ({', '.join('?' * 15)})",
            services,
        )
        connection.executemany(
            f"INSERT INTO pending_change (id, billing_group_id, service_id, kind, new_offer_code, new_simultaneous_calls, new_monthly_price_e4, reason, params, effective_on, state, requested_at, requested_by) VALUES ({', '.join('?' * 13)})",
            changes,
        )
    connection.close()


def _statements_of_a_run(sqlite_template, tmp_path, clock) -> list[tuple[str, tuple]]:  # type: ignore[no-untyped-def]
    """Every statement a renewal run executes (captured on a small database: the SQL is the
    same whatever the size)."""
    path = tmp_path / "small.sqlite3"
    shutil.copy(sqlite_template, path)
    platform = _platform(f"sqlite:///{path}", clock)
    _populate(platform, 6)
    captured: list[tuple[str, tuple]] = []

    @event.listens_for(platform.engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "SELECT", "DELETE")):
            # executemany (the routing records' bulk updates): one parameter set tells the plan.
            first = parameters[0] if executemany and parameters else parameters
            captured.append((statement, tuple(first or ())))

    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1), batch_size=2)
    platform.engine.dispose()
    return captured


def _problems(statement: str, plan: list[tuple]) -> list[str]:
    children: dict[int, list[tuple]] = {}
    for row in plan:
        children.setdefault(row[1], []).append(row)
    problems = []
    per_batch = "billing_group_id > ?" in statement or "id > ? AND id <= ?" in statement

    def walk(parent: int, correlated: bool) -> None:
        loops = 0
        for node_id, _, _, detail in children.get(parent, []):
            is_loop = detail.startswith(("SCAN", "SEARCH"))
            table = detail.split()[1] if is_loop else ""
            if detail.startswith("SCAN") and (loops or correlated):
                problems.append(f"scan inside a loop: {detail}")
            if correlated and detail.startswith("SEARCH") and not KEYED.search(detail):
                problems.append(f"correlated lookup not by key: {detail}")
            if per_batch and detail.startswith("SCAN") and _real(table, statement) in LARGE:
                problems.append(f"per-batch scan of a large table: {detail}")
            loops += is_loop
            walk(node_id, correlated or detail.startswith("CORRELATED"))

    walk(0, False)
    return problems


def _real(alias: str, statement: str) -> str:
    match = re.search(rf"\b(\w+)\s+(?:AS\s+)?{re.escape(alias)}\b", statement)
    return alias if alias in LARGE or not match else match.group(1)


@pytest.mark.parametrize("statistics", ["none", "after PRAGMA optimize"])
def test_no_statement_of_the_run_is_quadratic_at_100k_services(
    sqlite_template, tmp_path, clock, statistics
):
    statements = _statements_of_a_run(sqlite_template, tmp_path, clock)
    assert len(statements) > 30
    big = tmp_path / "big.sqlite3"
    shutil.copy(sqlite_template, big)
    _big_database(big)
    connection = sqlite3.connect(big)
    assert connection.execute("SELECT COUNT(*) FROM service").fetchone()[0] == SERVICES
    if statistics != "none":
        connection.execute("PRAGMA analysis_limit = 1000")
        connection.execute("ANALYZE")
        assert connection.execute("SELECT COUNT(*) FROM sqlite_stat1").fetchone()[0] > 0
    found = {}
    for statement, parameters in statements:
        plan = connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
        if problems := _problems(statement, plan):
            found[" ".join(statement.split())[:160]] = problems
    connection.close()
    assert found == {}
