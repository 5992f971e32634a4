"""In a real browser (Debian's Chromium): a customer attaches a Plug & Phone by its MAC and the
phone fetches its file; the assistance tab tells what is known; staff take a portability to a
failure (the SMS shown in the back office) and on to the activation; and every page around the
line fits a phone, passes axe-core and speaks one language, in French and in English."""

from __future__ import annotations

import re
import urllib.request
from datetime import timedelta
from urllib.parse import quote

import pytest

from tests.accounts.factories import PASSWORD, make_account
from tests.subscriptions.factories import deliver
from tests.telephony_line.helpers import PORTED, rio_for
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, browser_page, live_server  # noqa: F401
from tests.web.test_every_page import PHONE_WIDTH, page_problems
from voipdesk.core import i18n
from voipdesk.core.http import LANGUAGE_COOKIE
from voipdesk.telephony.models import Registration
from voipdesk.telephony.phones.rules import parse_config
from voipdesk.telephony.portability import actions as portability

pytestmark = pytest.mark.browser


def _log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.locator("#f-identifier").fill(email)
    page.locator("#f-password").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state()


def test_attach_a_phone_fetch_its_file_and_read_the_assistance(browser_page, live_server) -> None:  # noqa: F811
    platform = live_server.platform
    account = make_account(platform, language="en")
    result = deliver(platform, account.id, lines=[("sip-entreprise", 2)], phones_for_lines=True)
    group = result.billing_group_id
    number = result.sip_credentials[0].number_e164
    page = browser_page
    _log_in(page, account.email)
    page.goto(f"/telephony/{group}/lines/{quote(number)}/calls")
    page.get_by_role("link", name="Phone", exact=True).click()
    page.wait_for_url(re.compile(r".*/phone$"))
    page.get_by_label("MAC address (printed under the phone)").fill("00-15-65-AA-BB-CC")
    page.get_by_role("button", name="Attach to this line").click()
    page.wait_for_url(re.compile(r".*/phone$"))
    assert "00:15:65:AA:BB:CC is attached" in page.locator(".flashes").inner_text()
    assert "00:15:65:AA:BB:CC" in page.locator("#phone-facts").inner_text()
    request = urllib.request.Request(
        f"{live_server.url}/provisioning/001565aabbcc.cfg",
        headers={"User-Agent": "Yealink SIP-T46U 66.86.0.15 00:15:65:aa:bb:cc"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # the test server
        values = parse_config(answer.read().decode())
    assert values["account.1.user_name"] == number.lstrip("+")
    page.reload()
    assert "not yet" not in page.locator("#phone-facts").inner_text()

    page.get_by_role("link", name="Assistance").click()
    page.wait_for_url(re.compile(r".*/diagnostics$"))
    assert page.locator("[data-code=never_registered]").count() == 1
    now = platform.now()
    with platform.transaction() as session:
        session.add(
            Registration(
                number=number, sip_username=number.lstrip("+"), registered_at=now,
                expires_at=now + timedelta(minutes=10), ip="198.51.100.20", port=5060,
                transport="udp", user_agent="Yealink SIP-T46U 66.86.0.15", contact=None,
            )
        )  # fmt: skip
    page.get_by_role("link", name="Check again").click()
    page.wait_for_load_state()
    registered = page.locator("[data-code=registered]").inner_text()
    assert "198.51.100.20" in registered and "Yealink" in registered
    assert "198.51.100.20:5060" in page.locator("#registrations").inner_text()


def test_staff_take_a_portability_to_failure_then_to_activation(browser_page, live_server) -> None:  # noqa: F811
    platform = live_server.platform
    customer = make_account(platform, language="en")
    result = deliver(platform, customer.id, lines=[("sip-entreprise", 2)])
    group = result.billing_group_id
    page = browser_page
    _log_in(page, customer.email)
    page.goto(f"/telephony/{group}/portabilities")
    form = page.locator("#portability-form")
    form.get_by_label("Numbers to port (one a line)").fill("01 45 67 89 01\n01 45 67 89 02")
    form.locator("#f-current_operator").fill("Bouygues Telecom")
    form.get_by_label("RIO (France)").fill(rio_for(PORTED[0]))
    form.get_by_label("Holder's name, as the current operator knows it").fill("Camille Martin")
    form.get_by_role("button", name="Request the portability").click()
    page.wait_for_load_state()
    assert "is requested" in page.locator(".flashes").inner_text()
    assert "01 45 67 89 01" in page.locator("#ongoing").inner_text()
    page.context.clear_cookies()

    staff = make_account(platform, is_staff=True, language="en")
    _log_in(page, staff.email)
    page.goto("/backoffice/portabilities")
    card = page.locator("section.portability")
    card.get_by_role("button", name="Move to “Form received”").click()
    page.wait_for_load_state()
    assert "Form received" in card.locator("h2").inner_text(), page.locator("main").inner_text()
    card.get_by_label("Reason of the failure").select_option("missing_documents")
    card.get_by_role("button", name="Record the failure").click()
    page.wait_for_load_state()
    assert "customer was sent the reason" in page.locator(".flashes").inner_text()
    page.goto("/backoffice/sms")
    sms = page.locator("#sms").inner_text()
    assert "The signed form or a supporting document is missing." in sms
    page.goto("/backoffice/portabilities")
    for step in ("Form received", "Validated", "Request sent to the operator",
                 "Acknowledged by the operator", "Final report", "Number activated"):  # fmt: skip
        page.locator("section.portability").get_by_role("button", name=f"Move to “{step}”").click()
        page.wait_for_load_state()
    assert "No portability in progress." in page.locator("main").inner_text()
    with platform.session() as session:
        from sqlalchemy import select

        from voipdesk.subscriptions.models import Service

        ported = session.scalars(
            select(Service.number_e164).where(
                Service.billing_group_id == group, Service.kind == "alias_number"
            )
        ).all()
    assert sorted(ported) == PORTED


@pytest.mark.parametrize("language", ["fr", "en"])
def test_pages_around_the_line_fit_a_phone_pass_axe_and_speak_one_language(
    live_server,  # noqa: F811
    language: str,
) -> None:
    import os

    from playwright.sync_api import sync_playwright

    from tests.conftest import require

    require(os.path.exists(CHROMIUM), "Chromium", "apt-get install chromium")
    platform = live_server.platform
    customer = make_account(platform, language=language)
    result = deliver(platform, customer.id, lines=[("sip-entreprise", 2)], phones_for_lines=True)
    group = result.billing_group_id
    number = result.sip_credentials[0].number_e164
    with platform.transaction() as session:
        made = portability.request_portability(
            session, platform, customer.id, group,
            portability.PortabilityRequest(
                country="FR", numbers=PORTED, current_operator="Orange", holder_kind="individual",
                holder_name="Camille Martin", rio=rio_for(PORTED[0]),
            ),
            f"account:{customer.id}",
        )  # fmt: skip
    with platform.transaction() as session:
        portability.fail(session, platform, made.id, "rio_mismatch", None, "staff:x")
    staff = make_account(platform, is_staff=True, language=language)
    line = f"/telephony/{group}/lines/{quote(number)}"
    walks = {
        customer.email: [
            f"{line}/phone", f"{line}/diagnostics", f"/telephony/{group}",
            f"/telephony/{group}/portabilities", f"/telephony/{group}/portabilities/{made.id}",
            f"/telephony/{group}/phones",
        ],
        staff.email: ["/backoffice/portabilities", "/backoffice/phone-returns", "/backoffice/sms"],
    }  # fmt: skip
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
            _log_in(page, login)
            for path in paths:
                answer = page.goto(path)
                where = f"{path} ({language})"
                if answer is None or answer.status != 200:
                    problems.append(f"{where}: answered {answer.status if answer else None}")
                problems.extend(page_problems(page, where, language))
            context.close()
        browser.close()
    if language == "fr":
        problems.extend(f"untranslated: {msgid!r}" for msgid in sorted(i18n.UNTRANSLATED))
    assert problems == []
