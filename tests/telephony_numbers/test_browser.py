"""In a real browser: a customer builds an IVR with two keys and a call queue."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.accounts.factories import PASSWORD, make_account
from tests.subscriptions.factories import deliver
from tests.web.conftest import browser_page, live_server  # noqa: F401 - fixtures
from voipdesk.telephony.aliases import queries

pytestmark = pytest.mark.browser


def test_building_an_ivr_with_two_keys_and_a_queue(browser_page, live_server) -> None:  # noqa: F811
    platform = live_server.platform
    account = make_account(platform, language="en")
    result = deliver(
        platform, account.id, lines=[("sip-entreprise", 2), ("sip-entreprise", 1)], aliases=1
    )
    group = result.billing_group_id
    first, second = (c.number_e164 for c in result.sip_credentials)
    with platform.session() as session:
        from voipdesk.subscriptions import queries as subscriptions

        alias = subscriptions.group_services(session, group, ("alias_number",))[0].number
    page = browser_page
    page.goto("/login")
    page.locator("#f-identifier").fill(account.email)
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("^(Se connecter|Log in)$")).click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"/telephony/{group}/numbers/{quote(alias)}")
    page.get_by_role("link", name="Number configuration").click()
    page.get_by_label("Configuration type").select_option("ivr")
    page.get_by_role("button", name="Choose").click()
    page.get_by_label("Text read by text-to-speech").fill(
        "Welcome. Press 1 for sales, 2 for support."
    )
    page.get_by_role("button", name="Add a queue").click()
    queue = page.locator("fieldset.queue").first
    queue.get_by_label("Name of the queue").fill("Support")
    for box in queue.locator("input[type=checkbox][name$='-member']").all():
        box.check()
    menu = page.locator("fieldset.menu").first
    menu.get_by_label("Key 1", exact=True).select_option(f"line:{first}")
    menu.get_by_label("Key 2", exact=True).select_option("queue:q1")
    page.get_by_role("button", name="Save the configuration").click()
    page.wait_for_url(re.compile(r".*/configuration$"))
    assert page.get_by_test_id("current-type").inner_text() == "Interactive voice response (IVR)"
    tree = page.locator(".ivr-tree")
    assert "Key 1 → Ring a line" in tree.locator("[data-key='1']").inner_text()
    assert "Support" in tree.locator("[data-key='2']").inner_text()
    with platform.session() as session:
        compiled = queries.compiled_configuration(session, alias).compiled
    assert compiled["menus"]["main"]["keys"]["1"]["number"] == first
    assert compiled["menus"]["main"]["keys"]["2"] == {"action": "queue", "target": "q1"}
    assert [m["number"] for m in compiled["queues"]["q1"]["members"]] == [first, second]
    assert compiled["greeting"]["audio_id"]  # spoken by text-to-speech
