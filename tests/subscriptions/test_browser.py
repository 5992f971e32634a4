"""Pending changes in a real browser: an offer change and its cancellation, and terminating a
number of a pool (the page says the whole pool goes, and asks to confirm it)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from sqlalchemy import select

from tests.accounts.factories import PASSWORD, make_account
from tests.subscriptions.factories import deliver
from tests.web.conftest import browser_page, live_server  # noqa: F401 - fixtures
from voipdesk.subscriptions.models import PendingChange

pytestmark = pytest.mark.browser


def _login(page, server, account) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.locator("#f-identifier").fill(account.email)
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("^(Se connecter|Log in)$")).click()
    page.wait_for_url(f"{server.url}/")


def test_offer_change_then_its_cancellation(browser_page, live_server) -> None:  # noqa: F811
    platform = live_server.platform
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-decouverte", 1), ("sip-decouverte", 1)])
    group, number = result.billing_group_id, result.sip_credentials[0].number_e164
    page = browser_page
    _login(page, live_server, account)
    page.goto(f"/telephony/{group}/lines/{quote(number)}")
    assert page.locator(".current-offer").inner_text() == "Découverte"
    page.get_by_label("New offer").select_option("sip-entreprise")
    page.get_by_role("button", name="Confirm the change of offer").click()
    page.wait_for_url(f"{live_server.url}/telephony/{group}")
    row = page.locator("tr[data-change=offer_change]")
    assert "Entreprise" in row.inner_text()
    row.get_by_role("button", name="Cancel this change").click()
    page.wait_for_url(f"{live_server.url}/telephony/{group}")
    assert page.locator("tr[data-change]").count() == 0
    with platform.session() as session:
        assert [c.state for c in session.scalars(select(PendingChange))] == ["cancelled"]


def test_terminating_a_pool_number_terminates_the_pool(browser_page, live_server) -> None:  # noqa: F811
    platform = live_server.platform
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, aliases=10, pool=True)
    group = result.billing_group_id
    page = browser_page
    _login(page, live_server, account)
    page.goto(f"/telephony/{group}")
    # the pool is one row that opens on its numbers
    assert page.locator("tr[data-pool]").count() == 1
    page.locator("tr[data-pool] summary").click()
    page.locator("tr[data-pool] li[data-number] a").first.click()
    page.wait_for_url(re.compile(r".*/numbers/.*"))
    assert "terminates the whole pool (10 numbers)" in page.locator(".pool-warning").inner_text()
    assert page.locator(".pool-numbers li").count() == 10
    page.get_by_label("Reason").select_option("end_of_activity")
    page.get_by_label("I understand that the whole pool is terminated").check()
    page.get_by_role("button", name="Terminate", exact=True).click()
    page.wait_for_url(f"{live_server.url}/telephony/{group}")
    assert page.locator("tr[data-change=termination]").count() == 1
