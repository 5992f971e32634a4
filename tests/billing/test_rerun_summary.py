"""A rerun that adds nothing takes the figures only runs write (invoices, totals, lines, e-mails)
from the period's last finished run and counts the others again; a run that starts marks the
period unfinished, so after a run that crashed the next one counts everything."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from tests.accounts.factories import make_account
from tests.billing.helpers import add_sepa_method
from tests.billing.test_manual_and_cards import _card
from tests.subscriptions.factories import deliver
from voipdesk.billing import renewal
from voipdesk.billing.actions import collect_pending_cards
from voipdesk.billing.models import RenewalRun
from voipdesk.billing.renewal import RUN_WRITTEN, run_renewal

APRIL = date(2026, 4, 1)


def _customers(platform) -> None:
    sepa, card = make_account(platform), make_account(platform)
    add_sepa_method(platform, sepa.id)
    _card(platform, card.id, "succeeds")
    deliver(platform, sepa.id, lines=[("sip-entreprise", 2)], aliases=2, faxes=1)
    deliver(platform, card.id, lines=[("sip-decouverte", 1)], aliases=1)


def _figures(summary) -> dict[str, object]:
    figures = summary.as_json()
    for key in ("seconds", "step_seconds", "this_run", "batches", "did_nothing", "notes"):
        figures.pop(key)
    return figures


def _stored_summary_says(platform, **values: object) -> None:
    with platform.transaction() as session:
        run = session.get(RenewalRun, APRIL)
        assert run is not None and run.summary is not None and run.finished_at is not None
        run.summary = {**run.summary, **values}


def test_a_rerun_reports_the_month_as_a_full_count_does(platform):
    _customers(platform)
    first = run_renewal(platform, APRIL)
    assert first.invoices_created == 2 and first.card_collections == 1
    again = run_renewal(platform, APRIL)
    assert again.did_nothing and _figures(again) == _figures(first)
    # What other jobs change is counted again: the card collection charged since.
    assert collect_pending_cards(platform) == 1
    after_cards = run_renewal(platform, APRIL)
    assert after_cards.did_nothing and after_cards.card_collections == 0
    assert {k: v for k, v in _figures(after_cards).items() if k != "card_collections"} == {
        k: v for k, v in _figures(first).items() if k != "card_collections"
    }


def test_a_rerun_after_a_finished_run_takes_what_only_runs_write_from_it(platform):
    _customers(platform)
    run_renewal(platform, APRIL)
    # A stored figure the rerun could only have read (no count gives 999 invoices).
    _stored_summary_says(platform, invoices_created=999)
    assert "invoices_created" in RUN_WRITTEN
    assert run_renewal(platform, APRIL).invoices_created == 999


def test_after_a_crashed_run_the_next_one_counts_everything(platform, monkeypatch):
    _customers(platform)
    run_renewal(platform, APRIL)
    _stored_summary_says(platform, invoices_created=999)

    def crash(*args, **kwargs):
        raise RuntimeError("killed in the SEPA step")

    with monkeypatch.context() as patched:
        patched.setattr(renewal, "build_sepa_file", crash)
        with pytest.raises(RuntimeError):
            run_renewal(platform, APRIL)
    with platform.session() as session:
        run = session.get(RenewalRun, APRIL)
        assert run is not None and run.finished_at is None  # the period is not finished
    rerun = run_renewal(platform, APRIL)
    assert rerun.did_nothing and rerun.invoices_created == 2  # counted, not read
    with platform.session() as session:
        run = session.get(RenewalRun, APRIL)
        assert run is not None and run.finished_at is not None
        lines = session.execute(
            text("SELECT COUNT(*) FROM invoice_line WHERE period_start = :p"), {"p": APRIL}
        ).scalar()
    assert lines and rerun.services_renewed == lines
