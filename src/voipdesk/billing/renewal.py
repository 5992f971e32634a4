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
from datetime import UTC, date, datetime, timedelta
from datetime import time as datetime_time
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from voipdesk.billing import rules
from voipdesk.billing.actions import INVOICE_EMAIL
from voipdesk.billing.models import RenewalRun
from voipdesk.billing.renewal_changes import (
    _exec,
    _is_postgres,
    apply_due_changes,
    suspend_and_delete,
)
from voipdesk.billing.renewal_sepa import build_sepa_file
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.consumption import rules as consumption_rules
from voipdesk.consumption import services as consumption
from voipdesk.core.db import DecimalAmount, UTCDateTime
from voipdesk.core.events import FAN_OUT_TOPIC
from voipdesk.core.i18n import gettext
from voipdesk.core.platform import Platform
from voipdesk.invoices.models import cents_to_amount
from voipdesk.invoices.rules import rate_to_ppm
from voipdesk.invoices.services import ISSUED as ISSUED_EVENT
from voipdesk.invoices.services import PAID as PAID_EVENT
from voipdesk.invoices.services import lock_counter, operator_snapshot
from voipdesk.subscriptions import rules as sub_rules

log = structlog.get_logger(__name__)

Progress = Callable[[str, int, int], None]  # (step, done, total)

# Billing groups per transaction, for the command, the job and the benchmark alike.
BATCH_SIZE = 5000
INVOICE_EMAIL_KEY = "invoice-email:"  # + invoice id: the outbox's dedup key of its e-mail
DRAFT = "draft"  # an invoice being built inside its batch's transaction; never seen outside it
BUILT = "built"  # totals computed, collection not yet attached (same transaction)


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
# 3. Invoicing by batches of billing groups
# --------------------------------------------------------------------------------------------------
_DUE_SERVICE = (
    """s.state = 'active' AND s.renewal_mode = 'automatic' AND s.expiry_on < :period_start"""
)


# A service deleted inside a month it had paid by renewal (not on its last day): the days after
# its deletion are credited on its group's next invoice.
_CREDITABLE = """s.state = 'deleted' AND s.expiry_on = :prev_end
    AND s.deleted_at >= :prev_start_at AND s.deleted_at < :prev_last_day_at
    AND EXISTS (SELECT 1 FROM invoice_line pl WHERE pl.service_id = s.id AND pl.period_start = :prev_start)"""


def _proration_params(period_start: date) -> tuple[dict[str, Any], list[Any]]:
    """The month before the period (where services started or ended inside it are prorated)."""
    prev_end = period_start - timedelta(days=1)
    prev_start = prev_end.replace(day=1)
    at = bindparam("prev_start_at", type_=UTCDateTime())
    last = bindparam("prev_last_day_at", type_=UTCDateTime())
    return {
        "prev_start": prev_start,
        "prev_end": prev_end,
        "prev_end_text": prev_end.isoformat(),
        "prev_days": prev_end.day,
        "prev_start_at": datetime.combine(prev_start, datetime_time(), UTC),
        "prev_last_day_at": datetime.combine(prev_end, datetime_time(), UTC),
    }, [at, last]


