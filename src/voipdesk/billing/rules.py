"""Billing rules: reminders and grace period of manual renewal (the tax and invoice-number rules
are the invoices area's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from voipdesk.invoices.rules import PAYMENT_TERM_DAYS, due_on  # noqa: F401 (billing's callers)

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


# --- Unpaid invoices: due date, dunning, retries -------------------------------------------------
# The due date is the invoices area's rule (printed on the invoice); dunning counts from it.

REMINDER = "reminder"
SUSPENSION_NOTICE = "suspension_notice"
SUSPENSION = "suspension"


@dataclass(frozen=True, slots=True)
class DunningStep:
    """On `day` days after the due date, if the invoice is still unpaid, do `action` once."""

    day: int
    action: str


# The dunning table: three reminders, a notice naming the suspension date, then the suspension.
DUNNING_STEPS: tuple[DunningStep, ...] = (
    DunningStep(0, REMINDER),
    DunningStep(7, REMINDER),
    DunningStep(14, REMINDER),
    DunningStep(21, SUSPENSION_NOTICE),
    DunningStep(28, SUSPENSION),
)
SUSPENSION_DAY = next(step.day for step in DUNNING_STEPS if step.action == SUSPENSION)

# A failed card charge or direct debit is tried again this many days after each failure.
RETRY_DAYS_AFTER_FAILURE: tuple[int, ...] = (3, 7)


def days_late(due: date, today: date) -> int:
    return (today - due).days


def dunning_steps_due(late: int, done: frozenset[int]) -> list[DunningStep]:
    """What the dunning job does today for an invoice `late` days past its due date, `done`
    being the days of the steps already taken. A job that did not run for a while does not
    send every missed e-mail: only the latest one due (the earlier ones are skipped, and
    returned so they are marked done), and the suspension whenever its day has come."""
    due = [step for step in DUNNING_STEPS if step.day <= late and step.day not in done]
    if not due:
        return []
    mails = [step for step in due if step.action != SUSPENSION]
    suspension = [step for step in due if step.action == SUSPENSION]
    if suspension:
        return suspension  # the suspension e-mail says it all
    return mails


def step_to_send(steps: list[DunningStep]) -> DunningStep | None:
    """Of the steps due together, the one whose e-mail goes out (the latest)."""
    return steps[-1] if steps else None


def suspension_date(due: date) -> date:
    return due + timedelta(days=SUSPENSION_DAY)


def retry_due(failures: int, last_failure_on: date, today: date) -> bool:
    """Whether a failed collection is tried again today (`failures` attempts failed so far)."""
    if failures < 1 or failures > len(RETRY_DAYS_AFTER_FAILURE):
        return False
    return today >= last_failure_on + timedelta(days=RETRY_DAYS_AFTER_FAILURE[failures - 1])


def next_retry_on(failures: int, last_failure_on: date) -> date | None:
    if failures < 1 or failures > len(RETRY_DAYS_AFTER_FAILURE):
        return None
    return last_failure_on + timedelta(days=RETRY_DAYS_AFTER_FAILURE[failures - 1])


def transfer_reference(invoice_number: str) -> str:
    """What the customer writes on a bank transfer so that staff match it to the invoice."""
    return f"INV-{invoice_number}"


SEPA_CURRENCY = "EUR"  # SEPA direct debits (pain.008) are in euros only


def direct_debit_collects(currency: str) -> bool:
    """Whether an invoice in this currency may be collected by SEPA direct debit (CHF and CAD
    invoices are paid by card or transfer; the renewal collects them by card only)."""
    return currency == SEPA_CURRENCY
