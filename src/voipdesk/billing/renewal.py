# ruff: noqa: E501  (SQL statements read better unwrapped)
"""The monthly renewal run: due pending changes, then one invoice per billing group and month.

It computes what should exist for the period and stores only what is missing, with set-based SQL
(one statement per step and batch, never a Python loop per service):

1. due pending changes are applied and services cancelled at expiry are deleted (one transaction);
2. unpaid manual renewals are suspended, and suspended services past the grace period deleted;
3. billing groups are invoiced by batches (keyset on the group id), ONE transaction per batch:
   invoice rows (numbers taken from the year's counter row, locked), their lines (unique per service
   and period: `ON CONFLICT DO NOTHING`), tax per rate on the totals, customer snapshot, the
   collection on the default payment method, and the services' new expiry date;
4. pending direct debits are gathered into a SEPA pain.008 file (one transaction);
   card collections are charged by the `billing.collect_cards` job through the payment provider.

A run killed at any point leaves whole batches only; the next run redoes what is missing, in the
same order, so it ends exactly as an uninterrupted run. A second run finds nothing to do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session

from voipdesk.billing.models import RenewalRun
from voipdesk.billing.renewal_changes import (
    apply_due_changes,
    suspend_and_delete,
)
from voipdesk.billing.renewal_invoices import (
    INVOICE_EMAIL_KEY,
    batch_bounds,
    groups_left,
    invoice_batch,
)
from voipdesk.billing.renewal_sepa import build_sepa_file
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.consumption import rules as consumption_rules
from voipdesk.consumption import services as consumption
from voipdesk.core.platform import Platform
from voipdesk.invoices.models import cents_to_amount
from voipdesk.subscriptions import rules as sub_rules

log = structlog.get_logger(__name__)

Progress = Callable[[str, int, int], None]  # (step, done, total)

# Billing groups per transaction, for the command, the job and the benchmark alike.
BATCH_SIZE = 5000


@dataclass
class RenewalSummary:
    """The state of the period, computed from what is stored (so a run that finishes the work of
    a crashed one reports the whole month), and what this run itself added (`this_run`)."""

    period_start: date
    period_end: date
    changes_applied: int = 0
    services_cancelled_at_expiry: int = 0
    services_suspended: int = 0
    services_deleted: int = 0
    services_renewed: int = 0
    invoices_created: int = 0
    total_excl_tax: Decimal = Decimal("0.00")
    total_tax: Decimal = Decimal("0.00")
    total_incl_tax: Decimal = Decimal("0.00")
    # The totals above are in euros; invoices in another currency: {currency: total incl. tax}.
    totals_by_currency: dict[str, str] = field(default_factory=dict)
    sepa_debits: int = 0
    sepa_files: int = 0
    card_collections: int = 0
    invoice_emails: int = 0
    batches: int = 0
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)
    this_run: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def did_nothing(self) -> bool:
        """This run found nothing missing (the period was already complete)."""
        return not any(self.this_run.values())

    def as_table(self) -> Any:
        """A Rich table of the run, for the command line."""
        from rich.table import Table

        table = Table(
            title=f"Renewal {self.period_start.isoformat()} - {self.period_end.isoformat()}"
        )
        table.add_column("")
        table.add_column("", justify="right")
        rows = (
            ("Pending changes applied", self.changes_applied),
            ("Services cancelled at expiry (deleted)", self.services_cancelled_at_expiry),
            ("Manual renewals not paid (suspended)", self.services_suspended),
            ("Suspended past the grace period (deleted)", self.services_deleted),
            ("Services renewed", self.services_renewed),
            ("Invoices issued", self.invoices_created),
            ("Total excl. tax", f"{self.total_excl_tax:.2f} EUR"),
            ("Tax", f"{self.total_tax:.2f} EUR"),
            ("Total incl. tax", f"{self.total_incl_tax:.2f} EUR"),
            *(
                (f"Total incl. tax ({currency})", f"{amount} {currency}")
                for currency, amount in self.totals_by_currency.items()
            ),
            ("SEPA direct debits (pain.008 file)", self.sepa_debits),
            ("Card collections pending", self.card_collections),
            ("Invoice e-mails", self.invoice_emails),
            ("Seconds", self.seconds),
        )
        for label, value in rows:
            table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
        if self.did_nothing:
            table.caption = "Nothing was missing: the run changed nothing."
        return table

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["did_nothing"] = self.did_nothing
        for key, value in values.items():
            if isinstance(value, (date, Decimal)):
                values[key] = str(value)
        return values


class InjectedFailure(RuntimeError):
    """Raised by tests to simulate a crash after some batches."""


# --------------------------------------------------------------------------------------------------
# The run: the steps in order, then the summary of the period
# --------------------------------------------------------------------------------------------------
# 4. SEPA direct-debit file
# --------------------------------------------------------------------------------------------------
def run_renewal(
    platform: Platform,
    on: date,
    progress: Progress | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    fail_after_batches: int | None = None,
    wait: bool = False,
) -> RenewalSummary:
    """Renews every service for the month of `on` (normally the 1st). Idempotent and crash-safe.

    One run per period at a time: another run of the same period waits for this one (`wait`)
    or is refused with `RenewalAlreadyRunning`."""
    from voipdesk.billing.run_lock import renewal_lock

    with renewal_lock(platform, on.replace(day=1), wait=wait):
        return _run(platform, on, progress, batch_size, fail_after_batches)


def _run(
    platform: Platform,
    on: date,
    progress: Progress | None,
    batch_size: int,
    fail_after_batches: int | None,
) -> RenewalSummary:
    started = time.perf_counter()
    period_start = on.replace(day=1)
    summary = RenewalSummary(period_start, sub_rules.end_of_month(period_start))
    made = summary.this_run
    report = progress or (lambda step, done, total: None)

    with platform.transaction() as session:
        run = session.get(RenewalRun, period_start)
        if run is None:
            session.add(RenewalRun(period_start=period_start, started_at=platform.now()))
            finished: dict[str, Any] | None = None
        else:
            # The period as the last run left it, if that run finished: runs are one at a time,
            # and this one marks the period unfinished until it finishes, so a run that adds
            # something and crashes leaves no finished summary behind it.
            finished = dict(run.summary) if run.finished_at is not None and run.summary else None
            run.finished_at = None
    report("changes", 0, 1)
    mark = time.perf_counter()
    with platform.transaction() as session:
        made["changes_applied"], made["services_cancelled_at_expiry"] = apply_due_changes(
            session, platform, period_start
        )
        made["services_suspended"], made["services_deleted"] = suspend_and_delete(
            session, platform, period_start, on
        )
    report("changes", 1, 1)
    summary.step_seconds["changes"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()

    # The month before: its calls rated and its statements made, before its invoices charge them.
    report("statements", 0, 1)
    made["statements_made"] = consumption.close_month(
        platform,
        consumption_rules.previous_month(period_start),
        lambda done, total: report("statements", done, total),
    )
    summary.step_seconds["statements"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()

    with platform.session() as session:
        total_groups = int(
            session.execute(text("SELECT COUNT(*) FROM billing_group")).scalar() or 0
        )
    done_groups = 0
    low = ""
    made["invoices_created"] = made["services_renewed"] = 0
    report("invoices", 0, total_groups)
    with platform.session() as session:
        left = groups_left(session, period_start)
    while left:
        with platform.transaction() as session:
            high = batch_bounds(session, low, batch_size)
            if high is None:
                break
            result = invoice_batch(session, platform, period_start, low, high)
            done_in_batch = int(
                session.execute(
                    text("SELECT COUNT(*) FROM billing_group WHERE id > :low AND id <= :high"),
                    {"low": low, "high": high},
                ).scalar()
                or 0
            )
        summary.batches += 1
        made["invoices_created"] += result.invoices
        made["services_renewed"] += result.lines
        done_groups += done_in_batch
        low = high
        report("invoices", min(done_groups, total_groups), total_groups)
        if fail_after_batches is not None and summary.batches >= fail_after_batches:
            raise InjectedFailure(f"stopped after {summary.batches} batches")
    if made["invoices_created"] and platform.engine.dialect.name == "postgresql":
        # The period's invoices were just written: the statistics still said the period had
        # none, and a plan made on them reads every invoice once per group (a rerun's
        # `groups_left` took 34 s at 1 M services instead of 0.2 s).
        _maintain(platform, "ANALYZE invoice")
    summary.step_seconds["invoices"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()

    report("collections", 0, 1)
    with platform.transaction() as session:
        made["sepa_debits"] = build_sepa_file(session, platform, period_start, on)
    report("collections", 1, 1)
    if (
        made["invoices_created"] or made["sepa_debits"]
    ) and platform.engine.dialect.name == "postgresql":
        # Every invoice of the period is new or was just updated: its first reader would set
        # the hint bits of every version and fetch each from the heap (the rerun's first
        # statement took 2.1 s at 1 M services); after a vacuum, index-only lookups (0.15 s).
        _maintain(platform, "VACUUM (ANALYZE) invoice")
    summary.step_seconds["collections"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()
    with platform.transaction() as session:
        period_state(session, platform, summary, on, finished if summary.did_nothing else None)
        summary.step_seconds["summary"] = round(time.perf_counter() - mark, 3)
        summary.seconds = round(time.perf_counter() - started, 3)
        run = session.get(RenewalRun, period_start)
        if run is not None:
            run.finished_at = platform.now()
            run.summary = summary.as_json()
    if platform.engine.dialect.name == "sqlite":
        # Statistics for the next queries of every process (bounded: a sample per index). The
        # renewal's own statements do not depend on them (see tests/billing/test_sqlite_plans).
        with platform.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA analysis_limit = 1000")
            connection.exec_driver_sql("PRAGMA optimize")
    log.info("renewal.finished", **summary.as_json())
    return summary


# What only a renewal run writes (a period's invoices, their lines and e-mails): after a finished
# run, a run that adds nothing finds them as that run counted them.
RUN_WRITTEN = (
    "invoices_created",
    "total_excl_tax",
    "total_tax",
    "total_incl_tax",
    "totals_by_currency",
    "services_renewed",
    "invoice_emails",
)


def _maintain(platform: Platform, statement: str) -> None:
    """A maintenance statement outside any transaction (PostgreSQL's VACUUM needs it)."""
    with platform.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(statement)


def period_state(
    session: Session,
    platform: Platform,
    summary: RenewalSummary,
    on: date,
    finished: dict[str, Any] | None = None,
) -> None:
    """Fills `summary` with what exists for its period: invoices, lines, totals, debits and
    collections of the period's invoices, the changes due by it that are applied, the services
    it ended. Whichever runs did the work (a crashed one and its rerun), the month is whole.

    `finished`: the summary stored by the period's last run, when it finished and this run added
    nothing; the figures only runs write (`RUN_WRITTEN`) are then taken from it instead of being
    counted again over every invoice and line of the period (a rerun reads a few indexes)."""
    from dateutil.relativedelta import relativedelta

    period = summary.period_start
    previous = period - relativedelta(months=1)
    grace = timedelta(days=platform.settings.billing_grace_days)
    if finished is not None and all(key in finished for key in RUN_WRITTEN):
        summary.invoices_created = int(finished["invoices_created"])
        summary.total_excl_tax = Decimal(str(finished["total_excl_tax"]))
        summary.total_tax = Decimal(str(finished["total_tax"]))
        summary.total_incl_tax = Decimal(str(finished["total_incl_tax"]))
        summary.totals_by_currency = dict(finished["totals_by_currency"])
        summary.services_renewed = int(finished["services_renewed"])
        summary.invoice_emails = int(finished["invoice_emails"])
    else:
        _count_run_written(session, summary)
    _count_others(session, summary, on, previous, grace)


def _count_run_written(session: Session, summary: RenewalSummary) -> None:
    period = summary.period_start
    by_currency = session.execute(
        text(
            """SELECT currency, COUNT(*), COALESCE(SUM(total_excl_tax_cents), 0), COALESCE(SUM(total_tax_cents), 0)
               FROM invoice WHERE renewal_period = :p GROUP BY currency ORDER BY currency"""
        ),
        {"p": period},
    ).all()
    summary.invoices_created = sum(int(row[1]) for row in by_currency)
    summary.totals_by_currency = {}
    for currency, _count, excl, tax in by_currency:
        if currency == catalogue_rules.DEFAULT_CURRENCY:
            summary.total_excl_tax = cents_to_amount(int(excl))
            summary.total_tax = cents_to_amount(int(tax))
            summary.total_incl_tax = summary.total_excl_tax + summary.total_tax
        else:  # never added to the euros: each currency's totals on their own
            summary.totals_by_currency[currency] = str(cents_to_amount(int(excl) + int(tax)))
    summary.services_renewed = int(
        session.execute(
            text(
                """SELECT COUNT(*) FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id
                   WHERE i.renewal_period = :p AND l.period_start = :p"""
            ),
            {"p": period},
        ).scalar()
        or 0
    )
    summary.invoice_emails = int(
        session.execute(
            text(
                """SELECT COUNT(*) FROM invoice i JOIN outbox_message m ON m.dedup_key = :prefix || i.id
                   WHERE i.renewal_period = :p"""
            ),
            {"p": period, "prefix": INVOICE_EMAIL_KEY},
        ).scalar()
        or 0
    )


def _count_others(
    session: Session, summary: RenewalSummary, on: date, previous: date, grace: timedelta
) -> None:
    """The period's figures that other jobs and people change too (card collections charged,
    changes, services ended), counted every time."""
    period = summary.period_start
    # The pending card collections first (their index), then their invoices' period.
    summary.card_collections = int(
        session.execute(
            text(
                """SELECT COUNT(*) FROM billing_collection c JOIN invoice i ON i.id = c.invoice_id
                   WHERE c.state = 'pending' AND c.method_type = 'card' AND i.renewal_period = :p"""
            ),
            {"p": period},
        ).scalar()
        or 0
    )
    files = session.execute(
        text(
            "SELECT COUNT(*), COALESCE(SUM(debits), 0) FROM billing_sepa_file WHERE period_start = :p"
        ),
        {"p": period},
    ).one()
    summary.sepa_files, summary.sepa_debits = int(files[0]), int(files[1])
    summary.changes_applied = int(
        session.execute(
            text(
                """SELECT COUNT(*) FROM pending_change
                   WHERE state = 'applied' AND effective_on > :previous AND effective_on <= :p"""
            ),
            {"p": period, "previous": previous},
        ).scalar()
        or 0
    )
    # Services all expire at the end of a month: those ended by this period's run expired in the
    # month before it (suspended or cancelled), or a grace period before (deleted).
    ended = session.execute(
        text(
            """SELECT
                 COALESCE(SUM(CASE WHEN state = 'deleted' AND cancel_at_expiry = :yes
                                    AND expiry_on >= :previous THEN 1 ELSE 0 END), 0),
                 COALESCE(SUM(CASE WHEN state = 'suspended' AND renewal_mode = 'manual'
                                    AND expiry_on >= :previous THEN 1 ELSE 0 END), 0),
                 COALESCE(SUM(CASE WHEN state = 'deleted' AND cancel_at_expiry = :no
                                    AND suspended_at IS NOT NULL
                                    AND expiry_on >= :previous_cutoff AND expiry_on < :cutoff
                                    THEN 1 ELSE 0 END), 0)
               FROM service WHERE expiry_on < :p AND state IN ('deleted', 'suspended')"""
        ),
        {
            "p": period,
            "previous": previous,
            "yes": True,
            "no": False,
            "cutoff": on - grace,
            "previous_cutoff": previous - grace,
        },
    ).one()
    summary.services_cancelled_at_expiry = int(ended[0])
    summary.services_suspended = int(ended[1])
    summary.services_deleted = int(ended[2])
