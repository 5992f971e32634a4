"""The one-pass import and rating of a file on PostgreSQL (`bulk.import_and_rate_postgresql`):
its fast path (straight into the call records) and its fallback (some keys stored already)
give the ratings of the per-line path, line-month by line-month, inclusions in call order;
each call is stored once; a bad line refuses the file with its number, nothing stored."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from tests.accounts.factories import make_account
from tests.subscriptions.factories import deliver
from voipdesk.consumption import bulk, errors
from voipdesk.consumption.models import RatedCall
from voipdesk.consumption.services import rate_everything_pending
from voipdesk.switch.models import CallRecord

CALLEES = ("+33612345678", "+33123456789", "+33899123456", "+14155552671", "+33800123456")
HEADER = (
    "call_key,caller,callee,direction,line_number,billing_group_id,started_at,answered_at,"
    "ended_at,duration_seconds,disposition,sip_code\n"
)


# The one-pass import is PostgreSQL's (COPY): these tests run on PostgreSQL only, and are not
# skipped on SQLite (CI counts a skip as a missing component).
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def lines(platform):
    account = make_account(platform)
    result = deliver(
        platform, account.id, lines=[("sip-entreprise", 2), ("sip-decouverte", 2)],
        options=["option-mobile-hours-10"],
    )  # fmt: skip
    return [c.number_e164 for c in result.sip_credentials], result.billing_group_id


def _rows(numbers, group, count, seed, prefix):
    rng = random.Random(seed)
    start = datetime(2026, 2, 27, 0, 0, tzinfo=UTC)  # February and March
    out = []
    for i in range(count):
        number = rng.choice(numbers)
        started = start + timedelta(minutes=rng.randrange(0, 40_000))
        direction = rng.choice(("outgoing", "outgoing", "incoming"))
        other = rng.choice(CALLEES)
        caller, callee = (other, number) if direction == "incoming" else (number, other)
        answered = rng.random() > 0.2
        seconds = rng.randrange(1, 5000) if answered else 0
        answered_at = started + timedelta(seconds=5) if answered else None
        out.append(
            f"{prefix}-{i},{caller},{callee},{direction},{number},"
            f"{group if rng.random() < 0.5 else ''},"
            f"{started.isoformat()},{answered_at.isoformat() if answered_at else ''},"
            f"{(started + timedelta(seconds=5 + seconds)).isoformat()},{seconds},"
            f"{'answered' if answered else 'no_answer'},{200 if answered else ''}\n"
        )
    return out


def _write(path, rows):
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _ratings(platform):
    with platform.session() as session:
        return sorted(
            (r.call_key, r.billing_group_id, r.line_number, r.month, r.started_at, r.destination,
             r.billed_seconds, r.included_seconds, r.price_e4)
            for r in session.scalars(select(RatedCall))
        )  # fmt: skip


def _per_line_ratings(platform):
    """The same calls rated again by the per-line path (the rating job's)."""
    with platform.transaction() as session:
        session.execute(delete(RatedCall))
    rate_everything_pending(platform)
    return _ratings(platform)


def _count(platform, model):
    with platform.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_fast_path_rates_as_the_per_line_path(platform, lines, tmp_path):
    numbers, group = lines
    path = _write(tmp_path / "a.csv", _rows(numbers, group, 400, 1, "a"))
    result = bulk.import_and_rate_postgresql(platform, path)
    assert (result.read, result.stored, result.rated, result.fast) == (400, 400, 400, True)
    ratings = _ratings(platform)
    assert {r[1] for r in ratings} == {group}  # records without their group: the line's
    assert sum(r[7] for r in ratings) > 2 * 36_000  # the 10 hours to mobiles used, 2 months
    assert _per_line_ratings(platform) == ratings
    with platform.session() as session:
        assert set(session.scalars(select(CallRecord.billing_group_id))) == {group}


def test_new_calls_in_months_already_stored_rate_them_again_as_a_whole(platform, lines, tmp_path):
    numbers, group = lines
    first = _write(tmp_path / "a.csv", _rows(numbers, group, 300, 1, "a"))
    bulk.import_and_rate_postgresql(platform, first)
    later = bulk.import_and_rate_postgresql(
        platform, _write(tmp_path / "b.csv", _rows(numbers, group, 300, 2, "b"))
    )
    assert (later.stored, later.fast) == (300, True)
    assert later.rated == 600  # the lines' months rated again with the calls stored before
    ratings = _ratings(platform)
    assert len(ratings) == 600
    assert _per_line_ratings(platform) == ratings


def test_a_file_imported_again_stores_and_rates_nothing_more(platform, lines, tmp_path):
    numbers, group = lines
    path = _write(tmp_path / "a.csv", _rows(numbers, group, 200, 1, "a"))
    bulk.import_and_rate_postgresql(platform, path)
    before = _ratings(platform)
    again = bulk.import_and_rate_postgresql(platform, path)
    assert (again.read, again.stored, again.rated, again.fast) == (200, 0, 0, False)
    assert _count(platform, CallRecord) == 200
    assert _ratings(platform) == before


def test_fallback_stores_the_new_calls_once_and_rates_their_months_whole(platform, lines, tmp_path):
    numbers, group = lines
    first = _rows(numbers, group, 300, 1, "a")
    bulk.import_and_rate_postgresql(platform, _write(tmp_path / "a.csv", first))
    new = _rows(numbers, group, 200, 3, "c")
    mixed = first[:150] + new + new[:10]  # known keys, new ones, and new ones twice
    result = bulk.import_and_rate_postgresql(platform, _write(tmp_path / "m.csv", mixed))
    assert (result.read, result.stored, result.fast) == (360, 200, False)
    assert _count(platform, CallRecord) == 500
    ratings = _ratings(platform)
    assert len(ratings) == 500 and result.rated <= 500
    assert _per_line_ratings(platform) == ratings


def test_a_bad_line_refuses_the_file_with_its_number(platform, lines, tmp_path):
    numbers, group = lines
    rows = _rows(numbers, group, 100, 1, "a")
    rows[41] = rows[41].replace(",outgoing,", ",sideways,").replace(",incoming,", ",sideways,")
    with pytest.raises(errors.InvalidImport) as refused:
        bulk.import_and_rate_postgresql(platform, _write(tmp_path / "bad.csv", rows))
    assert "Line 43 " in str(refused.value) and "sideways" in str(refused.value)
    assert _count(platform, CallRecord) == 0 and _count(platform, RatedCall) == 0
    # and nothing is left locked or half-written: the good file goes in afterwards
    result = bulk.import_and_rate_postgresql(platform, _write(tmp_path / "ok.csv", rows[:41]))
    assert (result.stored, result.rated, result.fast) == (41, 41, True)


def test_a_bad_line_in_the_fallback_refuses_the_file(platform, lines, tmp_path):
    numbers, group = lines
    rows = _rows(numbers, group, 100, 1, "a")
    bulk.import_and_rate_postgresql(platform, _write(tmp_path / "a.csv", rows))
    broken = [*rows, rows[0].replace(",answered,", ",maybe,").replace(",no_answer,", ",maybe,")]
    with pytest.raises(errors.InvalidImport) as refused:
        bulk.import_and_rate_postgresql(platform, _write(tmp_path / "b.csv", broken))
    assert "Line 102 " in str(refused.value)
    assert _count(platform, CallRecord) == 100


def test_values_with_the_copy_format_s_characters_are_stored_as_they_are(platform, lines, tmp_path):
    number = lines[0][0]
    keys = ["back\\slash", '"tab\there"', "\\N", '"line\nbreak"']
    rows = [
        f"{key},{number},+33612345678,outgoing,{number},,2026-03-02T11:0{i}:00+01:00,,,60,"
        "answered,\n"
        for i, key in enumerate(keys)
    ]
    result = bulk.import_and_rate_postgresql(platform, _write(tmp_path / "odd.csv", rows))
    assert (result.stored, result.rated, result.fast) == (4, 4, True)
    with platform.session() as session:
        stored = set(session.scalars(select(CallRecord.call_key)))
        rated = set(session.scalars(select(RatedCall.call_key)))
    assert stored == rated == {"back\\slash", "tab\there", "\\N", "line\nbreak"}


def test_a_file_with_quotes_is_read_as_the_same_file_without(platform, lines, tmp_path):
    numbers, group = lines
    plain = _rows(numbers, group, 50, 5, "p")
    quoted = [
        ",".join(f'"{v}"' for v in row.rstrip("\n").split(",")) + "\r\n"
        for row in _rows(numbers, group, 50, 5, "q")
    ]
    first = bulk.import_and_rate_postgresql(
        platform, _write(tmp_path / "p.csv", [*plain[:25], "\n", *plain[25:]])
    )
    second = bulk.import_and_rate_postgresql(platform, _write(tmp_path / "q.csv", quoted))
    assert (first.stored, second.stored, second.fast) == (50, 50, True)
    with platform.session() as session:
        records = [
            (r.call_key[2:], r.caller, r.callee, r.direction, r.line_number, r.started_at,
             r.answered_at, r.ended_at, r.duration_seconds, r.disposition, r.sip_code)
            for r in session.scalars(select(CallRecord))
        ]  # fmt: skip
    assert len(records) == 100 and len(set(records)) == 50  # the same 50 calls twice


def test_a_key_twice_in_a_new_file_is_stored_once(platform, lines, tmp_path):
    numbers, group = lines
    rows = _rows(numbers, group, 60, 9, "d")
    result = bulk.import_and_rate_postgresql(platform, _write(tmp_path / "d.csv", [*rows, rows[7]]))
    assert (result.read, result.stored, result.rated, result.fast) == (61, 60, 60, False)
    ratings = _ratings(platform)
    assert len(ratings) == 60
    assert _per_line_ratings(platform) == ratings
