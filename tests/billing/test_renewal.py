from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.accounts.factories import make_account
from tests.billing.helpers import add_sepa_method, snapshot
from tests.subscriptions.factories import deliver
from voipdesk.billing.renewal import InjectedFailure, run_renewal
from voipdesk.invoices.models import Invoice, InvoiceLine
from voipdesk.subscriptions.models import Service


def _customers(platform, groups: int = 3):
    accounts = []
    for index in range(groups):
        account = make_account(platform)
        add_sepa_method(platform, account.id)
        deliver(
            platform,
            account.id,
            lines=[("sip-entreprise", 2), ("sip-decouverte", 1)],
            aliases=2 + index,
            faxes=1,
            options=["option-mobile-hours-10"],
        )
        accounts.append(account)
    return accounts


def test_renewal_invoices_each_group_once_and_a_rerun_changes_nothing(platform, clock):
    _customers(platform)
    clock.move_to(datetime(2026, 3, 31, 23, 30, tzinfo=UTC))  # 1 April 01:30 in Paris
    summary = run_renewal(platform, date(2026, 4, 1))
    assert summary.invoices_created == 3
    # per group: 2 lines + 2 options + aliases (2, 3, 4) + 1 fax
    assert summary.services_renewed == 5 * 3 + 2 + 3 + 4
    assert summary.sepa_debits == 3
    with platform.session() as session:
        invoices = session.scalars(select(Invoice).order_by(Invoice.number)).all()
        assert [invoice.number for invoice in invoices] == [
            "2026-000001",
            "2026-000002",
            "2026-000003",
        ]
        # 5.00 + 1.99 + 3.00 * 2 + 1.00 * 2 + 4.00 = 18.99 (then one and two aliases more)
        assert sorted(i.total_excl_tax for i in invoices) == [
            Decimal("18.99"),
            Decimal("19.99"),
            Decimal("20.99"),
        ]
        first = next(i for i in invoices if i.total_excl_tax == Decimal("18.99"))
        # VAT 20 % = 3.798 -> 3.80
        assert first.total_tax == Decimal("3.80")
        assert first.total_incl_tax == Decimal("22.79")
        assert first.status == "paid"  # collected by the SEPA file
        lines = session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == first.id)).all()
        assert {(line.period_start, line.period_end) for line in lines} == {
            (date(2026, 4, 1), date(2026, 4, 30))
        }
        assert all(s.expiry_on == date(2026, 4, 30) for s in session.scalars(select(Service)))
    before = snapshot(platform)
    again = run_renewal(platform, date(2026, 4, 1))
    assert again.did_nothing
    assert snapshot(platform) == before


def test_two_months_in_a_row_and_leap_february(platform, clock):
    _customers(platform, groups=1)
    for first in (date(2026, 4, 1), date(2026, 5, 1)):
        run_renewal(platform, first)
    with platform.session() as session:
        assert len(session.scalars(select(Invoice)).all()) == 2
    # Leap year: February 2028 ends on the 29th.
    clock.move_to(datetime(2028, 1, 15, 10, 0, tzinfo=UTC))
    account = make_account(platform)
    deliver(platform, account.id, lines=[("sip-decouverte", 1)])
    summary = run_renewal(platform, date(2028, 2, 1))
    assert summary.period_end == date(2028, 2, 29)
    with platform.session() as session:
        line = session.scalars(select(Service).where(Service.account_id == account.id)).one()
        assert line.expiry_on == date(2028, 2, 29)
        numbers = sorted(i.number for i in session.scalars(select(Invoice)))
        assert "2028-000001" in numbers and "2028-000002" in numbers


@pytest.mark.parametrize("fail_after", [1, 2, 3])
def test_a_run_stopped_after_some_batches_then_rerun_ends_like_an_uninterrupted_one(
    platform, clock, fail_after
):
    _customers(platform, groups=7)
    with pytest.raises(InjectedFailure):
        run_renewal(platform, date(2026, 4, 1), batch_size=2, fail_after_batches=fail_after)
    run_renewal(platform, date(2026, 4, 1), batch_size=2)
    interrupted = snapshot(platform)
    assert len(interrupted["invoices"]) == 7
    assert interrupted["counter"] == [(2026, 7)]  # no gap in the numbers
    numbers = [row[0] for row in interrupted["invoices"]]
    assert numbers == [f"2026-{n:06d}" for n in range(1, 8)]
    assert run_renewal(platform, date(2026, 4, 1)).did_nothing
    assert snapshot(platform) == interrupted
