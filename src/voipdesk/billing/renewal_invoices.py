# ruff: noqa: E501  (SQL statements read better unwrapped)
"""Step 3 of the monthly renewal run: billing groups invoiced by batches (keyset on the group id),
one transaction per batch: invoice rows (numbers from the year's counter row, locked), their
lines (unique per service and period: `ON CONFLICT DO NOTHING`), tax per rate on the totals,
customer snapshot, the collection on the default payment method, and the services' new expiry
date. `billing.renewal` runs the steps in order."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as datetime_time
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from voipdesk.billing import rules
from voipdesk.billing.actions import INVOICE_EMAIL
from voipdesk.billing.renewal_changes import (
    _exec,
    _is_postgres,
)
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.consumption import services as consumption
from voipdesk.core.db import DecimalAmount, UTCDateTime
from voipdesk.core.events import FAN_OUT_TOPIC
from voipdesk.core.i18n import gettext
from voipdesk.core.platform import Platform
from voipdesk.invoices.rules import rate_to_ppm
from voipdesk.invoices.services import ISSUED as ISSUED_EVENT
from voipdesk.invoices.services import PAID as PAID_EVENT
from voipdesk.invoices.services import lock_counter, operator_snapshot
from voipdesk.subscriptions import rules as sub_rules

log = structlog.get_logger(__name__)

# Invoice states inside a batch's transaction (never seen outside it), and the outbox's dedup key
# of an invoice's e-mail (+ the invoice id).
INVOICE_EMAIL_KEY = "invoice-email:"
DRAFT = "draft"  # an invoice being built
BUILT = "built"  # totals computed, collection not yet attached


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


def batch_bounds(session: Session, after: str, size: int) -> str | None:
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
