"""Benchmark of the switch's lookup of an alias number's compiled configuration.

Writes N configured alias numbers (IVR with a queue, compiled by the real rules), then times
`telephony.aliases.queries.compiled_configuration(session, number)` for random numbers: one
lookup per call, as the switch will do, in one thread with one session (the switch's Python
routing holds a connection per worker).

    uv run python bench/alias_lookup.py --database sqlite --numbers 100000 --lookups 50000
    uv run python bench/alias_lookup.py --database postgresql --numbers 100000 --lookups 50000

PostgreSQL: a throw-away database is created on the server of --server-url and dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from voipdesk.areas import load_models
from voipdesk.core.db import make_engine, normalise_url
from voipdesk.core.migrate import upgrade
from voipdesk.telephony.aliases import queries, rules
from voipdesk.telephony.aliases.models import AliasConfiguration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def settings_for(lines: list[str]) -> dict:
    members = [{"kind": "line", "number": n} for n in lines]
    return {
        "greeting": {"text": "Bonjour", "language": "fr", "audio_id": "0" * 32},
        "root": "main",
        "queues": [{"id": "sales", "name": "Sales", "members": members}],
        "menus": [
            {
                "id": "main",
                "name": "Main",
                "keys": [
                    {"key": "1", "action": "line", "target": lines[0]},
                    {"key": "2", "action": "queue", "target": "sales"},
                ],
            }
        ],
        "opening_hours": {
            "timezone": "Europe/Paris",
            "periods": [{"days": ["mon", "tue", "wed"], "start": "09:00", "end": "18:00"}],
            "holidays_country": "FR",
        },
    }


def fill(engine, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import Session

    from voipdesk.accounts.models import Account
    from voipdesk.subscriptions.models import BillingGroup

    with Session(engine) as session, session.begin():
        session.add(
            Account(
                id="bench", handle="be00000-vd", kind="company", country="FR", language="fr",
                first_name="Bench", last_name="Mark", address_line1="1 rue", postal_code="69001",
                city="Lyon", email="bench@example.org", password_hash="x", created_at=NOW,
            )
        )  # fmt: skip
        session.flush()
        session.add(
            BillingGroup(
                id="group", account_id="bench", name="bench", admin_account_id="bench",
                tech_account_id="bench", billing_account_id="bench", tax_country="FR",
                state="active", created_at=NOW,
            )
        )  # fmt: skip
    numbers = [f"+3397{index:07d}" for index in range(count)]
    compiled_template = rules.compile_configuration(
        "+33970000000", rules.IVR, settings_for(["+33478000001", "+33478000002"]), 1, year=2026
    )
    batch = []
    for number in numbers:
        batch.append(
            {
                "id": uuid.uuid4().hex,
                "number_e164": number,
                "billing_group_id": "group",
                "service_id": uuid.uuid4().hex,
                "kind": rules.IVR,
                "settings": {},
                "compiled": {**compiled_template, "number": number},
                "version": 1,
                "updated_at": NOW,
                "updated_by": "bench",
            }
        )
        if len(batch) == 5000:
            with engine.begin() as connection:
                connection.execute(insert(AliasConfiguration), batch)
            batch = []
    if batch:
        with engine.begin() as connection:
            connection.execute(insert(AliasConfiguration), batch)
    return numbers


def run(url: str, count: int, lookups: int) -> None:
    load_models()
    engine = make_engine(url)
    upgrade(engine)
    numbers = fill(engine, count)
    rng = random.Random(7)
    wanted = [rng.choice(numbers) for _ in range(lookups)]
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        for number in wanted[:1000]:  # warm the caches
            queries.compiled_configuration(session, number)
        started = time.perf_counter()
        for number in wanted:
            found = queries.compiled_configuration(session, number)
            assert found is not None
        elapsed = time.perf_counter() - started
    engine.dispose()
    print(
        f"{engine.dialect.name}: {count} numbers, {lookups} lookups in {elapsed:.2f} s = "
        f"{lookups / elapsed:,.0f} lookups/s ({elapsed / lookups * 1e6:.0f} µs each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=50_000)
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    arguments = parser.parse_args()
    if arguments.database == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", arguments.numbers, arguments.lookups)
        return
    server = create_engine(normalise_url(arguments.server_url), isolation_level="AUTOCOMMIT")
    name = f"voipdesk_bench_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(
            normalise_url(arguments.server_url).rsplit("/", 1)[0] + f"/{name}",
            arguments.numbers,
            arguments.lookups,
        )
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


if __name__ == "__main__":
    main()
