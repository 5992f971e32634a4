"""The month rated at once (the benchmark's path) gives exactly the ratings of the per-line
path, inclusions in call order included; the server-side import (COPY) stores a file once."""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.consumption.factories import call, store
from tests.subscriptions.factories import deliver
from voipdesk.consumption import bulk, importer
from voipdesk.consumption.models import RatedCall
from voipdesk.consumption.services import rate_everything_pending

CALLEES = ("+33612345678", "+33123456789", "+33899123456", "+14155552671", "+33800123456")


def _ratings(platform):
    with platform.session() as session:
        return sorted(
            (r.call_key, r.billing_group_id, r.month, r.destination, r.billed_seconds,
             r.included_seconds, r.price_e4)
            for r in session.scalars(select(RatedCall))
        )  # fmt: skip


def test_bulk_rating_equals_the_per_line_rating(platform):
    account = make_account(platform)
    result = deliver(
        platform, account.id, lines=[("sip-entreprise", 2), ("sip-decouverte", 2)],
        options=["option-mobile-hours-10"],
    )  # fmt: skip
    numbers = [c.number_e164 for c in result.sip_credentials]
    rng = random.Random(7)
    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    calls = [
        call(rng.choice(numbers), result.billing_group_id, rng.choice(CALLEES),
             start + timedelta(minutes=rng.randrange(0, 40_000)), rng.randrange(0, 5000),
             direction=rng.choice(("outgoing", "outgoing", "incoming")))
        for _ in range(300)
    ]  # fmt: skip
    store(platform, *calls)
    rate_everything_pending(platform)
    per_line = [r for r in _ratings(platform) if r[2] == date(2026, 3, 1)]
    assert sum(r[5] for r in per_line) > 36_000  # the 10 hours to mobiles were used up
    assert bulk.rate_month_bulk(platform, date(2026, 3, 1)) == len(per_line)
    assert [r for r in _ratings(platform) if r[2] == date(2026, 3, 1)] == per_line
    assert bulk.rate_month_bulk(platform, date(2026, 3, 1)) == len(per_line)  # again: same
    assert [r for r in _ratings(platform) if r[2] == date(2026, 3, 1)] == per_line


def test_server_side_import_stores_once(platform, tmp_path):
    account = make_account(platform)
    result = deliver(platform, account.id, lines=[("sip-decouverte", 2)])
    number = result.sip_credentials[0].number_e164
    path = tmp_path / "calls.csv"
    path.write_text(
        "caller,callee,direction,line_number,started_at,duration_seconds,disposition\n"
        f"{number},+33612345678,outgoing,{number},2026-03-02T11:00:00+01:00,120,answered\n"
        f"{number},+33612345679,outgoing,{number},2026-03-02T11:30:00+01:00,60,answered\n",
        encoding="utf-8",
    )

    def load():  # type: ignore[no-untyped-def]
        if platform.engine.dialect.name == "postgresql":
            return bulk.import_csv_postgresql(platform, path)
        with path.open() as source:
            return importer.import_calls(platform, importer.read_calls(io.StringIO(source.read())))

    first, second = load(), load()
    assert (first.read, first.stored, second.stored) == (2, 2, 0)
    rate_everything_pending(platform)
    ratings = _ratings(platform)
    assert {r[1] for r in ratings} == {result.billing_group_id}
    assert sorted(r[6] for r in ratings) == [1000, 2000]
