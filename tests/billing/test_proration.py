"""A service started or ended inside a month is charged for its days, once, on the next invoice."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, text

from tests.accounts.factories import make_account
from tests.subscriptions.factories import deliver
from voipdesk.billing import rules
from voipdesk.billing.renewal import run_renewal
from voipdesk.subscriptions.actions import delete_service_now
from voipdesk.subscriptions.models import Service


def _lines(platform, service_id):
    with platform.session() as session:
        return [
            (str(start), str(end), cents, description)
            for start, end, cents, description in session.execute(
                text(
                    "SELECT period_start, period_end, amount_excl_tax_cents, description"
                    " FROM invoice_line WHERE service_id = :id ORDER BY period_start"
                ),
                {"id": service_id},
            )
        ]


def test_a_service_started_inside_a_month_pays_its_days_then_the_month(platform, clock):
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 1)])  # 5.00 EUR a month
    with platform.transaction() as session:
        line = session.scalars(select(Service).where(Service.kind == "sip_line")).one()
        line.expiry_on = date(2026, 3, 14)  # started on 15 March, nothing paid for it yet
        line_id = line.id
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    march = rules.days_cents(50_000, 15, 31, 31)
    assert march == 274
    lines = _lines(platform, line_id)
    assert [(start, end, cents) for start, end, cents, _ in lines] == [
        ("2026-03-15", "2026-03-31", march),
        ("2026-04-01", "2026-04-30", 500),
    ]
    assert lines[0][3].endswith("(2026-03-15 - 2026-03-31)")
    assert run_renewal(platform, date(2026, 4, 1)).did_nothing
    run_renewal(platform, date(2026, 5, 1))
    assert [cents for _, _, cents, _ in _lines(platform, line_id)] == [march, 500, 500]
    assert result.billing_group_id


def test_a_service_deleted_inside_a_month_is_credited_its_remaining_days_once(platform, clock):
    account = make_account(platform, language="fr")
    deliver(platform, account.id, lines=[("sip-entreprise", 1)], faxes=1)
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))  # April paid in advance
    clock.move_to(datetime(2026, 4, 10, 15, 0, tzinfo=UTC))
    with platform.transaction() as session:
        line = session.scalars(select(Service).where(Service.kind == "sip_line")).one()
        delete_service_now(session, platform, line, "test")
        line_id = line.id
    clock.move_to(datetime(2026, 5, 1, 0, 30, tzinfo=UTC))
    run_renewal(platform, date(2026, 5, 1))
    credit = rules.days_cents(50_000, 11, 30, 30)
    lines = _lines(platform, line_id)
    assert [(start, end, cents) for start, end, cents, _ in lines] == [
        ("2026-04-01", "2026-04-30", 500),
        ("2026-04-11", "2026-04-30", -credit),
    ]
    assert lines[1][3].startswith("Avoir : ")
    # What it cost in April is exactly its 10 days.
    assert 500 - credit == rules.days_cents(50_000, 1, 10, 30)
    assert run_renewal(platform, date(2026, 5, 1)).did_nothing
    run_renewal(platform, date(2026, 6, 1))
    assert len(_lines(platform, line_id)) == 2  # credited once


def test_a_group_left_with_a_credit_only_gets_a_paid_credit_invoice(platform, clock):
    account = make_account(platform)
    deliver(platform, account.id, lines=[("sip-decouverte", 1)])
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    clock.move_to(datetime(2026, 4, 20, 9, 0, tzinfo=UTC))
    with platform.transaction() as session:
        line = session.scalars(select(Service)).one()
        delete_service_now(session, platform, line, "test")
    clock.move_to(datetime(2026, 5, 1, 0, 30, tzinfo=UTC))
    summary = run_renewal(platform, date(2026, 5, 1))
    assert summary.invoices_created == 1
    with platform.session() as session:
        status, total, collections = session.execute(
            text(
                "SELECT status, total_excl_tax_cents, (SELECT COUNT(*) FROM billing_collection c"
                " WHERE c.invoice_id = invoice.id) FROM invoice WHERE renewal_period = :p"
            ),
            {"p": date(2026, 5, 1)},
        ).one()
    assert total == -rules.days_cents(19_900, 21, 30, 30) and status == "paid" and collections == 0
