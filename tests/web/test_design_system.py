"""Behaviour of the design system in a browser: confirmation dialogs (static script, no inline
code) and the navigation as a menu on phones, both usable with the keyboard."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from voipdesk.accounts.models import Account
from voipdesk.demo import DEMO_PASSWORD, load_demo
from voipdesk.orders import actions
from voipdesk.orders.models import PurchaseOrder

pytestmark = pytest.mark.browser
CUSTOMER = "lucie@demo.voipdesk.example"


def _log_in(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.locator("#f-identifier").fill(CUSTOMER)
    page.locator("#f-password").fill(DEMO_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/$"))


def test_cancelling_an_order_asks_first_and_escape_changes_nothing(
    browser_page, live_server
) -> None:  # type: ignore[no-untyped-def]
    platform = live_server.platform
    load_demo(platform)
    with platform.transaction() as session:
        owner = session.scalar(select(Account).where(Account.email == CUSTOMER))
        order = actions.create_order(
            session,
            platform,
            owner,
            actions.Cart(lines=[actions.CartLine(offer="sip-decouverte", quantity=1)]),
        )
        order_id = order.id
    page = browser_page
    _log_in(page)
    page.goto(f"/orders/{order_id}")
    dialog = page.locator("#confirm-dialog")
    page.get_by_role("button", name="Annuler la commande").click()
    assert dialog.is_visible()
    assert "Annuler la commande" in dialog.inner_text()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    with platform.session() as session:
        assert session.get(PurchaseOrder, order_id).state == "not_paid"
    page.get_by_role("button", name="Annuler la commande").click()
    dialog.get_by_role("button", name="Annuler la commande").click()
    page.wait_for_load_state()
    page.locator("#order-state").filter(has_text="Annulée").wait_for()
    with platform.session() as session:
        assert session.get(PurchaseOrder, order_id).state == "cancelled"


def test_on_a_phone_the_navigation_is_a_menu_opened_from_the_keyboard(
    browser_page, live_server
) -> None:  # type: ignore[no-untyped-def]
    load_demo(live_server.platform)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 800})
    _log_in(page)
    nav = page.get_by_role("navigation", name="Menu principal")
    assert not nav.is_visible()
    toggle = page.get_by_role("button", name="Menu")
    toggle.focus()
    page.keyboard.press("Enter")
    assert nav.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    nav.get_by_role("link", name="Catalogue").click()
    page.wait_for_url(re.compile(r".*/catalogue$"))
