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

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from voipdesk.billing.models import RenewalRun
from voipdesk.billing.renewal_changes import (
    _exec,
    _is_postgres,
    apply_due_changes,
    suspend_and_delete,
)
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.db import DecimalAmount, UTCDateTime
from voipdesk.core.platform import Platform
from voipdesk.invoices.models import cents_to_amount
from voipdesk.invoices.rules import rate_to_ppm
from voipdesk.invoices.services import lock_counter, operator_snapshot
from voipdesk.subscriptions import rules as sub_rules

log = structlog.get_logger(__name__)

Progress = Callable[[str, int, int], None]  # (step, done, total)

DRAFT = "draft"  # an invoice being built inside its batch's transaction; never seen outside it
BUILT = "built"  # totals computed, collection not yet attached (same transaction)


@dataclass
class RenewalSummary:
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
    sepa_debits: int = 0
    card_collections: int = 0
    batches: int = 0
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def did_nothing(self) -> bool:
        return not (
            self.changes_applied
            or self.services_cancelled_at_expiry
            or self.services_suspended
            or self.services_deleted
            or self.services_renewed
            or self.invoices_created
            or self.sepa_debits
        )

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
            ("SEPA direct debits (pain.008 file)", self.sepa_debits),
            ("Card collections pending", self.card_collections),
            ("Seconds", self.seconds),
        )
        for label, value in rows:
            table.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
        if self.did_nothing:
            table.caption = "Nothing was missing: the run changed nothing."
        return table

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        for key, value in values.items():
            if isinstance(value, (date, Decimal)):
                values[key] = str(value)
        return values


class InjectedFailure(RuntimeError):
    """Raised by tests to simulate a crash after some batches."""


# --------------------------------------------------------------------------------------------------
# 3. Invoicing by batches of billing groups
# --------------------------------------------------------------------------------------------------
_DUE_SERVICE = (
    """s.state = 'active' AND s.renewal_mode = 'automatic' AND s.expiry_on < :period_start"""
)


def _batch_bounds(session: Session, after: str, size: int) -> str | None:
    """The last group id of the next batch after `after` (None when none is left)."""
    upper = session.execute(
        text("SELECT id FROM billing_group WHERE id > :after ORDER BY id LIMIT 1 OFFSET :skip"),
        {"after": after, "skip": size - 1},
    ).scalar()
    if upper is not None:
        return str(upper)
    last = session.execute(
        text("SELECT MAX(id) FROM billing_group WHERE id > :after"), {"after": after}
    ).scalar()
    return str(last) if last is not None else None


@dataclass
class BatchResult:
    invoices: int
    lines: int
    excl_cents: int
    tax_cents: int