def groups_left(session: Session, period_start: date) -> bool:
    """Whether some group still lacks its invoice of the period while it has a service to charge
    or credit, or consumption it owes: exactly the groups a batch would invoice (a batch is one transaction, its invoices
    first), read in one statement instead of one anti-join per batch."""
    proration, proration_binds = _proration_params(period_start)
    # From the groups (a merge of two indexes: the groups' and the invoices' by group and
    # period) to the services of the few groups without their invoice, as `invoice_batch` reads
    # them; from the services, every service's row was read (1 M rows) to find none.
    statement = text(
        f"""SELECT 1 FROM billing_group g
            WHERE NOT EXISTS (SELECT 1 FROM invoice i WHERE i.billing_group_id = g.id
                              AND i.renewal_period = :period_start)
              AND (EXISTS (SELECT 1 FROM service s WHERE s.billing_group_id = g.id
                           AND ({_DUE_SERVICE} OR {_CREDITABLE}))
                   OR {consumption.OWED_SQL})
            LIMIT 1"""
    ).bindparams(*proration_binds)
    return (
        session.execute(statement, {"period_start": period_start, **proration}).first() is not None
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
    proration, proration_binds = _proration_params(period_start)
    year = period_start.year
    counter = lock_counter(session, year)
    base = counter.last_value
    if postgres:
        new_id = "md5(g.id || :period_key)"
        # lpad cuts longer strings: the millionth invoice of a year keeps its seven digits.
        sequence = "CAST(:base + ROW_NUMBER() OVER (ORDER BY g.id) AS TEXT)"
        number = (
            f"CAST(:year AS TEXT) || '-' || lpad({sequence}, GREATEST(6, length({sequence})), '0')"
        )
    else:
        new_id = "lower(hex(randomblob(16)))"
        number = "CAST(:year AS TEXT) || '-' || printf('%06d', :base + ROW_NUMBER() OVER (ORDER BY g.id))"
    # The group's country's currency (catalogue.rules.CURRENCY): its services were priced in it.
    currency = (
        "CASE g.tax_country "
        + " ".join(
            f"WHEN '{country}' THEN '{code}'" for country, code in catalogue_rules.CURRENCY.items()
        )
        + f" ELSE '{catalogue_rules.DEFAULT_CURRENCY}' END"
    )
    invoices = _exec(
        session,
        f"""INSERT INTO invoice (id, number, account_id, billing_group_id, order_id, renewal_period,
                issued_on, tax_country, currency, total_excl_tax_cents, total_tax_cents,
                total_incl_tax_cents, status, paid_at, created_at)
            SELECT {new_id}, {number}, g.billing_account_id, g.id, NULL, :period_start, :period_start,
                   g.tax_country, {currency}, 0, 0, 0, :draft, NULL, :now
            FROM billing_group g
            WHERE g.id > :low AND g.id <= :high
              AND NOT EXISTS (SELECT 1 FROM invoice i WHERE i.billing_group_id = g.id
                              AND i.renewal_period = :period_start
                              AND i.billing_group_id > :low AND i.billing_group_id <= :high)
              AND (EXISTS (SELECT 1 FROM service s WHERE s.billing_group_id = g.id
                          AND ({_DUE_SERVICE} OR {_CREDITABLE}))
                   OR {consumption.OWED_SQL})
            ORDER BY g.id""",
        {
            **rng,
            "year": year,
            "base": base,
            "draft": DRAFT,
            "now": now,
            "period_key": period_start.isoformat(),
            **proration,
        },
        now_bind,
        *proration_binds,
    )
    if invoices == 0:
        return BatchResult(0, 0, 0, 0)
    counter.last_value = base + invoices
    session.flush()
    label = "CASE WHEN a.language = 'fr' THEN o.label_fr ELSE o.label_en END"
    describe = f"COALESCE({label}, s.offer_code) || COALESCE(' ' || s.number_e164, '')"
    if postgres:
        expiry_day = "CAST(EXTRACT(DAY FROM s.expiry_on) AS INTEGER)"
        after_expiry = "(s.expiry_on + 1)"
        deleted_on = "CAST(s.deleted_at AT TIME ZONE 'UTC' AS DATE)"
        deleted_day = f"CAST(EXTRACT(DAY FROM {deleted_on}) AS INTEGER)"
        after_deleted = f"({deleted_on} + 1)"
    else:
        expiry_day = "CAST(strftime('%d', s.expiry_on) AS INTEGER)"
        after_expiry = "date(s.expiry_on, '+1 day')"
        deleted_day = "CAST(strftime('%d', s.deleted_at) AS INTEGER)"
        after_deleted = "date(s.deleted_at, '+1 day')"
    whole = rules.cumulative_cents_sql("{price}", ":prev_days", ":prev_days")
    upto = rules.cumulative_cents_sql("{price}", "{day}", ":prev_days")
    started_cents = (whole + " - " + upto).format(price="s.monthly_price_e4", day=expiry_day)
    ended_cents = (whole + " - " + upto).format(price="pl.unit_price_e4", day=deleted_day)
    in_batch = "s.billing_group_id > :low AND s.billing_group_id <= :high"
    # The batch's bounds on the invoice too: the planner does not carry them over from the
    # service, and read every invoice of the period already made (each batch more of them).
    invoice_join = """JOIN invoice i ON i.billing_group_id = s.billing_group_id
                          AND i.renewal_period = :period_start AND i.status = :draft
                          AND i.billing_group_id > :low AND i.billing_group_id <= :high
            JOIN account a ON a.id = i.account_id
            LEFT JOIN catalogue_offer o ON o.code = s.offer_code"""
    credit = "CASE WHEN a.language = 'fr' THEN :credit_fr ELSE :credit_en END"
    # The month, for each due service; the days of last month not yet paid, for a service
    # started inside it; a credit of the days after its deletion, for a service deleted inside
    # a month it had paid. Each line is unique per service and its first day: charged once.
    lines = _exec(
        session,
        f"""INSERT INTO invoice_line (invoice_id, description, quantity, unit_price_e4,
                amount_excl_tax_cents, tax_components, period_start, period_end, service_id)
            SELECT i.id, {describe}, :one, s.monthly_price_e4, (s.monthly_price_e4 + 50) / 100,
                   CAST(NULL AS JSON), :period_start, :period_end, s.id
            FROM service s
            {invoice_join}
            WHERE {in_batch} AND {_DUE_SERVICE}
            UNION ALL
            SELECT i.id, {describe} || ' (' || CAST({after_expiry} AS TEXT) || ' - ' || :prev_end_text || ')',
                   :one, 100 * ({started_cents}), {started_cents}, NULL, {after_expiry}, :prev_end, s.id
            FROM service s
            {invoice_join}
            WHERE {in_batch} AND {_DUE_SERVICE} AND s.expiry_on >= :prev_start AND s.expiry_on < :prev_end
            UNION ALL
            SELECT i.id, {credit} || {describe} || ' (' || CAST({after_deleted} AS TEXT) || ' - ' || :prev_end_text || ')',
                   :one, -100 * ({ended_cents}), -({ended_cents}), NULL, {after_deleted}, :prev_end, s.id
            FROM service s
            JOIN invoice_line pl ON pl.service_id = s.id AND pl.period_start = :prev_start
            {invoice_join}
            WHERE {in_batch} AND {_CREDITABLE}
            ON CONFLICT DO NOTHING""",
        {
            **rng,
            **proration,
            "draft": DRAFT,
            "one": Decimal(1),
            "period_end": period_end,
            "credit_fr": gettext("fr", "Credit: "),
            "credit_en": gettext("en", "Credit: "),
        },
        bindparam("one", type_=DecimalAmount()),
        *proration_binds,
    )
    lines += _consumption_lines(session, period_start, low, high)
    draft = "status = :draft AND renewal_period = :period_start AND billing_group_id > :low AND billing_group_id <= :high"
    # Tax per rate on the invoice's total of that rate, half up (same integers as
    # invoices.rules.tax_cents): one statement for every country's rates, reading the lines once.
    components = [
        (country, component.label, rate_to_ppm(component.rate))
        for country in catalogue_rules.COUNTRIES
        for component in catalogue_rules.tax_components(country, period_start)
    ]
    rates = ", ".join(f"(:c{n}, :l{n}, :p{n})" for n in range(len(components)))
    rate_params: dict[str, Any] = {}
    for n, (country, label_, ppm) in enumerate(components):
        rate_params.update({f"c{n}": country, f"l{n}": label_, f"p{n}": ppm})
    _exec(
        session,
        f"""WITH rate (country, label, ppm) AS (VALUES {rates}),
                 base AS (SELECT i.id AS invoice_id, i.tax_country AS country,
                                 CAST(SUM(l.amount_excl_tax_cents) AS BIGINT) AS cents
                          FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id
                          WHERE i.{draft.replace(" AND ", " AND i.")}
                          GROUP BY i.id, i.tax_country)
            INSERT INTO invoice_tax (invoice_id, label, rate_ppm, base_cents, tax_cents)
            SELECT base.invoice_id, rate.label, rate.ppm, base.cents,
                   CASE WHEN base.cents >= 0 THEN (base.cents * rate.ppm + 500000) / 1000000
                        ELSE -((-base.cents * rate.ppm + 500000) / 1000000) END
            FROM base JOIN rate ON rate.country = base.country""",
        {**rng, **rate_params, "draft": DRAFT},
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
                 AND pm.removed_at IS NULL
                 AND (pm.method_type = 'card' OR (pm.method_type = 'sepa_debit' AND i.currency = 'EUR'))
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
    # Each invoice is e-mailed once (the message's dedup key), by the outbox at its own pace.
    _exec(
        session,
        f"""INSERT INTO outbox_message (topic, payload, dedup_key, created_at, available_at, attempts)
            SELECT :topic, {json_object}('invoice_id', i.id), :prefix || i.id, :now, :now, 0
            FROM invoice i WHERE i.{draft.replace(" AND ", " AND i.")}
            ON CONFLICT DO NOTHING""",
        {**rng, "built": BUILT, "now": now, "topic": INVOICE_EMAIL, "prefix": INVOICE_EMAIL_KEY},
        now_bind,
    )
    _announce(session, platform, draft, rng, postgres)
    _exec(
        session,
        f"""UPDATE invoice SET status = CASE WHEN total_incl_tax_cents <= 0 THEN 'paid' ELSE 'unpaid' END,
                   paid_at = CASE WHEN total_incl_tax_cents <= 0 THEN :now ELSE NULL END
            WHERE {draft}""",
        {**rng, "built": BUILT, "now": now},
        now_bind,
    )
    return BatchResult(invoices, lines, int(totals[0]), int(totals[1]))


def _consumption_lines(session: Session, period_start: date, low: str, high: str) -> int:
    """The month before's calls beyond the plan and re-rating differences, one line each, on the
    invoices made in this batch (the consumption area marks them invoiced in this transaction,
    so a rerun, which finds the invoices made, charges nothing more)."""
    groups = [
        str(g)
        for (g,) in session.execute(
            text(
                """SELECT billing_group_id FROM invoice WHERE status = :draft
                   AND renewal_period = :period_start AND billing_group_id > :low
                   AND billing_group_id <= :high"""
            ),
            {"draft": DRAFT, "period_start": period_start, "low": low, "high": high},
        )
    ]
    drafts = consumption.invoice_lines(session, period_start, groups)
    if not drafts:
        return 0
    session.execute(
        text(
            """INSERT INTO invoice_line (invoice_id, description, quantity, unit_price_e4,
               amount_excl_tax_cents, tax_components, period_start, period_end, service_id)
           SELECT i.id, CASE WHEN a.language = 'fr' THEN :fr ELSE :en END, :one, :cents * 100,
                  :cents, NULL, :line_start, :line_end, NULL
           FROM invoice i JOIN account a ON a.id = i.account_id
           WHERE i.billing_group_id = :group AND i.renewal_period = :period_start
             AND i.status = :draft"""
        ).bindparams(bindparam("one", type_=DecimalAmount())),
        [
            {
                "fr": d.description_fr[:300],
                "en": d.description_en[:300],
                "one": Decimal(1),
                "cents": d.amount_cents,
                "line_start": d.period_start,
                "line_end": d.period_end,
                "group": d.billing_group_id,
                "period_start": period_start,
                "draft": DRAFT,
            }
            for d in drafts
        ],
    )
    return len(drafts)


def _announce(
    session: Session, platform: Platform, draft: str, rng: dict[str, Any], postgres: bool
) -> None:
    """`invoices.issued` for each invoice of the batch (and `invoices.paid` for those with
    nothing to pay), written as `core.events.publish` writes them (same event ids and dedup
    keys, so a re-run or the per-invoice path never announces one twice), in set-based SQL."""
    now = platform.now()
    json_object = "json_build_object" if postgres else "json_object"
    cents = "i.total_incl_tax_cents"
    sign = f"CASE WHEN {cents} < 0 THEN '-' ELSE '' END"
    if postgres:
        amount = f"{sign} || CAST(abs({cents}) / 100 AS TEXT) || '.' || right('00' || CAST(abs({cents}) % 100 AS TEXT), 2)"
        issued_on = "to_char(i.issued_on, 'YYYY-MM-DD')"
    else:
        amount = f"{sign} || CAST(abs({cents}) / 100 AS TEXT) || '.' || substr('00' || CAST(abs({cents}) % 100 AS TEXT), -2, 2)"
        issued_on = "CAST(i.issued_on AS TEXT)"
    facts = f"""'invoice_id', i.id, 'account_id', i.account_id, 'number', i.number,
                'order_id', i.order_id, 'billing_group_id', i.billing_group_id,
                'incl_tax', {json_object}('amount', {amount}, 'currency', i.currency)"""
    where = f"i.{draft.replace(' AND ', ' AND i.')}"
    for name, extra, condition in (
        (ISSUED_EVENT, f"'issued_on', {issued_on}", ""),
        (PAID_EVENT, "'paid_at', CAST(:published_at AS TEXT)", f" AND {cents} <= 0"),
    ):
        _exec(
            session,
            f"""INSERT INTO outbox_message (topic, payload, dedup_key, created_at, available_at, attempts)
                SELECT :topic, {json_object}('id', CAST(:name AS TEXT) || ':' || i.id, 'name', CAST(:name AS TEXT),
                           'payload', {json_object}({facts}, {extra}),
                           'published_at', CAST(:published_at AS TEXT)),
                       'event:' || CAST(:name AS TEXT) || ':' || i.id, :now, :now, 0
                FROM invoice i WHERE {where}{condition}
                ON CONFLICT DO NOTHING""",
            {
                **rng,
                "built": BUILT,
                "now": now,
                "topic": FAN_OUT_TOPIC,
                "name": name,
                "published_at": now.isoformat(),
            },
            bindparam("now", type_=UTCDateTime()),
        )


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
