"""In a real browser: a forward set from the calls-management page is shown there, and is what
the switch reads (the routing record)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.accounts.factories import PASSWORD, make_account
from tests.subscriptions.factories import deliver
from tests.web.conftest import browser_page, live_server  # noqa: F401 - fixtures
from voipdesk.telephony.queries import routing_record_for

pytestmark = pytest.mark.browser


def test_set_a_forward_from_the_page_and_see_it(browser_page, live_server) -> None:  # noqa: F811
    platform = live_server.platform
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)] * 2)
    group = result.billing_group_id
    number, other = (c.number_e164 for c in result.sip_credentials)
    page = browser_page
    page.goto("/login")
    page.locator("#f-identifier").fill(account.email)
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("^(Se connecter|Log in)$")).click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"/telephony/{group}/lines/{quote(number)}")
    page.get_by_role("link", name="Calls management").click()
    page.wait_for_url(re.compile(r".*/calls$"))
    form = page.locator("form[data-condition=no_answer]")
    form.get_by_label("Forward to").select_option("external")
    form.get_by_label("External number").fill("06 12 34 56 78")
    form.get_by_label("Delay before forwarding (seconds)").fill("25")
    form.get_by_role("button", name="Save this forward").click()
    page.wait_for_url(re.compile(r".*/calls$"))
    assert "The forward is on." in page.locator(".flashes").inner_text()
    state = page.locator("#fw-no_answer-state").inner_text()
    assert "06 12 34 56 78" in state and "25 s" in state
    # Another line of the group, chosen in the list.
    busy = page.locator("form[data-condition=busy]")
    busy.get_by_label("Forward to").select_option("line")
    busy.get_by_label("Line of the group").select_option(other)
    busy.get_by_role("button", name="Save this forward").click()
    page.wait_for_url(re.compile(r".*/calls$"))
    assert page.locator("#fw-busy-state").inner_text().startswith("On, to")
    with platform.session() as session:
        record = routing_record_for(session, number.lstrip("+")).record
    assert record["forwards"]["no_answer"] == {
        "target": "external",
        "number": "+33612345678",
        "delay": 25,
    }
    assert record["forwards"]["busy"]["number"] == other