def invoice_batch(
    session: Session, platform: Platform, period_start: date, low: str, high: str
) -> BatchResult:
    """Invoices the due services of the groups low < id <= high, in the caller's transaction."""
    postgres = _is_postgres(session)
    period_end = sub_rules.end_of_month(period_start)
    now = platform.now()
    now_bind = bindparam("now", type_=UTCDateTime())
    rng = {"low": low, "high": high, "period_start": period_start}
    year = period_start.year
    counter = lock_counter(session, year)
    base = counter.last_value
    if postgres:
        new_id = "md5(g.id || :period_key)"
        number = "CAST(:year AS TEXT) || '-' || lpad(CAST(:base + ROW_NUMBER() OVER (ORDER BY g.id) AS TEXT), 6, '0')"
    else:
        new_id = "lower(hex(randomblob(16)))"
        number = "CAST(:year AS TEXT) || '-' || printf('%06d', :base + ROW_NUMBER() OVER (ORDER BY g.id))"
    invoices = _exec(
        session,
        f"""INSERT INTO invoice (id, number, account_id, billing_group_id, order_id, renewal_period,
                issued_on, tax_country, currency, total_excl_tax_cents, total_tax_cents,
                total_incl_tax_cents, status, paid_at, created_at)
            SELECT {new_id}, {number}, g.billing_account_id, g.id, NULL, :period_start, :period_start,
                   g.tax_country, 'EUR', 0, 0, 0, :draft, NULL, :now
            FROM billing_group g
            WHERE g.id > :low AND g.id <= :high
              AND g.id IN (SELECT s.billing_group_id FROM service s
                           WHERE s.billing_group_id > :low AND s.billing_group_id <= :high
                             AND {_DUE_SERVICE})
              AND NOT EXISTS (SELECT 1 FROM invoice i WHERE i.billing_group_id = g.id
                              AND i.renewal_period = :period_start)
            ORDER BY g.id""",
        {
            **rng,
            "year": year,
            "base": base,
            "draft": DRAFT,
            "now": now,
            "period_key": period_start.isoformat(),
        },
        now_bind,
    )
    if invoices == 0:
        return BatchResult(0, 0, 0, 0)
    counter.last_value = base + invoices
    session.flush()
    label = "CASE WHEN a.language = 'fr' THEN o.label_fr ELSE o.label_en END"
    lines = _exec(
        session,
        f"""INSERT INTO invoice_line (invoice_id, description, quantity, unit_price_e4,
                amount_excl_tax_cents, tax_components, period_start, period_end, service_id)
            SELECT i.id, COALESCE({label}, s.offer_code) || COALESCE(' ' || s.number_e164, ''), :one,
                   s.monthly_price_e4, (s.monthly_price_e4 + 50) / 100, NULL, :period_start,
                   :period_end, s.id
            FROM service s
            JOIN invoice i ON i.billing_group_id = s.billing_group_id
                          AND i.renewal_period = :period_start AND i.status = :draft
            JOIN account a ON a.id = i.account_id
            LEFT JOIN catalogue_offer o ON o.code = s.offer_code
            WHERE s.billing_group_id > :low AND s.billing_group_id <= :high AND {_DUE_SERVICE}
            ON CONFLICT DO NOTHING""",
        {**rng, "draft": DRAFT, "one": Decimal(1), "period_end": period_end},
        bindparam("one", type_=DecimalAmount()),
    )
    draft = "status = :draft AND renewal_period = :period_start AND billing_group_id > :low AND billing_group_id <= :high"
    # Tax per rate on the invoice's total of that rate, half up (same integers as invoices.rules.tax_cents).
    for country in catalogue_rules.COUNTRIES:
        for component in catalogue_rules.tax_components(country, period_start):
            _exec(
                session,
                f"""INSERT INTO invoice_tax (invoice_id, label, rate_ppm, base_cents, tax_cents)
                    SELECT i.id, :label, :ppm, SUM(l.amount_excl_tax_cents),
                           CASE WHEN SUM(l.amount_excl_tax_cents) >= 0
                                THEN (CAST(SUM(l.amount_excl_tax_cents) AS BIGINT) * :ppm + 500000) / 1000000
                                ELSE -((CAST(-SUM(l.amount_excl_tax_cents) AS BIGINT) * :ppm + 500000) / 1000000)
                           END
                    FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id
                    WHERE i.{draft.replace(" AND ", " AND i.")} AND i.tax_country = :country
                    GROUP BY i.id""",
                {
                    **rng,
                    "draft": DRAFT,
                    "label": component.label,
                    "ppm": rate_to_ppm(component.rate),
                    "country": country,
                },
            )
    # Totals and status in one update per invoice.
    excl = "(SELECT COALESCE(SUM(l.amount_excl_tax_cents), 0) FROM invoice_line l WHERE l.invoice_id = invoice.id)"
    tax = (
        "(SELECT COALESCE(SUM(t.tax_cents), 0) FROM invoice_tax t WHERE t.invoice_id = invoice.id)"
    )
    _exec(
        session,
        f"""UPDATE invoice SET total_excl_tax_cents = {excl}, total_tax_cents = {tax},
                   total_incl_tax_cents = {excl} + {tax},
                   status = :building
            WHERE {draft}""",
        {**rng, "draft": DRAFT, "building": BUILT},
    )
    draft = draft.replace(":draft", ":built")
    # Who the invoice is for, as they are today (kept if the account is closed later).
    json_object = "json_build_object" if postgres else "json_object"
    operator = json.dumps(operator_snapshot(platform))
    operator_value = "CAST(:operator AS JSON)" if postgres else ":operator"
    _exec(
        session,
        f"""INSERT INTO invoice_party (invoice_id, customer, operator)
            SELECT i.id, {json_object}('handle', a.handle, 'kind', a.kind,
                       'registration_number', a.registration_number, 'name',
                       COALESCE(a.organisation_name, a.first_name || ' ' || a.last_name),
                       'address_line1', a.address_line1, 'address_line2', a.address_line2,
                       'postal_code', a.postal_code, 'city', a.city, 'country', a.country,
                       'email', a.email, 'language', a.language),
                   {operator_value}
            FROM invoice i JOIN account a ON a.id = i.account_id
            WHERE i.{draft.replace(" AND ", " AND i.")}""",
        {**rng, "built": BUILT, "operator": operator},
    )
    # Automatic renewal charges the default payment method (card or SEPA direct debit).
    _exec(
        session,
        f"""INSERT INTO billing_collection (invoice_id, account_id, payment_method_id, method_type,
                amount_cents, state, created_at)
            SELECT i.id, i.account_id, pm.id, pm.method_type, i.total_incl_tax_cents, 'pending', :now
            FROM invoice i
            JOIN payment_method pm ON pm.account_id = i.account_id AND pm.is_default = :yes
                 AND pm.removed_at IS NULL AND pm.method_type IN ('card', 'sepa_debit')
            WHERE i.{draft.replace(" AND ", " AND i.")} AND i.total_incl_tax_cents > 0
            ON CONFLICT DO NOTHING""",
        {**rng, "built": BUILT, "yes": True, "now": now},
        now_bind,
    )
    totals = session.execute(
        text(
            f"SELECT COALESCE(SUM(total_excl_tax_cents), 0), COALESCE(SUM(total_tax_cents), 0) FROM invoice WHERE {draft}"
        ),
        {**rng, "built": BUILT},
    ).one()
    # Renewed: the due services of the groups invoiced in this batch, whose lines were written
    # above in this transaction (so none is renewed for free).
    _exec(
        session,
        """UPDATE service SET expiry_on = :period_end
            WHERE billing_group_id > :low AND billing_group_id <= :high
              AND state = 'active' AND renewal_mode = 'automatic' AND expiry_on < :period_start
              AND billing_group_id IN (SELECT i.billing_group_id FROM invoice i
                                       WHERE i.renewal_period = :period_start AND i.status = :built
                                         AND i.billing_group_id > :low AND i.billing_group_id <= :high)""",
        {**rng, "period_end": period_end, "built": BUILT},
    )
    _exec(
        session,
        f"""UPDATE invoice SET status = CASE WHEN total_incl_tax_cents = 0 THEN 'paid' ELSE 'unpaid' END,
                   paid_at = CASE WHEN total_incl_tax_cents = 0 THEN :now ELSE NULL END
            WHERE {draft}""",
        {**rng, "built": BUILT, "now": now},
        now_bind,
    )
    return BatchResult(invoices, lines, int(totals[0]), int(totals[1]))


