"""The dunning table and the retry schedule, as plain rules (unit and property tests)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from voipdesk.billing import rules


def test_the_table_reminds_three_times_then_warns_then_suspends() -> None:
    assert [(s.day, s.action) for s in rules.DUNNING_STEPS] == [
        (0, "reminder"),
        (7, "reminder"),
        (14, "reminder"),
        (21, "suspension_notice"),
        (28, "suspension"),
    ]
    assert rules.suspension_date(date(2026, 4, 1)) == date(2026, 4, 29)


def test_a_late_job_sends_only_the_latest_email_and_suspends_when_due() -> None:
    assert rules.dunning_steps_due(-1, frozenset()) == []
    assert [s.day for s in rules.dunning_steps_due(15, frozenset())] == [0, 7, 14]
    assert rules.step_to_send(rules.dunning_steps_due(15, frozenset())).day == 14  # type: ignore[union-attr]
    assert [s.action for s in rules.dunning_steps_due(40, frozenset({0}))] == ["suspension"]
    assert rules.dunning_steps_due(40, frozenset(s.day for s in rules.DUNNING_STEPS)) == []


def test_retries_three_then_seven_days_after_each_failure() -> None:
    failed = date(2026, 4, 1)
    assert not rules.retry_due(1, failed, failed + timedelta(days=2))
    assert rules.retry_due(1, failed, failed + timedelta(days=3))
    assert not rules.retry_due(2, failed, failed + timedelta(days=6))
    assert rules.retry_due(2, failed, failed + timedelta(days=7))
    assert not rules.retry_due(3, failed, failed + timedelta(days=60))
    assert not rules.retry_due(0, failed, failed + timedelta(days=60))


@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=20))
def test_each_step_is_taken_once_in_order_whatever_the_gaps_between_runs(gaps: list[int]) -> None:
    done: set[int] = set()
    sent: list[int] = []
    suspended_on: int | None = None
    late = -1
    for gap in gaps:
        late += gap
        steps = rules.dunning_steps_due(late, frozenset(done))
        assert not (set(s.day for s in steps) & done)  # nothing twice
        done |= {s.day for s in steps}
        step = rules.step_to_send(steps)
        if step is not None:
            assert step.day <= late
            if step.action == rules.SUSPENSION:
                suspended_on = late
                done |= {s.day for s in rules.DUNNING_STEPS}
            sent.append(step.day)
    assert sent == sorted(sent)
    if suspended_on is not None:
        assert suspended_on >= rules.SUSPENSION_DAY  # never suspended early
    if late >= rules.SUSPENSION_DAY:
        assert suspended_on is not None  # and never forgotten


@given(st.integers(min_value=0, max_value=60))
def test_daily_runs_send_every_step_exactly_once(last_day: int) -> None:
    done: set[int] = set()
    sent = []
    for late in range(last_day + 1):
        steps = rules.dunning_steps_due(late, frozenset(done))
        done |= {s.day for s in steps}
        if steps:
            sent.append(steps[-1].day)
    assert sent == [s.day for s in rules.DUNNING_STEPS if s.day <= last_day]
