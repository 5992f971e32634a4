"""Money: exact decimals, half-up cents, locale formats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voipdesk.core.money import Money, round_cents

AMOUNTS = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=4)


def test_rounding_is_half_up_to_the_cent():
    assert round_cents(Decimal("0.005")) == Decimal("0.01")
    assert round_cents(Decimal("0.015")) == Decimal("0.02")  # not banker's rounding
    assert round_cents(Decimal("2.675")) == Decimal("2.68")  # a float would give 2.67
    assert round_cents(Decimal("-0.005")) == Decimal("-0.01")
    assert round_cents(Decimal("0.0049")) == Decimal("0.00")


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        Money(1.10)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(Decimal("1")) * 1.5  # type: ignore[operator]


def test_money_formats_per_language():
    amount = Money(Decimal("1234.5"))
    assert amount.format("fr") == "1\u202f234,50\xa0€"
    assert amount.format("en") == "€1,234.50"


def test_money_as_json_is_a_decimal_string():
    assert Money(Decimal("1")).as_json() == {"amount": "1.00", "currency": "EUR"}
    assert Money(Decimal("0.125")).as_json() == {"amount": "0.13", "currency": "EUR"}


def test_currencies_do_not_mix():
    with pytest.raises(ValueError):
        Money(Decimal("1"), "EUR") + Money(Decimal("1"), "CHF")


@settings(max_examples=100)
@given(AMOUNTS, AMOUNTS)
def test_addition_and_subtraction_are_exact(a, b):
    total = Money(a) + Money(b)
    assert isinstance(total.amount, Decimal)
    assert total.amount == a + b
    assert (total - Money(b)).amount == a


@settings(max_examples=100)
@given(AMOUNTS, st.integers(min_value=-1000, max_value=1000))
def test_multiplication_by_int_or_decimal_stays_decimal(a, factor):
    assert (Money(a) * factor).amount == a * factor
    assert (Money(a) * Decimal(factor)).amount == a * factor
    assert isinstance((factor * Money(a)).amount, Decimal)


@settings(max_examples=100)
@given(AMOUNTS)
def test_rounded_is_within_half_a_cent_and_idempotent(a):
    rounded = Money(a).rounded()
    assert abs(rounded.amount - a) <= Decimal("0.005")
    assert rounded.rounded() == rounded
    assert rounded.amount == rounded.amount.quantize(Decimal("0.01"))
