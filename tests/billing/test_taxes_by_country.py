"""Each renewal invoice carries its country's taxes, each computed once on the invoice's total
(half up, the same integers as invoices.rules.tax_cents)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text

from tests.accounts.factories import make_account
from tests.subscriptions.factories import deliver
from voipdesk.billing.renewal import run_renewal
from voipdesk.invoices.rules import tax_cents


def test_each_country_gets_its_own_taxes_on_the_invoice_total(platform, clock):
    expected_rates = {
        "FR": {("VAT", 200_000)},
        "BE": {("VAT", 210_000)},
        "CH": {("VAT", 81_000)},
        "CA-QC": {("GST", 50_000), ("QST", 99_750)},
    }
    for country in expected_rates:
        account = make_account(platform, country=country)
        deliver(
            platform, account.id, lines=[("sip-decouverte", 1), ("sip-entreprise", 2)], aliases=3
        )
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    with platform.session() as session:
        rows = session.execute(
            text(
                "SELECT i.tax_country, i.total_excl_tax_cents, i.total_tax_cents, t.label,"
                " t.rate_ppm, t.base_cents, t.tax_cents FROM invoice i"
                " JOIN invoice_tax t ON t.invoice_id = i.id WHERE i.renewal_period = :p"
            ),
            {"p": date(2026, 4, 1)},
        ).all()
    by_country: dict[str, set[tuple[str, int]]] = {}
    for country, excl, _total_tax, label, ppm, base, tax in rows:
        by_country.setdefault(country, set()).add((label, ppm))
        assert base == excl == 199 + 500 + 300  # 1.99 + 5.00 + 3 x 1.00
        assert tax == tax_cents(base, ppm)
    assert by_country == expected_rates
    qc = [row for row in rows if row[0] == "CA-QC"]
    assert qc[0][2] == sum(row[6] for row in qc)  # the invoice's tax is the sum of its two taxes


def test_invoice_numbers_past_the_millionth_of_a_year_keep_all_their_digits(platform, clock):
    from voipdesk.invoices.models import InvoiceNumberCounter
    from voipdesk.invoices.rules import invoice_number

    for _ in range(2):
        deliver(platform, make_account(platform).id, lines=[("sip-decouverte", 1)])
    with platform.transaction() as session:
        session.add(InvoiceNumberCounter(year=2026, last_value=999_999))
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    run_renewal(platform, date(2026, 4, 1))
    with platform.session() as session:
        numbers = sorted(session.execute(text("SELECT number FROM invoice")).scalars())
    assert numbers == [invoice_number(2026, 1_000_000), invoice_number(2026, 1_000_001)]
    assert numbers[0] == "2026-1000000"
