"""Staff at phone width (390 px), in a real browser (Debian's Chromium), walk the back office by
its links as a person would: the staff home, the customer search, a customer, one of its orders,
the VoIP procedures and one of them, the orders by state, the unpaid invoices, the work queues
(portabilities, hardware returns), the service SMS, the webhooks (an endpoint, a delivery), the
call rates, the spending cap limits and the switch. On every page the navigation is reachable
(the menu button is on screen and opens every link of the menu, on screen), a list's sort links
are shown, and nothing scrolls sideways; the every-page test's checks (inline code, the other
language, axe-core) run too."""

from __future__ import annotations

import os

import pytest

from tests.conftest import require
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.web.test_every_page import PHONE_WIDTH, page_problems
from voipdesk.core import i18n
from voipdesk.core.http import LANGUAGE_COOKIE
from voipdesk.core.outbox import drain
from voipdesk.demo import DEMO_PASSWORD, STAFF, load_demo

pytestmark = pytest.mark.browser

NAVIGATION = """() => {
  const inside = (el) => { const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.left >= 0 && box.right <= innerWidth; };
  const links = [...document.querySelectorAll('#main-nav a')];
  return {links: links.length, shown: links.filter(inside).length,
          width: document.documentElement.scrollWidth};
}"""


# Stacked tables (one block per row on phones) whose sortable headers are not shown: a person
# on a phone could not sort them.
HIDDEN_SORTS = """() => [...document.querySelectorAll('table.stack thead')]
  .filter((head) => head.querySelector('th[aria-sort]'))
  .filter((head) => head.getBoundingClientRect().height < 10).length"""


def _navigation_problems(page, where: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The menu button on screen, the menu closed until it is pressed, then each of its links
    on screen; pressed again, it closes."""
    toggle = page.locator(".menu-toggle")
    if not toggle.is_visible():
        return [f"{where}: no menu button at {PHONE_WIDTH} px"]
    box = toggle.bounding_box()
    problems = []
    if box is None or box["x"] < 0 or box["x"] + box["width"] > PHONE_WIDTH:
        problems.append(f"{where}: the menu button is off screen ({box})")
    if page.locator("#main-nav").is_visible():
        problems.append(f"{where}: the menu is open before it is asked for")
    toggle.click()
    if toggle.get_attribute("aria-expanded") != "true":
        problems.append(f"{where}: the menu button does not say the menu is open")
    seen = page.evaluate(NAVIGATION)
    if seen["links"] == 0 or seen["shown"] != seen["links"]:
        problems.append(f"{where}: {seen['shown']} of {seen['links']} menu links on screen")
    if seen["width"] > PHONE_WIDTH:
        problems.append(f"{where}: {seen['width']} px wide with the menu open")
    toggle.click()
    if page.locator("#main-nav").is_visible():
        problems.append(f"{where}: the menu does not close")
    return problems


class Walk:
    """One staff member's walk: each page is checked once, where it is reached."""

    def __init__(self, page, language: str) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.language = language
        self.problems: list[str] = []
        self.seen: list[str] = []

    def check(self) -> None:
        page = self.page
        page.wait_for_load_state()
        path = page.url.split("//", 1)[1].split("/", 1)[1]
        where = f"staff /{path} ({self.language})"
        self.seen.append("/" + path.split("?", 1)[0])
        assert page.locator("h1").count() == 1, f"{where}: no page title"
        self.problems.extend(_navigation_problems(page, where))
        if hidden := page.evaluate(HIDDEN_SORTS):
            self.problems.append(f"{where}: {hidden} list(s) without their sort links")
        self.problems.extend(page_problems(page, where, self.language))

    def menu(self, href: str) -> None:
        """Through the phone menu, as a person reaches the top of an area."""
        self.page.locator(".menu-toggle").click()
        self.page.locator(f"#main-nav a[href='{href}']").click()
        self.check()

    def follow(self, selector: str) -> None:
        """The first link of the page that matches `selector` (in the page, not the menu)."""
        self.page.locator(f"main {selector}").first.click()
        self.check()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_staff_walk_the_back_office_at_phone_width(live_server, language: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    require(os.path.exists(CHROMIUM), "Chromium", "apt-get install chromium")
    platform = live_server.platform
    load_demo(platform)
    drain(platform)  # the demo's events reach its webhook endpoint: deliveries to open
    i18n.UNTRANSLATED.clear()
    host = live_server.url.split("//", 1)[1].split(":")[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": PHONE_WIDTH, "height": 800},
            bypass_csp=True,  # lets the page checks add axe-core
        )
        context.add_cookies(
            [{"name": LANGUAGE_COOKIE, "value": language, "domain": host, "path": "/"}]
        )
        page = context.new_page()
        page.set_default_timeout(15000)
        walk = Walk(page, language)
        page.goto("/login")
        page.locator("#f-identifier").fill(STAFF["email"])
        page.locator("#f-password").fill(DEMO_PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        walk.check()  # staff land on the staff home

        # Find a customer from the home's search, open it, then one of its orders.
        page.locator("#customer-search").fill("rousseau")
        page.locator("#customer-search").press("Enter")
        walk.check()
        walk.follow("#customers a[href^='/backoffice/customers/']")
        walk.follow("a[href^='/backoffice/orders/']")
        # The customer search from the menu.
        walk.menu("/backoffice/customers")
        # The validation queue and one procedure.
        walk.menu("/backoffice/procedures")
        walk.follow("a[href^='/backoffice/procedures/']")
        # Orders by state (the delivered ones' tab), one of them, and the unpaid invoices.
        walk.menu("/backoffice/orders")
        walk.follow("a[href*='state=delivered']")
        walk.follow("a[href^='/backoffice/orders/']")
        walk.menu("/backoffice/invoices")
        # The home's work queues and tools.
        for href in (
            "/backoffice/portabilities",
            "/backoffice/phone-returns",
            "/backoffice/sms",
            "/backoffice/consumption/rates",
            "/backoffice/catalogue/spending-cap",
            "/backoffice/switch",
        ):
            walk.menu("/backoffice")
            walk.follow(f"a[href^='{href}']")
        walk.page.locator("main a[href='/backoffice/switch/calls']").first.click()
        walk.check()
        walk.menu("/backoffice")
        walk.follow("a[href='/backoffice/webhooks']")
        walk.follow("#endpoints a[href^='/backoffice/webhooks/']")
        walk.follow("#deliveries a[href^='/backoffice/webhooks/deliveries/']")
        context.close()
        browser.close()
    for path in (
        "/backoffice",
        "/backoffice/customers",
        "/backoffice/procedures",
        "/backoffice/orders",
        "/backoffice/invoices",
        "/backoffice/webhooks",
    ):
        assert path in walk.seen, f"the walk did not reach {path}"
    assert any(p.startswith("/backoffice/customers/") for p in walk.seen)
    assert any(p.startswith("/backoffice/webhooks/deliveries/") for p in walk.seen)
    problems = walk.problems
    if language == "fr":
        problems += [f"untranslated: {msgid!r}" for msgid in sorted(i18n.UNTRANSLATED)]
    assert problems == [], "\n".join(problems)
