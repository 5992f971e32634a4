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
