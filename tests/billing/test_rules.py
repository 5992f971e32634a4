from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from voipdesk.billing import rules
from voipdesk.invoices import rules as invoice_rules


@settings(max_examples=100, deadline=None)
@given(
    base=st.integers(min_value=-(10**9), max_value=10**9),
    rate=st.sampled_from(["0.20", "0.21", "0.081", "0.05", "0.09975"]),
)
def test_integer_tax_matches_decimal_half_up(base, rate):
    exact = (Decimal(base) / 100 * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    ppm = invoice_rules.rate_to_ppm(Decimal(rate))
    assert invoice_rules.tax_cents(base, ppm) == int(exact * 100)


def test_tax_is_computed_on_the_total_per_rate():
    vat = [("VAT", Decimal("0.20"))]
    lines = [(13, vat), (13, vat), (6000, [])]
    (only,) = invoice_rules.tax_breakdown(lines)
    assert (only.base_cents, only.tax_cents) == (26, 5)


def test_reminders_7_1_0_days_before_expiry():
    from datetime import date

    expiry = date(2026, 4, 30)
    assert [rules.reminder_due(date(2026, 4, d), expiry) for d in (23, 24, 29, 30)] == [
        7,
        None,
        1,
        0,
    ]
