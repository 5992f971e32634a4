# ruff: noqa: E501  (SQL statements read better unwrapped)
"""Step 4 of the renewal run: the period's pending direct debits gathered into one SEPA pain.008
file, unique per period and collection date (one transaction), and the mandates already debited
(their next debit is recurrent)."""

from __future__ import annotations

from datetime import date

import structlog
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from voipdesk.billing.renewal_changes import _exec
from voipdesk.core.db import UTCDateTime
from voipdesk.core.platform import Platform

log = structlog.get_logger(__name__)


def build_sepa_file(
    session: Session, platform: Platform, period_start: date, collection_date: date
) -> int:
    """Gathers pending direct debits into one pain.008 file; returns how many it holds.

    The file row is reserved first, unique per (period, collection date): a second run for the
    same day waits on that row (PostgreSQL) or the write lock (SQLite) and then makes no file.
    The debits are claimed by one UPDATE from `pending`, so a debit joins one file only."""
    from voipdesk.billing.sepa import make_pain008
    from voipdesk.core.db import new_id

    pending = session.execute(
        text(
            "SELECT 1 FROM billing_collection WHERE state = 'pending' AND method_type = 'sepa_debit' LIMIT 1"
        )
    ).first()
    if pending is None:
        return 0
    file_id = new_id()
    now = platform.now()
    now_bind = bindparam("now", type_=UTCDateTime())
    reserved = _exec(
        session,
        """INSERT INTO billing_sepa_file (id, period_start, collection_date, debits, total_cents, xml, created_at)
           VALUES (:id, :period_start, :collection_date, 0, 0, '', :now)
           ON CONFLICT (period_start, collection_date) DO NOTHING""",
        {
            "id": file_id,
            "period_start": period_start,
            "collection_date": collection_date,
            "now": now,
        },
        now_bind,
    )
    if reserved == 0:
        log.warning(
            "renewal.sepa_file_exists",
            period=period_start.isoformat(),
            collection_date=collection_date.isoformat(),
        )
        return 0
    claimed = _exec(
        session,
        """UPDATE billing_collection SET state = 'submitted', sepa_file_id = :file_id, settled_at = :now
           WHERE state = 'pending' AND method_type = 'sepa_debit'""",
        {"file_id": file_id, "now": now},
        now_bind,
    )
    if claimed == 0:  # another run took them between our check and our claim
        _exec(session, "DELETE FROM billing_sepa_file WHERE id = :id", {"id": file_id})
        return 0
    rows = session.execute(
        text(
            """SELECT c.id, c.amount_cents, i.number, pm.iban, pm.bic, pm.holder_name,
                      pm.mandate_reference, pm.mandate_signed_on
               FROM billing_collection c
               JOIN invoice i ON i.id = c.invoice_id
               JOIN payment_method pm ON pm.id = c.payment_method_id
               WHERE c.sepa_file_id = :file_id
               ORDER BY c.id"""
        ),
        {"file_id": file_id},
    ).all()
    xml = make_pain008(platform, collection_date, rows, file_id, used_mandates(session, file_id))
    _exec(
        session,
        "UPDATE billing_sepa_file SET debits = :debits, total_cents = :total, xml = :xml WHERE id = :id",
        {"id": file_id, "debits": len(rows), "total": sum(int(row[1]) for row in rows), "xml": xml},
    )
    # The bank collects the file: the debits count as paid; a reject later reverses one.
    _exec(
        session,
        """UPDATE invoice SET status = 'paid', paid_at = :now
           WHERE id IN (SELECT invoice_id FROM billing_collection WHERE sepa_file_id = :file_id)""",
        {"now": now, "file_id": file_id},
        now_bind,
    )
    return len(rows)


def used_mandates(session: Session, current_file_id: str = "") -> frozenset[str]:
    """Mandates already debited in an earlier SEPA file than `current_file_id` (their next debit
    is recurrent)."""
    return frozenset(
        str(reference)
        for (reference,) in session.execute(
            text(
                """SELECT DISTINCT pm.mandate_reference FROM billing_collection c
                   JOIN payment_method pm ON pm.id = c.payment_method_id
                   WHERE c.method_type = 'sepa_debit' AND c.sepa_file_id IS NOT NULL
                     AND c.sepa_file_id <> :current AND pm.mandate_reference IS NOT NULL"""
            ),
            {"current": current_file_id},
        )
    )


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------
