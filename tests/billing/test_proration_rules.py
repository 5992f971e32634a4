"""Proration rule: the parts of a month add up to the month's price, and the SQL the renewal runs
computes the same cents as the rule."""

from __future__ import annotations

import calendar
import sqlite3
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voipdesk.billing import rules

prices = st.integers(min_value=0, max_value=100_000_000)  # up to 10,000 EUR, 1/10 000 steps
months = st.sampled_from([28, 29, 30, 31])


@given(prices, months, st.lists(st.integers(min_value=2, max_value=31), max_size=8))
def test_the_parts_of_a_month_add_up_to_its_price(price, days_in_month, cuts):
    starts = sorted({1, *(cut for cut in cuts if cut <= days_in_month)})
    ends = [start - 1 for start in starts[1:]] + [days_in_month]
    parts = [
        rules.days_cents(price, first, last, days_in_month)
        for first, last in zip(starts, ends, strict=True)
    ]
    assert sum(parts) == rules.month_cents(price)
    assert all(part >= 0 for part in parts)


@given(prices, months, st.data())
def test_a_part_is_its_share_of_the_month_to_within_a_cent(price, days_in_month, data):
    first = data.draw(st.integers(min_value=1, max_value=days_in_month))
    last = data.draw(st.integers(min_value=first, max_value=days_in_month))
    exact = Decimal(price) / 100 * (last - first + 1) / days_in_month
    assert abs(rules.days_cents(price, first, last, days_in_month) - exact) <= 1


@given(prices)
def test_a_whole_month_is_the_price_rounded_half_up_to_the_cent(price):
    expected = (Decimal(price) / 10_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert rules.month_cents(price) == int(expected * 100)


def test_examples():
    # 1.9990 EUR a month, 31 days: the first 10 days 0.64 EUR, the other 21 days 1.36 EUR.
    assert rules.days_cents(19_990, 1, 10, 31) == 64
    assert rules.days_cents(19_990, 11, 31, 31) == 136
    assert rules.days_cents(50_000, 15, 30, 30) == 267  # 16 days of 5.00 EUR in April
    assert calendar.monthrange(2026, 2)[1] == 28
    with pytest.raises(ValueError):
        rules.days_cents(100, 5, 40, 31)


@given(st.lists(st.tuples(prices, months, st.integers(0, 31)), min_size=1, max_size=20))
def test_the_sql_expression_computes_the_same_cents(rows):
    rows = [(price, days_in_month, min(days, days_in_month)) for price, days_in_month, days in rows]
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (price INTEGER, d INTEGER, k INTEGER)")
    connection.executemany("INSERT INTO t VALUES (?, ?, ?)", [(p, d, k) for p, d, k in rows])
    expression = rules.cumulative_cents_sql("price", "k", "d")
    got = [value for (value,) in connection.execute(f"SELECT {expression} FROM t ORDER BY rowid")]
    assert got == [rules.cumulative_cents(p, k, d) for p, d, k in rows]
