"""Rating rules (pure): increments, rounding, inclusions consumed in call order, months in
Paris time (a call across midnight on the last day), destinations, spending-cap thresholds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voipdesk.catalogue.rules import BUILT_IN_SPENDING_CAP_POLICY
from voipdesk.consumption import rules
from voipdesk.consumption.rules import CallFacts, Inclusion, Plan, Rate

increments = st.integers(min_value=1, max_value=120)
durations = st.integers(min_value=0, max_value=20_000)
prices = st.decimals(min_value=0, max_value=5, places=4, allow_nan=False, allow_infinity=False)


@given(durations, increments, increments)
def test_billed_seconds_first_then_next_increments(duration, first, step):
    rate = Rate(Decimal("0.1"), first_increment=first, next_increment=step)
    billed = rules.billed_seconds(duration, rate)
    if duration == 0:
        assert billed == 0
        return
    assert billed >= duration and billed >= first
    if duration <= first:
        assert billed == first
    else:
        assert (billed - first) % step == 0 and billed - duration < step


@given(st.integers(min_value=1, max_value=10_000), prices, prices)
def test_price_rounded_half_up_to_four_decimals(seconds, per_minute, fee):
    rate = Rate(per_minute, fee)
    price = rules.price_of(seconds, rate)
    exact = fee + per_minute * seconds / 60
    assert price == price.quantize(rules.PRICE_QUANTUM)
    assert abs(price - exact) <= Decimal("0.00005")
    assert rules.price_of(seconds + 1, rate) >= price


def test_rounding_examples():
    assert rules.price_of(61, Rate(Decimal("0.1000"))) == Decimal("0.1017")  # 0.101666...
    assert rules.price_of(1, Rate(Decimal("0.0003"))) == Decimal("0.0000")  # 0.000005 -> 0
    assert rules.price_of(3, Rate(Decimal("0.0001"))) == Decimal("0.0000")
    assert rules.price_of(30, Rate(Decimal("0.0001"))) == Decimal("0.0001")  # 0.00005 half up
    assert rules.month_total([Decimal("0.0050")]) == Decimal("0.01")
    assert rules.month_total([Decimal("0.0049")]) == Decimal("0.00")


MOBILE_PLAN = Plan(
    {rules.DEST_MOBILE: Rate(Decimal("0.1000"), first_increment=1, next_increment=1)},
    (Inclusion("mobile", frozenset({rules.DEST_MOBILE}), 600),),
)
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _calls(durations_list, start=START, callee="+33612345678"):
    return [
        CallFacts(f"c{i:04d}", start + timedelta(minutes=10 * i), "outgoing", callee, d, True)
        for i, d in enumerate(durations_list)
    ]


@given(st.lists(st.integers(min_value=0, max_value=400), max_size=30), st.randoms())
def test_inclusions_consumed_in_call_order_whatever_the_arrival_order(seconds, random):
    calls = _calls(seconds)
    shuffled = list(calls)
    random.shuffle(shuffled)
    rated = rules.rate_month(shuffled, "FR", lambda day: MOBILE_PLAN)
    assert [r.call_key for r in rated] == [c.call_key for c in calls]
    left = 600
    for call, result in zip(calls, rated, strict=True):
        expected_included = min(call.duration_seconds, left)
        left -= expected_included
        assert result.included_seconds == expected_included
        charged = call.duration_seconds - expected_included
        assert result.price == (rules.price_of(charged, MOBILE_PLAN.rate(rules.DEST_MOBILE))
                                if charged else Decimal("0.0000"))  # fmt: skip
    assert sum(r.included_seconds for r in rated) == min(600, sum(seconds))


def test_two_inclusions_the_offers_first_then_the_options():
    plan = Plan(
        rules.DEFAULT_RATES,
        (
            Inclusion("offer", frozenset({rules.DEST_MOBILE}), 120),
            Inclusion("option", frozenset({rules.DEST_MOBILE, rules.DEST_FIXED}), 120),
        ),
    )
    rated = rules.rate_month(_calls([100, 100, 100]), "FR", lambda day: plan)
    # 60 s first increment, then per second: 100 s billed each; 240 s included in all.
    assert [r.included_seconds for r in rated] == [100, 100, 40]
    assert rated[2].price == rules.price_of(60, rules.DEFAULT_RATES[rules.DEST_MOBILE])


def test_unanswered_incoming_internal_and_toll_free_calls_are_free():
    calls = [
        CallFacts("a", START, "outgoing", "+33612345678", 0, False),
        CallFacts("b", START, "incoming", "+33612345678", 300, True),
        CallFacts("c", START, "internal", "+33190100000", 300, True),
        CallFacts("d", START, "outgoing", "+33800123456", 300, True),
    ]
    rated = rules.rate_month(calls, "FR", lambda day: rules.default_plan("sip-decouverte"))
    assert [(r.destination, r.price) for r in sorted(rated, key=lambda r: r.call_key)] == [
        (rules.DEST_MOBILE, Decimal("0.0000")),
        (rules.DEST_INCOMING, Decimal("0.0000")),
        (rules.DEST_INTERNAL, Decimal("0.0000")),
        (rules.DEST_TOLL_FREE, Decimal("0.0000")),
    ]


@pytest.mark.parametrize(
    ("callee", "home", "destination"),
    [
        ("+33123456789", "FR", rules.DEST_FIXED),
        ("+33912345678", "FR", rules.DEST_FIXED),
        ("+33612345678", "FR", rules.DEST_MOBILE),
        ("+33751234567", "FR", rules.DEST_MOBILE),
        ("+33800123456", "FR", rules.DEST_TOLL_FREE),
        ("+33899123456", "FR", rules.DEST_SPECIAL),
        ("+3290123456", "FR", rules.DEST_EUROPE),
        ("+3290123456", "BE", rules.DEST_SPECIAL),
        ("+41446681800", "FR", rules.DEST_EUROPE),
        ("+14155552671", "FR", rules.DEST_NORTH_AMERICA),
        ("+81312345678", "FR", rules.DEST_WORLD),
        ("12", "FR", rules.DEST_OTHER),
    ],
)
def test_destinations_by_phonenumbers(callee, home, destination):
    assert rules.classify(callee, home) == destination
    assert rules.DestinationCache()(callee, home) == destination


instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(instants)
def test_a_call_belongs_to_the_month_of_its_start_in_paris(instant):
    month = rules.month_of(instant)
    local = instant.astimezone(rules.TIMEZONE)
    assert (month.year, month.month, month.day) == (local.year, local.month, 1)
    start, end = rules.month_bounds(month)
    assert start <= instant < end
    assert rules.month_bounds(rules.next_month(month))[0] == end
    assert rules.previous_month(rules.next_month(month)) == month


def test_a_call_across_midnight_on_the_last_day_stays_in_its_month_and_the_next_starts_whole():
    # 31 March 2026 23:50 Paris (summer time: UTC+2) for 20 minutes, then 1 April 00:05.
    across = CallFacts("late", datetime(2026, 3, 31, 21, 50, tzinfo=UTC), "outgoing",
                       "+33612345678", 1200, True)  # fmt: skip
    april = CallFacts("april", datetime(2026, 3, 31, 22, 5, tzinfo=UTC), "outgoing",
                      "+33612345678", 300, True)  # fmt: skip
    march = _calls([500])
    rated = {r.call_key: r for r in rules.rate_month([*march, across, april], "FR",
                                                     lambda day: MOBILE_PLAN)}  # fmt: skip
    assert rated["late"].month == date(2026, 3, 1) and rated["april"].month == date(2026, 4, 1)
    assert rated["late"].included_seconds == 100  # what March had left, then charged
    assert rated["late"].price == rules.price_of(1100, MOBILE_PLAN.rate(rules.DEST_MOBILE))
    assert rated["april"].included_seconds == 300 and rated["april"].price == 0
    # Winter: 31 October 2026 is summer time until 3:00; 1 November 00:30 Paris = 23:30 UTC.
    assert rules.month_of(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)) == date(2026, 11, 1)
    assert rules.month_of(datetime(2026, 10, 31, 22, 59, tzinfo=UTC)) == date(2026, 10, 1)


def test_rates_effective_on_the_calls_day():
    cheap = Plan({rules.DEST_MOBILE: Rate(Decimal("0.0500"))})
    dear = Plan({rules.DEST_MOBILE: Rate(Decimal("0.2000"))})
    calls = _calls([60, 60], start=datetime(2026, 3, 14, 22, 55, tzinfo=UTC))  # 23:55 Paris
    rated = rules.rate_month(calls, "FR", lambda day: cheap if day < date(2026, 3, 15) else dear)
    assert [r.price for r in rated] == [Decimal("0.0500"), Decimal("0.2000")]


@given(st.decimals(min_value=0, max_value=1000, places=4), st.decimals(min_value=1, max_value=500,
       places=2))  # fmt: skip
def test_cap_thresholds_are_monotone(spent, cap):
    reached = rules.thresholds_reached(spent, cap)
    assert list(reached) == sorted(reached)
    assert reached == tuple(t for t in rules.THRESHOLDS if t in reached)
    more = rules.thresholds_reached(spent + 1, cap)
    assert set(reached) <= set(more)
    assert rules.cap_reached(spent, cap) == (spent >= cap)


def test_cap_limits_and_refusals():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    policy = BUILT_IN_SPENDING_CAP_POLICY
    new = rules.cap_limits(policy, now - timedelta(days=10), now)
    old = rules.cap_limits(policy, now - timedelta(days=400), now)
    assert new.default < old.default and new.maximum < old.maximum
    assert rules.check_cap(Decimal("50.00"), old, Decimal("10")) == Decimal("50.00")
    for amount, spent, code in (
        (Decimal("1.00"), Decimal("0"), "spending-cap-out-of-range"),
        (Decimal("5000.00"), Decimal("0"), "spending-cap-out-of-range"),
        (Decimal("20.00"), Decimal("25"), "spending-cap-below-spent"),
        (Decimal("20.001"), Decimal("0"), "spending-cap-precision"),
    ):
        with pytest.raises(rules.Refusal) as refused:
            rules.check_cap(amount, old, spent)
        assert refused.value.code == code
