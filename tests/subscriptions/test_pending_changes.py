"""Pending changes across month ends, applied by the renewal, and cancelled."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.subscriptions.factories import deliver
from voipdesk.billing.renewal import run_renewal
from voipdesk.core.outbox import drain
from voipdesk.subscriptions import actions, errors
from voipdesk.subscriptions.models import PendingChange, PhoneLoan, Service, ServiceEvent


def _line(platform, offer="sip-decouverte", calls=1, **kwargs):
    account = make_account(platform)
    result = deliver(platform, account.id, lines=[(offer, calls)], **kwargs)
    number = result.sip_credentials[0].number_e164
    return account, result.billing_group_id, number


def _service(platform, number):
    with platform.session() as session:
        return session.scalars(
            select(Service).where(Service.number_e164 == number, Service.kind != "option")
        ).one()


def test_offer_change_on_the_last_day_at_2359_paris_applies_on_the_1st(platform, clock):
    account, group, number = _line(platform)
    clock.move_to(datetime(2026, 3, 31, 21, 59, tzinfo=UTC))  # 23:59 in Paris (summer time)
    with platform.transaction() as session:
        (change,) = actions.request_offer_change(
            session, platform, account.id, group, [number], "sip-entreprise"
        )
    assert change.effective_on == date(2026, 4, 1)
    clock.move_to(datetime(2026, 3, 31, 22, 1, tzinfo=UTC))  # 00:01 on 1 April in Paris
    with platform.transaction() as session:
        (later,) = actions.request_offer_change(
            session, platform, account.id, group, [number], "sip-entreprise"
        )
    # The newer request replaces the pending one, and now waits for May.
    assert later.effective_on == date(2026, 5, 1)
    with platform.session() as session:
        assert [c.id for c in actions.pending_changes(session, group)] == [later.id]
    run_renewal(platform, date(2026, 4, 1))
    assert _service(platform, number).offer_code == "sip-decouverte"
    run_renewal(platform, date(2026, 5, 1))
    assert _service(platform, number).offer_code == "sip-entreprise"


def test_entreprise_cannot_become_decouverte(platform):
    account, group, number = _line(platform, "sip-entreprise", 2)
    with platform.transaction() as session, pytest.raises(errors.OfferChangeNotAllowed) as refusal:
        actions.request_offer_change(
            session, platform, account.id, group, [number], "sip-decouverte"
        )
    assert "never become" in str(refusal.value) and refusal.value.code == "offer-change-not-allowed"


def test_cancelled_change_does_not_apply_and_cancelling_twice_is_harmless(platform, clock):
    account, group, number = _line(platform)
    with platform.transaction() as session:
        (change,) = actions.request_offer_change(
            session, platform, account.id, group, [number], "sip-entreprise"
        )
    for _ in range(2):
        with platform.transaction() as session:
            actions.cancel_pending_change(session, platform, account.id, group, change.id)
    run_renewal(platform, date(2026, 4, 1))
    assert _service(platform, number).offer_code == "sip-decouverte"


def test_another_customer_sees_404(platform):
    _account, group, number = _line(platform)
    other = make_account(platform)
    with platform.transaction() as session, pytest.raises(errors.BillingGroupNotFound):
        actions.request_offer_change(session, platform, other.id, group, [number], "sip-entreprise")


def test_simultaneous_calls_decouverte_is_fixed_and_decrease_waits(platform):
    account, group, number = _line(platform)
    with platform.transaction() as session, pytest.raises(errors.SimultaneousCallsFixed) as refusal:
        actions.set_simultaneous_calls(session, platform, account.id, group, number, 3, True)
    assert "Entreprise" in str(refusal.value)
    account, group, number = _line(platform, "sip-entreprise", 4)
    with platform.transaction() as session:
        change = actions.set_simultaneous_calls(
            session, platform, account.id, group, number, 2, False
        )
    assert isinstance(change, PendingChange) and change.effective_on == date(2026, 4, 1)
    with platform.transaction() as session, pytest.raises(errors.SimultaneousCallsOutOfRange):
        actions.set_simultaneous_calls(session, platform, account.id, group, number, 0, False)
    run_renewal(platform, date(2026, 4, 1))
    assert _service(platform, number).simultaneous_calls == 2


def test_line_to_alias_unlinks_the_phone_and_opens_a_return(platform):
    account, group, number = _line(platform, phones_for_lines=True)
    with platform.transaction() as session:
        actions.convert_line_to_alias(session, platform, account.id, group, number)
    run_renewal(platform, date(2026, 4, 1))
    service = _service(platform, number)
    assert (service.kind, service.outgoing_calls, service.sip_ha1) == (
        "alias_number",
        False,
        None,
    )
    with platform.session() as session:
        loan = session.scalars(select(PhoneLoan)).one()
    assert loan.state == "return_opened" and loan.return_due_on == date(2026, 4, 16)


def test_pool_number_termination_terminates_the_pool_after_confirmation(platform):
    account = make_account(platform)
    result = deliver(platform, account.id, aliases=10, pool=True)
    group = result.billing_group_id
    with platform.session() as session:
        numbers = [s.number_e164 for s in actions.group_services(session, group)]
    with platform.transaction() as session, pytest.raises(errors.PoolTerminationNeedsConfirmation):
        actions.request_termination(
            session, platform, account.id, group, numbers[0], ("alias_number",), "move", None
        )
    with platform.transaction() as session, pytest.raises(errors.PoolNumberConversion):
        actions.convert_alias_to_line(
            session, platform, account.id, group, numbers[0], "sip-entreprise", True
        )
    with platform.transaction() as session, pytest.raises(errors.InvalidTerminationReason):
        actions.request_termination(
            session, platform, account.id, group, numbers[0], ("alias_number",), "other", " ", True
        )
    with platform.transaction() as session:
        actions.request_termination(
            session,
            platform,
            account.id,
            group,
            numbers[0],
            ("alias_number",),
            "other",
            "too many",
            True,
        )
    summary = run_renewal(platform, date(2026, 4, 1))
    assert summary.invoices_created == 0  # nothing left to renew
    with platform.session() as session:
        assert {s.state for s in session.scalars(select(Service))} == {"terminated"}


def test_group_termination_ends_everything(platform):
    account = make_account(platform)
    result = deliver(
        platform,
        account.id,
        lines=[("sip-entreprise", 1)],
        aliases=2,
        faxes=1,
        phones_for_lines=True,
    )
    with platform.transaction() as session:
        actions.terminate_group(
            session, platform, account.id, result.billing_group_id, "end_of_activity", None
        )
    run_renewal(platform, date(2026, 4, 1))
    with platform.session() as session:
        assert {s.state for s in session.scalars(select(Service))} == {"terminated"}
        assert session.scalars(select(PhoneLoan)).one().state == "return_opened"


def test_hardware_return_refund_ten_days_after_receipt(platform, clock):
    account, group, number = _line(platform, phones_for_lines=True)
    with platform.transaction() as session:
        actions.request_termination(
            session, platform, account.id, group, number, ("sip_line",), "move", None
        )
    clock.move_to(datetime(2026, 4, 1, 1, 0, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    with platform.session() as session:
        loan = session.scalars(select(PhoneLoan)).one()
    clock.move_to(datetime(2026, 4, 10, 9, 0, tzinfo=UTC))
    with platform.transaction() as session:
        actions.record_hardware_received(session, platform, loan.id, "staff-1")
        actions.record_hardware_received(session, platform, loan.id, "staff-1")  # harmless twice
    clock.move_to(datetime(2026, 4, 19, 9, 0, tzinfo=UTC))
    assert actions.refund_due_deposits(platform) == 0
    clock.move_to(datetime(2026, 4, 20, 9, 0, tzinfo=UTC))
    assert actions.refund_due_deposits(platform) == 1
    assert actions.refund_due_deposits(platform) == 0  # asked once
    drain(platform)
    with platform.session() as session:
        # Lent without a paid order: nothing to refund through the provider, so it waits for a
        # bank transfer, and says so (the refund through the provider: tests/telephony_line).
        assert session.get(PhoneLoan, loan.id).state == "refunding"
        whats = [e.what for e in session.scalars(select(ServiceEvent))]
        assert any("to refund by bank transfer" in what for what in whats)


def test_calls_increase_needs_the_terms_and_applies_once_paid(platform):
    account, group, number = _line(platform, "sip-entreprise", 1)
    with platform.transaction() as session, pytest.raises(errors.TermsNotAccepted):
        actions.set_simultaneous_calls(session, platform, account.id, group, number, 3, False)
    from voipdesk.orders import actions as order_actions

    if not hasattr(order_actions, "create_custom_order"):
        # Until the orders area can make a custom purchase order, the increase is refused clearly.
        with platform.transaction() as session, pytest.raises(errors.OrderingUnavailable):
            actions.set_simultaneous_calls(session, platform, account.id, group, number, 3, True)
    line = _service(platform, number)
    for _ in range(2):  # the paid order's message may be delivered twice
        with platform.transaction() as session:
            actions.apply_calls_increase(session, platform, line.id, 3)
    line = _service(platform, number)
    assert line.simultaneous_calls == 3
    assert line.monthly_price_excl_tax == Decimal("7.0000")  # 5.00 + 2 x 1.00
