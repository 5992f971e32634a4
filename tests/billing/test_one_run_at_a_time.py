"""Two renewals of one month at the same time (an operator's `voipdesk renew` while the worker's
job runs) never debit anyone twice nor record a change twice."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from tests.billing.test_crash_and_rerun import _populate
from voipdesk.billing import renewal
from voipdesk.billing.errors import RenewalAlreadyRunning
from voipdesk.billing.renewal import run_renewal
from voipdesk.billing.run_lock import renewal_lock
from voipdesk.core.platform import Platform

GROUPS = 12


def _counts(platform: Platform, period: date) -> dict[str, int]:
    with platform.session() as session:

        def one(sql: str, **params: object) -> int:
            return int(session.execute(text(sql), params).scalar() or 0)

        return {
            "sepa_collections": one(
                "SELECT COUNT(*) FROM billing_collection c JOIN invoice i ON i.id = c.invoice_id"
                " WHERE c.method_type = 'sepa_debit' AND i.renewal_period = :p",
                p=period,
            ),
            "debits_in_files": one(
                "SELECT COALESCE(SUM(debits), 0) FROM billing_sepa_file WHERE period_start = :p",
                p=period,
            ),
            "debits_in_xml": sum(
                xml.count("<DrctDbtTxInf>")
                for (xml,) in session.execute(
                    text("SELECT xml FROM billing_sepa_file WHERE period_start = :p"), {"p": period}
                )
            ),
            "files": one(
                "SELECT COUNT(*) FROM billing_sepa_file WHERE period_start = :p", p=period
            ),
            "invoices": one("SELECT COUNT(*) FROM invoice WHERE renewal_period = :p", p=period),
            "applied_events": one("SELECT COUNT(*) FROM service_event WHERE what LIKE 'applied %'"),
            "applied_changes": one("SELECT COUNT(*) FROM pending_change WHERE state = 'applied'"),
        }


def _two_at_once(platform: Platform, on: date, target) -> list[BaseException | object]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(2)
    results: list[BaseException | object] = []

    def one() -> None:
        barrier.wait()
        try:
            results.append(target(platform, on))
        except BaseException as error:
            results.append(error)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _assert_charged_once(platform: Platform, period: date) -> None:
    counts = _counts(platform, period)
    assert counts["invoices"] == GROUPS
    assert counts["sepa_collections"] == GROUPS // 2
    assert counts["debits_in_files"] == counts["sepa_collections"]
    assert counts["debits_in_xml"] == counts["sepa_collections"]
    assert counts["files"] == 1
    assert counts["applied_events"] == counts["applied_changes"]


# Concurrent runs are played on PostgreSQL only (SQLite: see the lock tests below).
POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@POSTGRESQL_ONLY
@pytest.mark.parametrize("round_", range(4))
def test_two_runs_at_once_refuse_or_wait_and_debit_once(platform, clock, round_):
    _populate(platform, GROUPS)
    on = date(2026, 4, 1)
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    wait = round_ % 2 == 1  # refuse on even rounds, wait on odd ones
    results = _two_at_once(platform, on, lambda p, d: run_renewal(p, d, batch_size=2, wait=wait))
    errors = [r for r in results if isinstance(r, BaseException)]
    if wait:
        assert errors == []
    else:
        # Either the second was refused while the first ran, or it started after the first ended.
        assert all(isinstance(error, RenewalAlreadyRunning) for error in errors)
        assert len(errors) <= 1
    _assert_charged_once(platform, on)


@POSTGRESQL_ONLY
@pytest.mark.parametrize("round_", range(3))
def test_without_the_lock_the_database_still_debits_once(platform, clock, round_):
    """The lock bypassed: the constraints alone (one file per period and date, debits claimed
    from `pending`, changes locked while applied) keep every debit and change single."""
    _populate(platform, GROUPS)
    on = date(2026, 4, 1)
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    results = _two_at_once(platform, on, lambda p, d: renewal._run(p, d, None, 2, None))
    for result in results:
        assert not isinstance(result, BaseException) or "unique" in str(result).lower(), result
    run_renewal(platform, on)  # whatever one of them left undone
    _assert_charged_once(platform, on)


def test_a_second_run_is_refused_with_a_clear_message(platform, clock):
    _populate(platform, 2)
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    with renewal_lock(platform, date(2026, 4, 1)):
        with pytest.raises(RenewalAlreadyRunning) as refused:
            run_renewal(platform, date(2026, 4, 1))
        assert "The renewal of 2026-04 is already running" in str(refused.value)
        assert _counts(platform, date(2026, 4, 1))["invoices"] == 0
    assert run_renewal(platform, date(2026, 4, 1)).invoices_created == 2
