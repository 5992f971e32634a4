"""The spending cap's rules: the catalogue's policy (what holds, new customers' lower default and
maximum), the cap a customer may choose, and the warnings, each sent once per arming (armed
again when the month's amount falls below the threshold relative to the cap)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voipdesk.catalogue.rules import (
    BUILT_IN_SPENDING_CAP_POLICY,
    SpendingCapPolicy,
    spending_cap_policy_problems,
)
from voipdesk.consumption import rules

cents = st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c) / 100)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@st.composite
def valid_policies(draw) -> SpendingCapPolicy:
    amounts = sorted(draw(st.lists(cents, min_size=5, max_size=5)))
    minimum, new_default, new_maximum_or_default, third, maximum = amounts
    # minimum <= new default <= new maximum <= maximum and new default <= default <= maximum
    new_maximum, default = sorted((new_maximum_or_default, third))
    if draw(st.booleans()):
        new_maximum, default = default, new_maximum
    return SpendingCapPolicy(
        default=default,
        maximum=maximum,
        new_customer_default=new_default,
        new_customer_maximum=new_maximum,
        minimum=minimum,
        new_customer_days=draw(st.integers(min_value=0, max_value=3650)),
    )


def test_the_built_in_policy_holds():
    assert spending_cap_policy_problems(BUILT_IN_SPENDING_CAP_POLICY) == {}


@given(valid_policies())
def test_ordered_policies_hold(policy):
    assert spending_cap_policy_problems(policy) == {}


@given(st.lists(cents, min_size=5, max_size=5), st.integers(min_value=-5, max_value=4000))
def test_a_policy_holds_exactly_when_its_amounts_are_ordered(amounts, days):
    default, maximum, new_default, new_maximum, minimum = amounts
    policy = SpendingCapPolicy(default, maximum, new_default, new_maximum, minimum, days)
    ordered = (
        minimum <= new_default <= new_maximum <= maximum
        and minimum <= default <= maximum
        and new_default <= default
    )
    assert (spending_cap_policy_problems(policy) == {}) == (ordered and 0 <= days <= 3650)


def test_a_policy_names_each_field_it_breaks():
    policy = SpendingCapPolicy(
        default=Decimal("10.00"),
        maximum=Decimal("5.00"),
        new_customer_default=Decimal("1.001"),
        new_customer_maximum=Decimal("0"),
        minimum=Decimal("1.00"),
        new_customer_days=-1,
    )
    problems = spending_cap_policy_problems(policy)
    assert set(problems) == {"new_customer_default", "new_customer_maximum", "new_customer_days"}
    ordered = SpendingCapPolicy(
        Decimal("10.00"), Decimal("5.00"), Decimal("3.00"), Decimal("6.00"), Decimal("1.00"), 30
    )
    assert set(spending_cap_policy_problems(ordered)) == {"default", "new_customer_maximum"}


@given(valid_policies(), st.integers(min_value=0, max_value=4000))
def test_new_customers_get_the_lower_default_and_maximum(policy, age_days):
    limits = rules.cap_limits(policy, NOW - timedelta(days=age_days), NOW)
    new = age_days < policy.new_customer_days
    assert limits.new_customer is new
    assert limits.default == (policy.new_customer_default if new else policy.default)
    assert limits.maximum == (policy.new_customer_maximum if new else policy.maximum)
    assert limits.minimum == policy.minimum
    assert limits.minimum <= limits.default <= limits.maximum
    # An account of unknown age counts as new.
    assert rules.cap_limits(policy, None, NOW).new_customer is True


@given(valid_policies(), cents, st.integers(min_value=0, max_value=600_000))
def test_a_cap_is_accepted_within_the_range_and_above_what_is_spent(policy, amount, spent_e4):
    limits = rules.cap_limits(policy, NOW - timedelta(days=5000), NOW)
    spent = Decimal(spent_e4) / 10000
    try:
        assert rules.check_cap(amount, limits, spent) == amount
        accepted = True
    except rules.Refusal as refusal:
        accepted = False
        if not limits.minimum <= amount <= limits.maximum:
            assert refusal.code == "spending-cap-out-of-range"
            assert refusal.values == {"minimum": limits.minimum, "maximum": limits.maximum}
        else:
            assert refusal.code == "spending-cap-below-spent" and amount <= spent
    assert accepted == (limits.minimum <= amount <= limits.maximum and amount > spent)


# --- Warnings, once per arming --------------------------------------------------------------------
steps = st.lists(
    st.one_of(
        st.tuples(st.just("spend"), st.integers(min_value=0, max_value=3000)),  # cents more
        st.tuples(st.just("cap"), st.integers(min_value=500, max_value=10000)),  # a new cap, cents
        st.tuples(st.just("rerate"), st.integers(min_value=0, max_value=3000)),  # cents less
    ),
    max_size=40,
)


@given(steps)
def test_each_warning_once_per_arming(operations):
    spent, cap = Decimal("0"), Decimal("30.00")
    warned: tuple[int, ...] = ()
    armed = set(rules.THRESHOLDS)  # not reached at the last check: sent when reached
    for kind, value in operations:
        if kind == "spend":
            spent += Decimal(value) / 100
        elif kind == "cap":
            cap = Decimal(value) / 100
        else:
            spent = max(Decimal("0"), spent - Decimal(value) / 100)
        result = rules.cap_warnings(warned, spent, cap)
        reached = set(rules.thresholds_reached(spent, cap))
        # Sent now: exactly the thresholds reached that were armed.
        assert set(result.send) == reached & armed
        assert set(result.warned) == reached
        armed = set(rules.THRESHOLDS) - reached
        warned = result.warned
        # Checking again with nothing changed sends nothing.
        assert rules.cap_warnings(warned, spent, cap).send == ()


def test_raising_the_cap_arms_the_warnings_again():
    first = rules.cap_warnings((), Decimal("9.50"), Decimal("10.00"))
    assert first.send == (50, 80, 90) and first.warned == (50, 80, 90)
    raised = rules.cap_warnings(first.warned, Decimal("9.50"), Decimal("15.00"))
    assert raised.send == () and raised.warned == (50,)  # 63 %: 80 and 90 armed again
    more = rules.cap_warnings(raised.warned, Decimal("12.00"), Decimal("15.00"))
    assert more.send == (80,) and more.warned == (50, 80)


@pytest.mark.parametrize(
    ("spent", "cap", "blocked"),
    [("9.99", "10.00", False), ("10.00", "10.00", True), ("10.00", "10.01", False)],
)
def test_the_block_is_reached_at_the_cap_and_lifted_above_it(spent, cap, blocked):
    assert rules.cap_reached(Decimal(spent), Decimal(cap)) is blocked
