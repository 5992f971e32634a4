"""Benchmark of the routing records: what the switch reads per call, and their rebuild.

1. Lookups: N compiled records (lines, half by SIP username and half by E.164 number), then K
   calls of `telephony.queries.routing_record_for` on random keys from one process holding one
   session, as a switch worker would (the target: about 5,000 calls per second on this machine).
2. Rebuild: M lines delivered through the real delivery (which builds their records), then one
   `telephony.actions.routing.rebuild` of all of them after a change (what a renewal run does).

    uv run python bench/routing.py --database sqlite --records 100000 --lookups 50000
    uv run python bench/routing.py --database postgresql --records 100000 --lookups 50000
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, insert, text

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _platform(database: str, server_url: str, folder: Path):  # type: ignore[no-untyped-def]
    from voipdesk.areas import load_handlers
    from voipdesk.core.clock import MovableClock
    from voipdesk.core.db import make_engine, normalise_url
    from voipdesk.core.migrate import upgrade
    from voipdesk.core.platform import Platform
    from voipdesk.core.settings import Settings

    load_handlers()
    cleanup = None
    if database == "sqlite":
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
    else:
        server = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
        name = f"voipdesk_bench_{uuid.uuid4().hex[:8]}"
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = normalise_url(server_url).rsplit("/", 1)[0] + f"/{name}"

        def cleanup() -> None:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    settings = Settings(_env_file=None, database_url=url, smtp_host=None)  # type: ignore[call-arg]
    engine = make_engine(url)
    upgrade(engine)
    return Platform(settings=settings, engine=engine, clock=MovableClock(NOW)), cleanup


def lookups(platform, records: int, count: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from voipdesk.telephony import rules
    from voipdesk.telephony.models import RoutingRecord
    from voipdesk.telephony.queries import routing_record_for

    rows = []
    for index in range(records):
        number = f"+3341{index:07d}"
        facts = rules.LineFacts(
            number=number,
            kind="sip_line",
            state="active",
            billing_group_id=f"g{index // 10}",
            sip_username=number[1:],
            sip_ha1=f"{index:032x}",
            offer="sip-entreprise",
            simultaneous_calls=2,
            outgoing_calls=True,
            settings={"forwards": {"busy": {"target": "voicemail", "number": None, "delay": None}}},
        )
        rows.append(
            {
                "number": number,
                "sip_username": number[1:],
                "service_id": f"{index:032x}",
                "kind": "sip_line",
                "version": 1,
                "record": rules.compile_record(facts, "sip.example"),
                "updated_at": NOW,
            }
        )
    with platform.transaction() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(RoutingRecord), rows[start : start + 5000])
    rng = random.Random(7)
    keys = [
        (f"+3341{i:07d}" if n % 2 else f"3341{i:07d}")
        for n, i in enumerate(rng.randrange(records) for _ in range(count))
    ]
    with platform.session() as session:
        for key in keys[:1000]:  # warm-up (statement cache, pages)
            routing_record_for(session, key)
        started = time.perf_counter()
        for key in keys:
            found = routing_record_for(session, key)
            assert found is not None
        elapsed = time.perf_counter() - started
    return count / elapsed, elapsed * 1e6 / count


def rebuild(platform, lines: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from voipdesk.accounts.actions import SignUpData, sign_up
    from voipdesk.subscriptions.models import Service
    from voipdesk.subscriptions.provisioning import (
        DeliveryRequest,
        SipLineRequest,
        provision_delivery,
    )
    from voipdesk.telephony.actions import routing

    account = sign_up(
        platform,
        SignUpData(
            kind="individual",
            first_name="Bench",
            last_name="Mark",
            email="bench@example.org",
            password="Correct-Horse-Battery-42!",
            country="FR",
            language="fr",
            address_line1="1 rue de la Paix",
            postal_code="75002",
            city="Paris",
            mobile="+33612345678",
        ),
    )
    started = time.perf_counter()
    for batch in range(lines // 100):
        request = DeliveryRequest(
            account_id=account.id,
            order_id=uuid.uuid4().hex,
            billing_group_id=None,
            sip_lines=[
                SipLineRequest("sip-entreprise", f"+3342{batch:04d}{n:03d}", 2, [], Decimal("5"))
                for n in range(100)
            ],
            alias_numbers=[],
            alias_pool=False,
            fax_lines=[],
            phone_loans=[],
        )
        with platform.transaction() as session:
            provision_delivery(session, platform, request)
    delivered = time.perf_counter() - started
    with platform.transaction() as session:
        ids = list(session.scalars(select(Service.id).where(Service.kind == "sip_line")))
        session.execute(text("UPDATE service SET simultaneous_calls = 3"))
        started = time.perf_counter()
        changed = routing.rebuild(session, platform, ids)
        elapsed = time.perf_counter() - started
    assert changed == len(ids)
    return len(ids) / elapsed, lines / delivered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=50_000)
    parser.add_argument("--lines", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        platform, cleanup = _platform(args.database, args.server_url, Path(folder))
        try:
            rate, micros = lookups(platform, args.records, args.lookups)
            print(
                f"{args.database}: {args.records} records, {args.lookups} lookups: "
                f"{rate:,.0f} lookups/s ({micros:.0f} µs each)"
            )
            rebuilt, delivered = rebuild(platform, args.lines)
            print(
                f"{args.database}: {args.lines} lines delivered at {delivered:,.0f} lines/s "
                f"(records built in the same transactions); rebuild of all after a change: "
                f"{rebuilt:,.0f} records/s"
            )
        finally:
            platform.engine.dispose()
            if cleanup is not None:
                cleanup()


if __name__ == "__main__":
    main()
