"""The customer-space pages of the catalogue, orders and payment methods, and the staff's list."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.orders.helpers import load, run_outbox
from voipdesk.accounts.models import Account, WebSession
from voipdesk.accounts.rules import sha256_hex
from voipdesk.core.platform import Platform
from voipdesk.orders import rules
from voipdesk.payments.provider import TEST_CARD_NEEDS_CONFIRMATION, TEST_CARD_SUCCEEDS


class Browser:
    """A TestClient logged in as one account, sending the session's CSRF token with its forms."""

    def __init__(self, client: TestClient, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    def get(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.get(path, follow_redirects=False, **kwargs)

    def post(self, path: str, data: dict | None = None, csrf: bool = True):  # type: ignore[no-untyped-def]
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf
        return self.client.post(path, data=form, follow_redirects=False)


@pytest.fixture
def app(seeded: Platform):  # type: ignore[no-untyped-def]
    from voipdesk.app import create_app

    return create_app(seeded)


@pytest.fixture
def browser_for(app, seeded: Platform) -> Iterator:  # type: ignore[no-untyped-def]
    clients: list[TestClient] = []

    def login(account: Account) -> Browser:
        secret = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        with seeded.transaction() as session:
            session.add(
                WebSession(
                    id=sha256_hex(secret),
                    account_id=account.id,
                    csrf_token=csrf,
                    pending_second_factor=False,
                    created_at=seeded.now(),
                    expires_at=seeded.now() + timedelta(days=1),
                )
            )
        client = TestClient(app, base_url="https://testserver")
        client.__enter__()
        client.cookies.set("voipdesk_session", secret)
        clients.append(client)
        return Browser(client, csrf)

    yield login
    for client in clients:
        client.__exit__(None, None, None)


def order_id_from(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/orders/([0-9a-f]{32})", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


TUNNEL = {
    "qty_sip-decouverte": "2",
    "area_sip-decouverte": "+331",
    "qty_alias-number": "10",
    "area_alias-number": "+331",
}
# The same cart, with the terms accepted on the review page (what it posts to /orders/new).
ACCEPTED = {
    **TUNNEL,
    "accept_terms": "yes",
    **{f"terms_{code}": terms.version for code, terms in rules.TERMS.items()},
}


def test_pages_need_a_login(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="https://testserver") as anonymous:
        for path in ("/catalogue", "/orders", "/payment-methods"):
            response = anonymous.get(path, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_order_tunnel_choose_review_pay(browser_for, customer: Account, seeded: Platform) -> None:  # type: ignore[no-untyped-def]
    browser = browser_for(customer)
    page = browser.get("/catalogue")
    assert page.status_code == 200
    assert "Ligne SIP Découverte" in page.text or "SIP line Découverte" in page.text
    order_id = order_id_from(browser.post("/orders/new", ACCEPTED))
    review = browser.get(f"/orders/{order_id}")
    assert review.status_code == 200
    number = load(seeded, order_id).number
    assert number in review.text and 'id="pay-form"' in review.text
    paid = browser.post(
        f"/orders/{order_id}/pay",
        {
            "choice": "new-card",
            "card_number": TEST_CARD_SUCCEEDS,
            "card_exp": "12/30",
            "card_cvc": "123",
        },
    )
    assert paid.status_code == 303 and paid.headers["location"] == f"/orders/{order_id}"
    assert load(seeded, order_id).state == rules.DELIVERING
    # The order's page says what the payment did and what comes next, once.
    told = browser.get(f"/orders/{order_id}").text
    assert "Payment of" in told and "received." in told and "being delivered" in told
    assert "Payment of" not in browser.get(f"/orders/{order_id}").text
    run_outbox(seeded)
    listing = browser.get("/orders")
    assert number in listing.text
    # the order's row shows its state as a badge (its label, the code kept as data)
    row = listing.text.split(f'data-order="{number}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-code="delivered"' in row and "Delivered" in row


def test_the_review_page_shows_everything_and_creates_nothing(  # type: ignore[no-untyped-def]
    browser_for, customer: Account, seeded: Platform
) -> None:
    from sqlalchemy import func, select

    from voipdesk.accounts.models import ServiceEmail
    from voipdesk.orders.models import PurchaseOrder

    browser = browser_for(customer)
    review = browser.post("/orders/review", TUNNEL)
    assert review.status_code == 200
    text = review.text
    assert 'id="review-lines"' in text and 'name="accept_terms"' in text
    assert 'href="/terms/terms-of-sale"' in text and 'href="/terms/telephony-terms"' in text
    assert "Total" in text and 'id="total-incl"' in text
    # Without the box ticked, nothing is created either: the review comes back with the rule.
    refused = browser.post("/orders/new", TUNNEL)
    assert refused.status_code == 422 and 'id="review-lines"' in refused.text
    with seeded.session() as session:
        assert session.scalar(select(func.count()).select_from(PurchaseOrder)) == 0
        kinds = session.scalars(select(ServiceEmail.kind)).all()
    assert "order-created" not in kinds
    for path in ("/terms/terms-of-sale", "/terms/telephony-terms"):
        assert rules.TERMS_OF_SALE.version in browser.get(path).text
    order_id = order_id_from(browser.post("/orders/new", ACCEPTED))
    accepted = load(seeded, order_id).terms_accepted
    assert accepted is not None
    assert accepted["terms_of_sale"] == rules.TERMS_OF_SALE.version
    assert accepted["telephony_terms"] == rules.TELEPHONY_TERMS.version
    assert accepted["accepted_at"] == seeded.now().isoformat()


def test_a_bad_promotion_code_keeps_every_other_field(browser_for, customer: Account) -> None:  # type: ignore[no-untyped-def]
    browser = browser_for(customer)
    response = browser.post("/orders/review", {**TUNNEL, "promotion_code": "NOPE"})
    assert response.status_code == 422
    assert re.search(r'<option value="2" selected>', response.text)  # 2 lines, still
    assert re.search(r'<option value="10" selected>', response.text)  # 10 numbers, still
    assert 'value="NOPE"' in response.text


def test_a_form_without_its_token_is_refused(browser_for, customer: Account) -> None:  # type: ignore[no-untyped-def]
    browser = browser_for(customer)
    response = browser.post("/orders/new", ACCEPTED, csrf=False)
    assert response.status_code == 403
    assert browser.get("/orders").text.count("/orders/") <= 1  # nothing was created


def test_a_bad_cart_shows_the_rule(browser_for, customer: Account) -> None:  # type: ignore[no-untyped-def]
    browser = browser_for(customer)
    response = browser.post("/orders/review", {"qty_alias-number": "101"})
    assert response.status_code == 422
    assert 'role="alert"' in response.text


def test_a_card_needing_confirmation_goes_through_the_sandbox_page(
    browser_for, customer: Account, seeded: Platform
) -> None:  # type: ignore[no-untyped-def]
    browser = browser_for(customer)
    order_id = order_id_from(browser.post("/orders/new", ACCEPTED))
    paid = browser.post(
        f"/orders/{order_id}/pay",
        {
            "choice": "new-card",
            "card_number": TEST_CARD_NEEDS_CONFIRMATION,
            "card_exp": "12/30",
            "card_cvc": "123",
        },
    )
    assert paid.status_code == 303 and paid.headers["location"].startswith("/sandbox-payments/")
    confirm_page = browser.get(paid.headers["location"])
    assert confirm_page.status_code == 200
    answered = browser.post(paid.headers["location"], {"approve": "yes"})
    assert answered.headers["location"] == f"/orders/{order_id}"
    run_outbox(seeded)
    assert load(seeded, order_id).state == rules.DELIVERED


def test_payment_methods_page(browser_for, customer: Account) -> None:  # type: ignore[no-untyped-def]
    browser = browser_for(customer)
    bad = browser.post(
        "/payment-methods",
        {
            "method_type": "sepa_debit",
            "iban": "FR00",
            "holder_name": "A",
            "holder_address": "B",
            "accept_mandate": "true",
        },
    )
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    added = browser.post(
        "/payment-methods",
        {
            "method_type": "sepa_debit",
            "iban": "FR1420041010050500013M02606",
            "holder_name": "Ada Lovelace",
            "holder_address": "1 rue du Test, 75002 Paris",
            "accept_mandate": "true",
        },
    )
    assert added.status_code == 303
    page = browser.get("/payment-methods")
    assert "IBAN FR14 •••• 2606" in page.text


def test_another_customers_order_page_is_not_found(
    browser_for, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    order_id = order_id_from(browser_for(customer).post("/orders/new", ACCEPTED))
    stranger = browser_for(customer_factory())
    assert stranger.get(f"/orders/{order_id}").status_code == 404
    assert stranger.post(f"/orders/{order_id}/cancel").status_code == 404


def test_staff_orders_by_state(browser_for, customer: Account, customer_factory) -> None:  # type: ignore[no-untyped-def]
    browser_for(customer).post("/orders/new", ACCEPTED)
    staff = browser_for(customer_factory(is_staff=True))
    page = staff.get("/backoffice/orders?state=not_paid")
    assert page.status_code == 200 and customer.handle in page.text
    assert browser_for(customer).get("/backoffice/orders").status_code == 403


def test_staff_orders_sort_by_amount_both_ways_within_their_state(  # type: ignore[no-untyped-def]
    browser_for, customer: Account, customer_factory, seeded: Platform
) -> None:
    buyer = browser_for(customer)
    small = load(
        seeded, order_id_from(buyer.post("/orders/new", {**ACCEPTED, "qty_alias-number": "1"}))
    )
    large = load(seeded, order_id_from(buyer.post("/orders/new", ACCEPTED)))
    staff = browser_for(customer_factory(is_staff=True))

    def numbers(query: str) -> list[str]:
        page = staff.get(f"/backoffice/orders?{query}").text
        table = page.split('id="staff-orders"', 1)[1].split("</table>", 1)[0]
        return [
            n
            for n in re.findall(r'data-order="([^"]+)"', table)
            if n in (small.number, large.number)
        ]

    assert numbers("state=not_paid&sort=amount") == [small.number, large.number]
    assert numbers("state=not_paid&sort=-amount") == [large.number, small.number]
    page = staff.get("/backoffice/orders?state=not_paid&sort=-amount").text
    assert "/backoffice/orders?state=not_paid&amp;sort=amount" in page  # the header keeps the state
    assert "/backoffice/orders?state=validation&amp;sort=-amount" in page  # the tabs keep the sort


def test_cancelling_an_order_asks_first_naming_the_consequence(  # type: ignore[no-untyped-def]
    browser_for, customer: Account, seeded: Platform
) -> None:
    browser = browser_for(customer)
    order_id = order_id_from(browser.post("/orders/new", ACCEPTED))
    number = load(seeded, order_id).number
    asked = browser.post(f"/orders/{order_id}/cancel")
    assert asked.status_code == 200 and 'id="consequence"' in asked.text
    assert number in asked.text
    assert load(seeded, order_id).state == rules.NOT_PAID  # nothing happened yet
    done = browser.post(f"/orders/{order_id}/cancel", {"confirmed": "yes"})
    assert done.status_code == 303
    assert load(seeded, order_id).state == rules.CANCELLED