# --------------------------------------------------------------------------------------------------
# 4. SEPA direct-debit file
# --------------------------------------------------------------------------------------------------
def build_sepa_file(session: Session, platform: Platform, collection_date: date) -> int:
    """Gathers pending direct debits into one pain.008 file; returns how many it holds."""
    from voipdesk.billing.sepa import make_pain008

    rows = session.execute(
        text(
            """SELECT c.id, c.amount_cents, i.number, pm.iban, pm.bic, pm.holder_name,
                      pm.mandate_reference, pm.mandate_signed_on
               FROM billing_collection c
               JOIN invoice i ON i.id = c.invoice_id
               JOIN payment_method pm ON pm.id = c.payment_method_id
               WHERE c.state = 'pending' AND c.method_type = 'sepa_debit'
               ORDER BY c.id"""
        )
    ).all()
    if not rows:
        return 0
    from voipdesk.core.db import new_id

    file_id = new_id()
    xml = make_pain008(platform, collection_date, rows, file_id, used_mandates(session))
    total = sum(int(row[1]) for row in rows)
    now = platform.now()
    _exec(
        session,
        """INSERT INTO billing_sepa_file (id, collection_date, debits, total_cents, xml, created_at)
           VALUES (:id, :collection_date, :debits, :total, :xml, :now)""",
        {
            "id": file_id,
            "collection_date": collection_date,
            "debits": len(rows),
            "total": total,
            "xml": xml,
            "now": now,
        },
        bindparam("now", type_=UTCDateTime()),
    )
    # The bank collects the file: the debits count as paid; a reject later reverses one.
    _exec(
        session,
        """UPDATE invoice SET status = 'paid', paid_at = :now
           WHERE id IN (SELECT invoice_id FROM billing_collection
                        WHERE state = 'pending' AND method_type = 'sepa_debit')""",
        {"now": now},
        bindparam("now", type_=UTCDateTime()),
    )
    _exec(
        session,
        """UPDATE billing_collection SET state = 'submitted', sepa_file_id = :file_id, settled_at = :now
           WHERE state = 'pending' AND method_type = 'sepa_debit'""",
        {"file_id": file_id, "now": now},
        bindparam("now", type_=UTCDateTime()),
    )
    return len(rows)


