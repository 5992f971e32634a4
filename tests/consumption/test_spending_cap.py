"""Crossing the spending cap during the month: each warning e-mailed once however often calls
are rated and however the clock moves; at 100 % the lines' routing records say the cap is
reached (the switch refuses outgoing calls beyond the plan), until the month ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.consumption.factories import call, store
from tests.subscriptions.factories import deliver
from voipdesk.accounts.models import ServiceEmail
from voipdesk.consumption import actions
from voipdesk.consumption.handlers import rate_new_calls
from voipdesk.telephony.queries import routing_record_for


def _emails(platform, account_id):
    with platform.session() as session:
        return list(
            session.scalars(
                select(ServiceEmail.subject).where(
                    ServiceEmail.account_id == account_id, ServiceEmail.kind == "spending_cap"
                )
            )
        )


def _reached(platform, number):
    with platform.session() as session:
        return routing_record_for(session, number).record["limits"]["spending_cap_reached"]


def test_warnings_once_each_across_a_moved_clock_and_released_next_month(platform, clock):
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-decouverte", 2)] * 2)
    group = result.billing_group_id
    first, second = (c.number_e164 for c in result.sip_credentials)
    # New customer: 30.00 EUR default. Mobile 0.10/min: 150 min = 15.00 = 50 %.
    start = clock.now()
    store(platform, call(first, group, "+33612345678", start, 150 * 60))
    rate_new_calls(platform)
    rate_new_calls(platform)
    assert [s[:4] for s in _emails(platform, account.id)] == ["50 %"]
    assert _reached(platform, first) is False
    clock.advance(timedelta(days=3))
    # Another line of the group: 96 min more = 24.60 = 82 %.
    store(platform, call(second, group, "+33612345678", clock.now(), 96 * 60))
    rate_new_calls(platform)
    assert sorted(s[:4] for s in _emails(platform, account.id)) == ["50 %", "80 %"]
    clock.advance(timedelta(days=5))
    # Re-rating the month does not send them again.
    with platform.transaction() as session:
        actions.rerate_month(session, platform, actions.current_month(platform), "check", "staff")
    rate_new_calls(platform)
    assert len(_emails(platform, account.id)) == 2
    # 60 min more = 30.60: 90 % and 100 % at once, each once; both lines blocked.
    store(platform, call(first, group, "+33612345678", clock.now(), 60 * 60))
    rate_new_calls(platform)
    rate_new_calls(platform)
    subjects = _emails(platform, account.id)
    assert len(subjects) == 4 and sum(s.startswith("90 %") for s in subjects) == 1
    assert sum("blocked" in s for s in subjects) == 1
    assert _reached(platform, first) is True and _reached(platform, second) is True
    # A call the plan includes (here none: a call to a toll-free number) rated free; no new mail.
    store(platform, call(first, group, "+33800123456", clock.now() + timedelta(minutes=1), 60))
    rate_new_calls(platform)
    assert len(_emails(platform, account.id)) == 4
    # The month ends: the block is lifted by the next job, nothing sent.
    clock.move_to(datetime(2026, 4, 1, 0, 5, tzinfo=UTC) - timedelta(hours=2))  # 00:05 Paris
    rate_new_calls(platform)
    assert _reached(platform, first) is False and _reached(platform, second) is False
    assert len(_emails(platform, account.id)) == 4
    # April starts from nothing: its own 50 % warning, once.
    store(platform, call(first, group, "+33612345678", clock.now(), 150 * 60))
    rate_new_calls(platform)
    rate_new_calls(platform)
    subjects = _emails(platform, account.id)
    assert len(subjects) == 5 and sum(s.startswith("50 %") for s in subjects) == 2
