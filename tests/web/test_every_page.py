"""Every page of the customer space and the back office, as a person meets it, in French and in
English, at phone width (390 px): no sideways scroll, no inline script or style (the pages run
under a Content-Security-Policy), zero axe-core violations (WCAG 2.1 A and AA), no message id left
untranslated on a French page and no French words on an English one.

axe-core comes from the npm registry (`axe-core`, vendored in tests/web/vendor with its licence)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from voipdesk.accounts.models import Account, ServiceEmail
from voipdesk.core import i18n
from voipdesk.core.http import LANGUAGE_COOKIE
from voipdesk.demo import DELIVERED_CUSTOMER, DEMO_PASSWORD, STAFF, load_demo
from voipdesk.orders import actions as order_actions
from voipdesk.orders.models import PurchaseOrder
from voipdesk.subscriptions.models import BillingGroup, Service
from voipdesk.validation.models import VoipProcedure

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WAITING_CUSTOMER = "lucie@demo.voipdesk.example"  # the demo's Belgian company
PHONE_WIDTH = 390
# Words that exist only in French: one of them on an English page is a text left in French.
FRENCH_WORDS = re.compile(
    r"\b(le|les|des|du|vos|votre|pour|avec|est|une|aucun|aucune|commande|ligne|numéro|"
    r"facture|appels?|état|créé|payée?|résilier|prochain|à|où|très)\b",
    re.IGNORECASE,
)
# English words that never belong on a French page.
ENGLISH_WORDS = re.compile(
    r"\b(the|your|and|with|order|line|invoice|calls?|pending|state|excl\.|incl\.|tax|"
    r"number|numbers|change|nothing|none|search|payment|renewal)\b",
    re.IGNORECASE,
)
VISIBLE_TEXT = """() => {
  const own = document.documentElement.lang;
  const skip = (el) => el.closest('[translate="no"], [lang]:not(html)')
    && el.closest('[translate="no"], [lang]:not(html)').getAttribute('lang') !== own;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  let node;
  while ((node = walker.nextNode())) {
    const el = node.parentElement;
    if (!el || skip(el) || el.closest('script, style, .visually-hidden, code, .handle')) continue;
    parts.push(node.textContent);
  }
  document.querySelectorAll('[aria-label], [placeholder], [title]').forEach((el) => {
    if (skip(el)) return;
    parts.push(el.getAttribute('aria-label') || el.getAttribute('placeholder')
      || el.getAttribute('title'));
  });
  return parts.join(' ');
}"""


def _paths(platform) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with platform.session() as session:
        lea = session.scalar(select(Account).where(Account.email == DELIVERED_CUSTOMER["email"]))
        assert lea is not None
        group = session.scalar(select(BillingGroup).where(BillingGroup.account_id == lea.id))
        assert group is not None
        services = list(session.scalars(select(Service).where(Service.account_id == lea.id)))
        line = next(s for s in services if s.kind == "sip_line")
        alias = next(s for s in services if s.kind == "alias_number")
        fax = next(s for s in services if s.kind == "fax_line")
        order = session.scalar(select(PurchaseOrder).where(PurchaseOrder.account_id == lea.id))
        assert order is not None
        email = session.scalar(
            select(ServiceEmail)
            .where(ServiceEmail.account_id == lea.id)
            .order_by(ServiceEmail.created_at.desc())
        )
        assert email is not None
        procedure = session.scalar(select(VoipProcedure))
        assert procedure is not None
        # a customer whose first order waits for its payment
        lucie = session.scalar(select(Account).where(Account.email == WAITING_CUSTOMER))
        assert lucie is not None
    with platform.transaction() as session:
        owner = session.get(Account, lucie.id)
        waiting = order_actions.create_order(
            session,
            platform,
            owner,
            order_actions.Cart(lines=[order_actions.CartLine(offer="sip-decouverte", quantity=1)]),
        )
        waiting_id = waiting.id
    with platform.session() as session:
        base = f"/telephony/{group.id}"
        customer = [
            "/",
            "/catalogue",
            "/orders",
            f"/orders/{order.id}",
            "/telephony",
            base,
            f"{base}/lines/{quote(line.number_e164 or '')}",
            f"{base}/lines/{quote(line.number_e164 or '')}/consumption",
            f"{base}/lines/{quote(line.number_e164 or '')}/calls",
            f"{base}/lines/{quote(line.number_e164 or '')}/voicemail",
            f"{base}/lines/{quote(line.number_e164 or '')}/phone",
            f"{base}/lines/{quote(line.number_e164 or '')}/diagnostics",
            f"{base}/statements",
            f"{base}/spending-cap",
            f"{base}/numbers/{quote(alias.number_e164 or '')}",
            f"{base}/numbers/{quote(alias.number_e164 or '')}/configuration",
            *[
                f"{base}/numbers/{quote(alias.number_e164 or '')}/configuration?type={kind}"
                for kind in ("redirect", "ivr", "contact_center", "conference")
            ],
            f"{base}/faxes/{quote(fax.number_e164 or '')}",
            "/services",
            "/invoices",
            "/payment-methods",
            "/voip-procedure",
            "/service-emails",
            f"/service-emails/{email.id}",
            "/profile",
            "/security",
            "/search?q=04",
            "/no-such-page",
        ]
        staff = [
            "/",
            "/backoffice/customers?q=rousseau",
            f"/backoffice/customers/{lea.id}",
            "/backoffice/procedures",
            f"/backoffice/procedures/{procedure.id}",
            "/backoffice/orders?state=delivered",
            f"/backoffice/orders/{order.id}",
            "/backoffice/invoices",
            "/backoffice/switch",
            "/backoffice/switch/calls",
        ]
    return {
        "": ["/login", "/signup", "/password-reset", "/legal/terms", "/legal/privacy"],
        DELIVERED_CUSTOMER["email"]: customer,
        WAITING_CUSTOMER: ["/", f"/orders/{waiting_id}", "/catalogue", "/voip-procedure"],
        STAFF["email"]: staff,
    }


def _log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.locator("#f-identifier").fill(email)
    page.locator("#f-password").fill(DEMO_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state()


def page_problems(page, where: str, language: str) -> list[str]:  # type: ignore[no-untyped-def]
    """What a person would meet on the page open in `page`: sideways scroll at phone width,
    inline style or script, words of the other language, and axe-core's violations."""
    problems: list[str] = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE_WIDTH:
        problems.append(f"{where}: {width} px wide at {PHONE_WIDTH} px")
    inline = page.evaluate("document.querySelectorAll('[style], script:not([src])').length")
    if inline:
        problems.append(f"{where}: {inline} inline style or script")
    text = page.evaluate(VISIBLE_TEXT)
    other = ENGLISH_WORDS if language == "fr" else FRENCH_WORDS
    found = sorted({match.group(0).lower() for match in other.finditer(text)})
    if found:
        problems.append(f"{where}: words of the other language {found}")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values:"
        " ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations.map("
        "v => v.id + ': '"
        " + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))"
    )
    problems.extend(f"{where}: axe {item}" for item in result)
    return problems


