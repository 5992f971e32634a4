"""In a real browser: from a call in the line's Consumption tab, one click blocks that caller
(the line's number list, which the switch reads), another allows it again."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest

from tests.accounts.factories import PASSWORD, make_account
from tests.consumption.factories import call, store
from tests.subscriptions.factories import deliver
from tests.web.conftest import browser_page, live_server  # noqa: F401 - fixtures
from voipdesk.consumption.services import rate_everything_pending
from voipdesk.telephony.queries import routing_record_for

pytestmark = pytest.mark.browser
CALLER = "+33145678901"


def test_block_then_allow_a_caller_from_the_call_log(browser_page, live_server) -> None:  # noqa: F811
    platform = live_server.platform
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)])
    group = result.billing_group_id
    number = result.sip_credentials[0].number_e164
    store(
        platform,
        call(number, group, "", platform.now() - timedelta(hours=1), 42, direction="incoming",
             caller=CALLER),
        call(number, group, "+33612345678", platform.now() - timedelta(minutes=30), 61),
    )  # fmt: skip
    rate_everything_pending(platform)
    page = browser_page
    page.goto("/login")
    page.locator("#f-identifier").fill(account.email)
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("^(Se connecter|Log in)$")).click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"/telephony/{group}/lines/{quote(number)}/calls")
    page.get_by_role("link", name="Consumption").click()
    page.wait_for_url(re.compile(r".*/consumption$"))
    row = page.locator(f"tr[data-number='{CALLER}']")
    assert "01 45 67 89 01" in row.inner_text() and "Incoming" in row.inner_text()
    row.get_by_role("button", name="Block this number").click()
    page.wait_for_url(re.compile(r".*/consumption.*"))
    assert "01 45 67 89 01 can no longer call this line." in page.locator(".flashes").inner_text()
    with platform.session() as session:
        record = routing_record_for(session, number).record
    assert (record["blocked_callers"], record["limits"]["number_list"]) == ([CALLER], [])
    # The other call's number is not touched, and the row now offers to allow it again.
    row = page.locator(f"tr[data-number='{CALLER}']")
    row.get_by_role("button", name="Allow this number").click()
    page.wait_for_url(re.compile(r".*/consumption.*"))
    assert "01 45 67 89 01 can call this line again." in page.locator(".flashes").inner_text()
    with platform.session() as session:
        record = routing_record_for(session, number).record
    assert record["blocked_callers"] == []