def used_mandates(session: Session) -> frozenset[str]:
    """Mandates already debited in an earlier SEPA file (their next debit is recurrent)."""
    return frozenset(
        str(reference)
        for (reference,) in session.execute(
            text(
                """SELECT DISTINCT pm.mandate_reference FROM billing_collection c
                   JOIN payment_method pm ON pm.id = c.payment_method_id
                   WHERE c.method_type = 'sepa_debit' AND c.sepa_file_id IS NOT NULL
                     AND pm.mandate_reference IS NOT NULL"""
            )
        )
    )


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------
def run_renewal(
    platform: Platform,
    on: date,
    progress: Progress | None = None,
    *,
    batch_size: int = 5000,
    fail_after_batches: int | None = None,
) -> RenewalSummary:
    """Renews every service for the month of `on` (normally the 1st). Idempotent and crash-safe."""
    started = time.perf_counter()
    period_start = on.replace(day=1)
    summary = RenewalSummary(period_start, sub_rules.end_of_month(period_start))
    report = progress or (lambda step, done, total: None)

    with platform.transaction() as session:
        run = session.get(RenewalRun, period_start)
        if run is None:
            session.add(RenewalRun(period_start=period_start, started_at=platform.now()))
    report("changes", 0, 1)
    mark = time.perf_counter()
    with platform.transaction() as session:
        summary.changes_applied, summary.services_cancelled_at_expiry = apply_due_changes(
            session, platform, period_start
        )
        summary.services_suspended, summary.services_deleted = suspend_and_delete(
            session, platform, period_start, on
        )
    report("changes", 1, 1)
    summary.step_seconds["changes"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()

    with platform.session() as session:
        total_groups = int(
            session.execute(text("SELECT COUNT(*) FROM billing_group")).scalar() or 0
        )
    done_groups = 0
    low = ""
    report("invoices", 0, total_groups)
    while True:
        with platform.transaction() as session:
            high = _batch_bounds(session, low, batch_size)
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
        summary.invoices_created += result.invoices
        summary.services_renewed += result.lines
        summary.total_excl_tax += cents_to_amount(result.excl_cents)
        summary.total_tax += cents_to_amount(result.tax_cents)
        done_groups += done_in_batch
        low = high
        report("invoices", min(done_groups, total_groups), total_groups)
        if fail_after_batches is not None and summary.batches >= fail_after_batches:
            raise InjectedFailure(f"stopped after {summary.batches} batches")
    summary.total_incl_tax = summary.total_excl_tax + summary.total_tax
    summary.step_seconds["invoices"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()

    report("collections", 0, 1)
    with platform.transaction() as session:
        summary.sepa_debits = build_sepa_file(session, platform, on)
    with platform.session() as session:
        summary.card_collections = int(
            session.execute(
                text(
                    "SELECT COUNT(*) FROM billing_collection WHERE state = 'pending' AND method_type = 'card'"
                )
            ).scalar()
            or 0
        )
    report("collections", 1, 1)
    summary.step_seconds["collections"] = round(time.perf_counter() - mark, 3)
    summary.seconds = round(time.perf_counter() - started, 3)
    with platform.transaction() as session:
        run = session.get(RenewalRun, period_start)
        if run is not None:
            run.finished_at = platform.now()
            if not summary.did_nothing or run.summary is None:
                run.summary = summary.as_json()
    log.info("renewal.finished", **summary.as_json())
    return summary
