from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from voipdesk.subscriptions import rules


def test_effective_on_uses_paris_time_across_month_end():
    assert rules.effective_on(datetime(2026, 1, 31, 22, 59, tzinfo=UTC)) == date(
        2026, 2, 1
    )  # 23:59
    assert rules.effective_on(datetime(2026, 1, 31, 23, 0, tzinfo=UTC)) == date(2026, 3, 1)  # 00:00
    assert rules.effective_on(datetime(2028, 2, 29, 22, 59, tzinfo=UTC)) == date(2028, 3, 1)
    assert rules.end_of_month(date(2028, 2, 3)) == date(2028, 2, 29)


def test_transitions_are_an_explicit_table():
    assert rules.can_transition(rules.ACTIVE, rules.SUSPENDED)
    assert not rules.can_transition(rules.DELETED, rules.ACTIVE)
    assert not rules.can_transition(rules.TERMINATED, rules.ACTIVE)


def test_termination_reasons_need_details_for_other_and_missing_options():
    assert rules.termination_reason_problem("move", None) is None
    assert rules.termination_reason_problem("other", "") is not None
    assert rules.termination_reason_problem("missing_options", "  ") is not None
    assert rules.termination_reason_problem("missing_options", "voicemail to e-mail") is None
    assert rules.termination_reason_problem("bored", "x") is not None


@settings(max_examples=80, deadline=None)
@given(
    monthly=st.decimals(min_value=Decimal("0"), max_value=Decimal("500"), places=4),
    month=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 1)).map(
        lambda d: d.replace(day=1)
    ),
    offsets=st.sets(st.integers(min_value=1, max_value=27), max_size=6),
)
def test_prorated_parts_add_up_to_the_full_price(monthly, month, offsets):
    cuts = [month] + [month + timedelta(days=o) for o in sorted(offsets)]
    parts = rules.split_month(monthly, cuts)
    assert sum(p.amount for p in parts) == rules.prorated_amount(
        monthly, month, rules.end_of_month(month)
    )
    assert parts[0].start == month and parts[-1].end == rules.end_of_month(month)
    assert all(p.amount >= 0 for p in parts)


@given(
    st.sampled_from(list(rules.CONTACT_CHANGE_TRANSITIONS)),
    st.sampled_from(list(rules.CONTACT_CHANGE_TRANSITIONS)),
)
def test_a_billing_contact_change_is_decided_once(current, target):
    # An open change moves on once; a decided one never moves again; only a change waiting for
    # acceptance can be refused, and acceptance comes before validation, never after.
    allowed = rules.can_change_contact_state(current, target)
    decided = (rules.CONTACT_CHANGE_APPLIED, rules.CONTACT_CHANGE_CANCELLED)
    if current == rules.CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE:
        assert allowed == (target != current)
    elif current == rules.CONTACT_CHANGE_WAITING:
        assert allowed == (target in decided)
    else:
        assert not allowed
