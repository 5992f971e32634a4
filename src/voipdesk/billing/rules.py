"""Billing rules: reminders and grace period of manual renewal (the tax and invoice-number rules
are the invoices area's)."""

from __future__ import annotations

from datetime import date, timedelta

# --- Manual renewal ------------------------------------------------------------------------------
REMINDER_DAYS_BEFORE_EXPIRY = (7, 1, 0)  # and on the expiry day itself
DEFAULT_GRACE_DAYS = 15  # suspended services are deleted this many days after expiry


def reminder_due(today: date, expiry: date) -> int | None:
    """Which reminder (days before expiry) is due today, if any."""
    days = (expiry - today).days
    return days if days in REMINDER_DAYS_BEFORE_EXPIRY else None


def deletion_date(expiry: date, grace_days: int = DEFAULT_GRACE_DAYS) -> date:
    return expiry + timedelta(days=grace_days)


# --- Proration ----------------------------------------------------------------------------------
# A service started or ended inside a month is charged for its days: the first k days of a month
# cost the monthly price (in 1/10 000) times k / days-in-month, rounded to the cent half up, and
# the days first..last cost cumulative(last) - cumulative(first - 1). So the parts of a month,
# however it is cut, add up exactly to the month's price (no cent lost or doubled by rounding).
def cumulative_cents(monthly_e4: int, days: int, days_in_month: int) -> int:
    """The price in cents of the first `days` days of a month (half up, exact integers)."""
    if monthly_e4 < 0 or not 0 <= days <= days_in_month:
        raise ValueError("a non-negative price and 0..days-in-month days")
    return (2 * monthly_e4 * days + 100 * days_in_month) // (200 * days_in_month)


def days_cents(monthly_e4: int, first_day: int, last_day: int, days_in_month: int) -> int:
    """The price in cents of days first_day..last_day (1-based, inclusive) of one month."""
    if not 1 <= first_day <= last_day + 1 or last_day > days_in_month:
        raise ValueError("days lie within the month")
    return cumulative_cents(monthly_e4, last_day, days_in_month) - cumulative_cents(
        monthly_e4, first_day - 1, days_in_month
    )


def month_cents(monthly_e4: int) -> int:
    """A whole month (what a renewal line charges)."""
    return cumulative_cents(monthly_e4, 1, 1)


def cumulative_cents_sql(price: str, days: str, days_in_month: str) -> str:
    """`cumulative_cents` as a SQL expression over integer expressions (PostgreSQL and SQLite
    divide integers by truncation, which is the floor here: every term is non-negative)."""
    return (
        f"((2 * CAST({price} AS BIGINT) * ({days}) + 100 * ({days_in_month}))"
        f" / (200 * ({days_in_month})))"
    )
