"""The order tunnel in a real browser: two Découverte lines and ten alias numbers, a bad promotion
code that keeps the other fields, the review page with the terms to read and accept (nothing is
ordered before), then the purchase order paid with a sandbox card, delivered, and the lines on
the dashboard."""

from __future__ import annotations

import re

import pytest

from tests.accounts.factories import PASSWORD
from tests.orders.conftest import make_account, mark_validated
from tests.web.conftest import browser_page, live_server  # noqa: F401 - fixtures
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.catalogue.queries import national_format
from voipdesk.core.outbox import drain
from voipdesk.orders import actions, rules
from voipdesk.payments.provider import TEST_CARD_SUCCEEDS

pytestmark = pytest.mark.browser


def test_order_two_lines_and_ten_numbers_pay_by_card_and_see_them(
    browser_page,  # noqa: F811 - the fixture imported above
    live_server,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    platform = live_server.platform
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    customer = make_account(platform, language="fr")
    mark_validated(platform, customer)
    page = browser_page

    page.goto("/login")
    page.locator("#f-identifier").fill(customer.email)
    page.locator("#f-password").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")

    # choose; a bad promotion code is refused and keeps every other field
    page.goto("/catalogue")
    page.locator("#qty_sip-decouverte").select_option("2")
    page.locator("#qty_alias-number").select_option("10")
    page.locator("#promotion_code").fill("NOPE")
    page.locator("#create-order").click()
    assert page.locator("[role=alert]").count() == 1
    assert page.locator("#qty_sip-decouverte").input_value() == "2"
    assert page.locator("#qty_alias-number").input_value() == "10"
    page.locator("#promotion_code").fill("")
    page.locator("#create-order").click()

    # review: every line, totals, the terms; nothing is ordered yet
    page.wait_for_url(f"{live_server.url}/orders/review")
    assert page.locator("#review-lines tbody tr").count() == 2
    assert "TTC" in page.locator("#create-order-confirmed").inner_text()
    with platform.session() as session:
        assert actions.list_orders(session, platform, account_id=customer.id)[0] == []
    terms_link = page.get_by_role("link", name="Conditions générales de vente")
    assert terms_link.get_attribute("href") == "/terms/terms-of-sale"
    terms = page.context.new_page()
    terms.goto(f"{live_server.url}/terms/terms-of-sale")
    assert "Version du 2026-01-01" in terms.locator("#terms-of-sale").inner_text()
    terms.close()
    page.locator("#create-order-confirmed").click()  # without accepting: refused, still nothing
    assert page.locator("[role=alert]").count() == 1
    with platform.session() as session:
        assert actions.list_orders(session, platform, account_id=customer.id)[0] == []
    page.locator("#accept_terms").check()
    page.locator("#create-order-confirmed").click()
    page.wait_for_url(re.compile(r".*/orders/[0-9a-f]{32}$"))
    order_id = page.url.rsplit("/", 1)[1]
    # French typography: a narrow no-break space before ":" (read as a plain space here).
    assert "a été créé : payez-le pour qu'il soit livré" in page.content().replace("\u202f", " ")

    # review the purchase order
    with platform.session() as session:
        order = actions.get_order(session, customer.id, order_id)
        number = order.number
        assert order.terms_accepted is not None
        assert order.terms_accepted["terms_of_sale"] == rules.TERMS_OF_SALE.version
        assert [(line.offer_code, line.quantity) for line in order.lines] == [
            ("sip-decouverte", 2),
            ("alias-number", 10),
        ]
    assert page.locator("#order-state").inner_text() == "Paiement non reçu"
    assert number in page.locator("h1").inner_text()

    # pay with a sandbox card
    page.locator("#choice-new-card").check()
    page.locator("#card_number").fill(TEST_CARD_SUCCEEDS)
    page.locator("#card_exp").fill("12/30")
    page.locator("#card_cvc").fill("123")
    page.locator("#pay-button").click()
    page.wait_for_url(f"{live_server.url}/orders/{order_id}")
    assert page.locator("#order-state").inner_text() == "Livraison en cours"

    drain(platform)  # the worker's part: delivery, invoice, e-mails
    page.reload()
    assert page.locator("#order-state").inner_text() == "Finalisée"
    with platform.session() as session:
        delivered = actions.get_order(session, customer.id, order_id)
    assert delivered.state == rules.DELIVERED
    lines = delivered.delivery["sip_lines"] if delivered.delivery else []
    assert len(lines) == 2

    page.goto("/orders")
    row = page.locator(f"tr[data-order='{number}']")
    assert "Finalisée" in row.inner_text()

    # the lines on the dashboard
    page.goto("/")
    card = page.locator("section[aria-labelledby='lines-title']").inner_text()
    assert "commander votre première ligne" not in card
    shown = [national_format(number) for number in lines]
    assert all(line in card for line in shown) or "12" in card