def _problems(page, where: str, language: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The page's problems, and a page not in `language` (the walk sets it by cookie)."""
    problems = page_problems(page, where, language)
    if page.locator("html").get_attribute("lang") != language:
        problems.append(f"{where}: page not in {language}")
    return problems


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_page_fits_a_phone_passes_axe_and_speaks_one_language(
    live_server, language: str
) -> None:  # type: ignore[no-untyped-def]
    import os

    from playwright.sync_api import sync_playwright

    from tests.conftest import require
    from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

    require(os.path.exists(CHROMIUM), "Chromium", "apt-get install chromium")
    platform = live_server.platform
    load_demo(platform)
    walks = _paths(platform)
    problems: list[str] = []
    i18n.UNTRANSLATED.clear()
    host = live_server.url.split("//", 1)[1].split(":")[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for login, paths in walks.items():
            context = browser.new_context(
                base_url=live_server.url,
                viewport={"width": PHONE_WIDTH, "height": 800},
                bypass_csp=True,  # lets the test add axe-core to the page
            )
            context.add_cookies(
                [{"name": LANGUAGE_COOKIE, "value": language, "domain": host, "path": "/"}]
            )
            page = context.new_page()
            page.set_default_timeout(15000)
            if login:
                _log_in(page, login)
            for path in paths:
                page.goto(path)
                problems.extend(
                    _problems(page, f"{login or 'visitor'} {path} ({language})", language)
                )
            if login == DELIVERED_CUSTOMER["email"]:
                # The order review is the answer to a POST: reached as a customer reaches it.
                page.goto("/catalogue")
                page.select_option("#qty_sip-decouverte", "1")
                page.locator("#create-order").click()
                page.wait_for_load_state()
                problems.extend(_problems(page, f"{login} order review ({language})", language))
            context.close()
        browser.close()
    if language == "fr":
        problems.extend(f"untranslated: {msgid!r}" for msgid in sorted(i18n.UNTRANSLATED))
    assert problems == []
