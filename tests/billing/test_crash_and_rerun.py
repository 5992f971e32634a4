"""A renewal killed at any point and started again ends exactly as an uninterrupted run; a
re-run never adds anything."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.accounts.factories import make_account
from tests.billing.helpers import add_sepa_method, snapshot
from tests.conftest import test_settings as settings_for
from tests.subscriptions.factories import deliver
from voipdesk.billing.models import RenewalRun
from voipdesk.billing.renewal import InjectedFailure, RenewalSummary, run_renewal
from voipdesk.core.clock import MovableClock
from voipdesk.core.db import make_engine
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import actions

GROUPS = 40
RUNNER = """
import sys
from datetime import UTC, date, datetime
from voipdesk.areas import load_models
from voipdesk.billing.models import RenewalRun
from voipdesk.billing.renewal import InjectedFailure, RenewalSummary, run_renewal
from voipdesk.core.clock import MovableClock
from voipdesk.core.db import make_engine
from voipdesk.core.platform import Platform
from voipdesk.core.settings import Settings
load_models()
url = sys.argv[1]
settings = Settings(_env_file=None, database_url=url, payment_provider="sandbox",
                    payment_webhook_secret="test-webhook-secret-fedcba9876543210")
platform = Platform(settings, make_engine(url),
                    MovableClock(datetime(2026, 4, 1, 0, 30, tzinfo=UTC)))
run_renewal(platform, date(2026, 4, 1), batch_size=1)
"""


def _populate(platform: Platform, groups: int) -> None:
    for index in range(groups):
        account = make_account(platform)
        if index % 2:
            add_sepa_method(platform, account.id)
        result = deliver(
            platform,
            account.id,
            lines=[("sip-decouverte", 1), ("sip-entreprise", 3)],
            aliases=index % 3,
            faxes=1,
        )
        if index % 3 == 0:
            with platform.transaction() as session:
                number = result.sip_credentials[0].number_e164
                actions.request_offer_change(
                    session,
                    platform,
                    account.id,
                    result.billing_group_id,
                    [number],
                    "sip-entreprise",
                )


def _period_figures(summary: RenewalSummary) -> dict[str, object]:
    figures = summary.as_json()
    for key in ("seconds", "step_seconds", "this_run", "batches", "did_nothing", "notes"):
        figures.pop(key)
    return figures


def _platform(url: str, clock: MovableClock) -> Platform:
    return Platform(settings=settings_for(url), engine=make_engine(url), clock=clock)


@pytest.mark.parametrize("kill_after_invoices", [1, 17, 39])
def test_killing_the_process_mid_run_then_rerunning_gives_identical_results(
    sqlite_template, tmp_path, clock, kill_after_invoices
):
    killed_path = tmp_path / "killed.sqlite3"
    shutil.copy(sqlite_template, killed_path)
    platform = _platform(f"sqlite:///{killed_path}", clock)
    _populate(platform, GROUPS)
    platform.engine.dispose()
    reference_path = tmp_path / "reference.sqlite3"
    shutil.copy(killed_path, reference_path)

    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    reference = _platform(f"sqlite:///{reference_path}", clock)
    reference_summary = run_renewal(reference, date(2026, 4, 1))
    expected = snapshot(reference)

    killed = _platform(f"sqlite:///{killed_path}", clock)
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER, f"sqlite:///{killed_path}"], cwd=Path.cwd()
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        with killed.session() as session:
            invoices = session.execute(text("SELECT COUNT(*) FROM invoice")).scalar()
        if invoices and invoices >= kill_after_invoices:
            process.kill()
            break
        time.sleep(0.01)
    process.wait(timeout=30)
    assert process.returncode == -9, "the run should have been killed part-way"
    rerun = run_renewal(killed, date(2026, 4, 1))
    assert snapshot(killed) == expected
    assert len(expected["invoices"]) == GROUPS
    # The summary is the whole month's, not the rerun's share of it.
    assert _period_figures(rerun) == _period_figures(reference_summary)
    assert rerun.invoices_created == GROUPS and not rerun.did_nothing
    with killed.session() as session:
        stored = session.get(RenewalRun, date(2026, 4, 1))
        assert stored is not None and stored.summary is not None
        assert stored.summary["invoices_created"] == GROUPS
        assert stored.summary["services_renewed"] == reference_summary.services_renewed


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    groups=st.integers(min_value=0, max_value=3),
    months_ahead=st.integers(min_value=1, max_value=14),
    batch=st.integers(min_value=1, max_value=4),
)
def test_rerunning_the_renewal_never_adds_anything(platform, groups, months_ahead, batch):
    _populate(platform, groups)
    year, month = divmod(3 + months_ahead - 1, 12)
    on = date(2026 + year, month + 1, 1)
    run_renewal(platform, on, batch_size=batch)
    before = snapshot(platform)
    assert run_renewal(platform, on, batch_size=batch).did_nothing
    assert snapshot(platform) == before


def test_a_rerun_after_a_crash_reports_the_whole_month(platform, clock):
    _populate(platform, 6)
    clock.move_to(datetime(2026, 4, 1, 0, 30, tzinfo=UTC))
    with pytest.raises(InjectedFailure):
        run_renewal(platform, date(2026, 4, 1), batch_size=1, fail_after_batches=5)
    rerun = run_renewal(platform, date(2026, 4, 1), batch_size=1)
    assert rerun.this_run["invoices_created"] == 1  # the rerun made the one that was missing
    assert rerun.invoices_created == 6
    assert rerun.changes_applied == 2  # applied by the crashed run, still the month's
    assert rerun.services_renewed == 6 * 3 + (0 + 1 + 2) * 2  # 2 lines, a fax, 0-2 aliases
    again = run_renewal(platform, date(2026, 4, 1), batch_size=1)
    assert again.did_nothing and _period_figures(again) == _period_figures(rerun)
