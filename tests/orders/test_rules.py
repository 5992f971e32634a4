"""Order rules: every allowed and forbidden transition, expiry, totals (property-tested)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voipdesk.catalogue.rules import TaxComponent
from voipdesk.orders import rules
from voipdesk.orders.rules import Discount, PricedLine, compute_totals

ALLOWED = {
    (rules.NOT_PAID, rules.VALIDATION),
    (rules.NOT_PAID, rules.DELIVERING),
    (rules.NOT_PAID, rules.EXPIRED),
    (rules.NOT_PAID, rules.CANCELLED),
    (rules.VALIDATION, rules.DELIVERING),
    (rules.DELIVERING, rules.DELIVERED),
}


@pytest.mark.parametrize(("origin", "target"), sorted(ALLOWED))
def test_allowed_transitions(origin: str, target: str) -> None:
    assert rules.can_transition(origin, target)


@pytest.mark.parametrize(
    ("origin", "target"),
    sorted(pair for pair in product(rules.STATES, rules.STATES) if pair not in ALLOWED),
)
def test_forbidden_transitions(origin: str, target: str) -> None:
    assert not rules.can_transition(origin, target)


def test_final_states_lead_nowhere() -> None:
    for state in rules.FINAL_STATES:
        assert rules.allowed_targets(state) == frozenset()


def test_orders_expire_after_15_days_and_are_reminded_3_days_before() -> None:
    created = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    expires = rules.expiry_for(created)
    assert expires == created + timedelta(days=15)
    assert not rules.is_due_for_expiry_reminder(expires, expires - timedelta(days=3, seconds=1))
    assert rules.is_due_for_expiry_reminder(expires, expires - timedelta(days=3))
    assert not rules.is_due_for_expiry_reminder(expires, expires)
    assert rules.is_past_expiry(expires, expires)


def test_first_period_runs_to_the_end_of_the_month_prorated() -> None:
    start, end = rules.first_period(date(2026, 3, 2))
    assert end == date(2026, 3, 31)
    assert rules.prorated(Decimal("31.00"), start, end) == Decimal("30.00")
    assert rules.prorated(Decimal("1.99"), date(2026, 3, 1), date(2026, 3, 31)) == Decimal("1.99")


FR = (TaxComponent("VAT", Decimal("0.20")),)
QC = (TaxComponent("GST", Decimal("0.05")), TaxComponent("QST", Decimal("0.09975")))
CH = (TaxComponent("VAT", Decimal("0.081")),)
NONE: tuple[TaxComponent, ...] = ()


def test_example_with_deposit_and_percent_discount() -> None:
    lines = [
        PricedLine(2, Decimal("1.99"), FR),
        PricedLine(10, Decimal("1.00"), FR),
        PricedLine(1, Decimal("49.00"), NONE, discountable=False),
    ]
    totals = compute_totals(lines, Discount(percent=Decimal("10")))
    assert totals.subtotal_excl_tax == Decimal("62.98")
    assert totals.discount_excl_tax == Decimal("1.40")  # 10 % of 13.98, deposits excluded
    assert totals.excl_tax == Decimal("61.58")
    assert totals.tax == Decimal("2.52")  # 20 % of 12.58 = 2.516 -> 2.52
    assert totals.incl_tax == Decimal("64.10")


amounts = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("500.00"), places=2)
line_strategy = st.builds(
    PricedLine,
    quantity=st.integers(min_value=1, max_value=100),
    unit_price_excl_tax=amounts,
    tax_components=st.sampled_from([FR, QC, CH, NONE]),
    discountable=st.booleans(),
)
discount_strategy = st.one_of(
    st.none(),
    st.builds(
        Discount, percent=st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
    ),
    st.builds(
        Discount,
        amount_excl_tax=st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2),
    ),
)


@settings(max_examples=80, deadline=None)
@given(lines=st.lists(line_strategy, min_size=1, max_size=8), discount=discount_strategy)
def test_totals_add_up(lines: list[PricedLine], discount: Discount | None) -> None:
    totals = compute_totals(lines, discount)
    # the lines add up to the subtotal, the groups to the totals
    assert totals.subtotal_excl_tax == sum(line.amount_excl_tax for line in lines)
    assert totals.excl_tax == totals.subtotal_excl_tax - totals.discount_excl_tax
    assert totals.incl_tax == totals.excl_tax + totals.tax
    # a discount never makes anything negative nor touches deposits
    discountable = sum((line.amount_excl_tax for line in lines if line.discountable), Decimal("0"))
    assert Decimal("0") <= totals.discount_excl_tax <= discountable
    for group in totals.groups:
        assert group.net_excl_tax >= 0
    # tax per rate: rounded to the cent half up on each group's net total
    bases: dict[tuple[TaxComponent, ...], Decimal] = defaultdict(Decimal)
    for group in totals.groups:
        bases[group.components] += group.net_excl_tax
    expected_tax = sum(
        (
            (base * component.rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            for components, base in bases.items()
            for component in components
        ),
        Decimal("0"),
    )
    assert totals.tax == expected_tax
    assert totals.tax == totals.tax.quantize(Decimal("0.01"))


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(line_strategy, min_size=1, max_size=8), percent=st.integers(0, 100))
def test_percent_discount_is_that_percent_of_discountable_amounts(
    lines: list[PricedLine], percent: int
) -> None:
    totals = compute_totals(lines, Discount(percent=Decimal(percent)))
    discountable = sum((line.amount_excl_tax for line in lines if line.discountable), Decimal("0"))
    assert totals.discount_excl_tax == (discountable * percent / 100).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )


def test_follow_up_of_an_unpaid_order_asks_for_payment() -> None:
    created = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    steps = rules.follow_up(rules.NOT_PAID, created, rules.expiry_for(created), {}, False)
    assert [step.code for step in steps] == ["created", "payment", "delivery", "delivered"]
    assert steps[1].status == rules.STEP_CURRENT and steps[1].action_needed


def test_follow_up_in_validation_says_what_to_send() -> None:
    created = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    reached = {rules.NOT_PAID: created, rules.VALIDATION: created + timedelta(hours=1)}
    steps = rules.follow_up(rules.VALIDATION, created, rules.expiry_for(created), reached, True)
    validation = next(step for step in steps if step.code == "validation")
    assert validation.status == rules.STEP_CURRENT and validation.action_needed
    assert steps[1].status == rules.STEP_DONE and steps[1].at == created + timedelta(hours=1)
