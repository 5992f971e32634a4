"""What other areas (the renewal run) ask the consumption area: plain functions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import text

from voipdesk.consumption import actions
from voipdesk.consumption.actions import InvoiceLineDraft, invoice_lines
from voipdesk.core.platform import Platform

__all__ = [
    "OWED_SQL",
    "InvoiceLineDraft",
    "close_month",
    "invoice_lines",
    "rate_everything_pending",
]

# The renewal's condition (SQL, on the billing group `g`, with :prev_start) for a group that
# owes consumption not invoiced yet: the month before's beyond-plan amount or a re-rating
# difference. Such a group gets its invoice of the period even with no service due, so the
# beyond-plan step charges it (once: `invoice_lines` marks it invoiced).
OWED_SQL = """(EXISTS (SELECT 1 FROM consumption_statement cs WHERE cs.billing_group_id = g.id
                   AND cs.month = :prev_start AND cs.invoiced_period IS NULL
                   AND cs.beyond_plan_cents > 0)
               OR EXISTS (SELECT 1 FROM consumption_adjustment ca WHERE ca.billing_group_id = g.id
                   AND ca.invoiced_period IS NULL AND ca.difference_cents <> 0))"""

BATCH = 5000


def rate_everything_pending(platform: Platform) -> int:
    """Rates every call record not rated yet (one transaction per batch of line-months)."""
    done = 0
    while True:
        with platform.transaction() as session:
            rated = actions.rate_pending(session, platform)
        if not rated:
            return done
        done += rated


def close_month(
    platform: Platform, month: date, progress: Callable[[int, int], None] | None = None
) -> int:
    """The renewal run's step for the month before its period: what is left is rated, then the
    statement of every billing group that had calls is made (by batches of groups, set-based);
    a rerun makes only those missing. Returns how many statements this call made."""
    rate_everything_pending(platform)
    made = 0
    with platform.session() as session:
        total = int(
            session.execute(
                text(
                    "SELECT COUNT(DISTINCT billing_group_id) FROM consumption_rated_call "
                    "WHERE month = :m AND billing_group_id IS NOT NULL"
                ),
                {"m": month},
            ).scalar()
            or 0
        )
    low, done = "", 0
    while True:
        with platform.transaction() as session:
            high = session.execute(
                text(
                    """SELECT MAX(billing_group_id) FROM (
                         SELECT DISTINCT billing_group_id FROM consumption_rated_call
                         WHERE month = :m AND billing_group_id > :low
                         ORDER BY billing_group_id LIMIT :n) AS batch"""
                ),
                {"m": month, "low": low, "n": BATCH},
            ).scalar()
            if high is None:
                break
            made += actions.make_statements(session, platform, month, low, str(high))
        done = min(total, done + BATCH)
        low = str(high)
        if progress is not None:
            progress(done, total)
    return made
