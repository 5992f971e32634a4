"""The catalogue and orders API on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.orders.api_harness import ApiClient, api_client
from tests.orders.helpers import run_outbox, with_terms
from voipdesk.accounts.models import Account
from voipdesk.core.clock import MovableClock
from voipdesk.core.platform import Platform
from voipdesk.payments.provider import (
    SIGNATURE_HEADER,
    TEST_CARD_DECLINED,
    TEST_CARD_NEEDS_CONFIRMATION,
    TEST_CARD_SUCCEEDS,
    sign,
    webhook_secret,
)

CART = {
    "lines": [
        {"offer": "sip-decouverte", "quantity": 2, "area": "01"},
        {"offer": "alias-number", "quantity": 10, "area": "+331"},
    ]
}
CARD = {"number": TEST_CARD_SUCCEEDS, "exp_month": 12, "exp_year": 2030, "cvc": "123"}


@pytest.fixture
def api(seeded: Platform) -> Iterator[ApiClient]:
    with api_client(seeded) as client:
        yield client


def problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == code
    return body


def new_order(api: ApiClient, account: Account, cart: dict | None = None) -> dict:
    response = api.post("/orders", account, json=with_terms(cart or CART))
    assert response.status_code == 201, response.text
    return response.json()


# --- catalogue -----------------------------------------------------------------------------------
def test_catalogue_shows_prices_excl_and_incl_tax(api: ApiClient) -> None:
    response = api.get("/catalogue?country=FR")
    assert response.status_code == 200
    body = response.json()
    offers = {offer["code"]: offer for offer in body["offers"]}
    assert offers["sip-decouverte"]["prices"]["monthly"] == {
        "excl_tax": {"amount": "1.99", "currency": "EUR"},
        "tax": {"amount": "0.40", "currency": "EUR"},
        "incl_tax": {"amount": "2.39", "currency": "EUR"},
    }
    assert offers["sip-entreprise"]["simultaneous_calls"] == {
        "minimum": 1,
        "maximum": 100,
        "included": 1,
    }
    assert offers["sip-entreprise"]["prices"]["extra_call_monthly"]["excl_tax"]["amount"] == "1.00"
    assert offers["phone-pnp-pro"]["prices"]["deposit"]["tax"]["amount"] == "0.00"
    assert offers["sip-decouverte"]["allowed_changes"] == ["sip-entreprise"]
    assert body["alias_quantities"] == {"minimum": 1, "maximum": 100}
    assert body["payment_methods"]["individual"] == ["card", "sepa_debit"]
    assert {area["prefix"] for area in body["areas"]} == {"+331", "+334", "+339"}


def test_catalogue_in_french_for_switzerland(api: ApiClient) -> None:
    body = api.get("/catalogue?country=CH", headers={"Accept-Language": "fr"}).json()
    assert body["taxes"] == [{"label": "TVA", "rate": "0.081"}]
    offers = {offer["code"]: offer for offer in body["offers"]}
    assert offers["sip-decouverte"]["label"] == "Ligne SIP Découverte"
    assert (
        offers["sip-decouverte"]["prices"]["monthly"]["incl_tax"]["amount"] == "2.15"
    )  # 1.99 + 0.16


def test_unknown_country_is_refused(api: ApiClient) -> None:
    body = problem(api.get("/catalogue?country=DE"), 422, "unknown-country")
    assert body["errors"][0]["field"] == "country"


def test_free_numbers_by_area_with_pages(api: ApiClient) -> None:
    first = api.get("/catalogue/numbers?country=FR&prefix=01&limit=30").json()
    assert len(first["items"]) == 30 and all(
        item["number"].startswith("+331") for item in first["items"]
    )
    assert first["items"][0]["national"].startswith("01 ")
    second = api.get(
        f"/catalogue/numbers?country=FR&prefix=01&limit=30&cursor={first['next_cursor']}"
    ).json()
    assert second["items"][0]["number"] > first["items"][-1]["number"]


# --- orders --------------------------------------------------------------------------------------
def test_orders_need_authentication(api: ApiClient) -> None:
    problem(api.post("/orders", None, json=with_terms(CART)), 401, "not-authenticated")
    problem(api.get("/orders", None), 401, "not-authenticated")


def test_create_read_and_list_an_order(api: ApiClient, customer: Account) -> None:
    order = new_order(api, customer)
    assert order["state"] == "not_paid"
    assert order["totals"]["incl_tax"]["currency"] == "EUR"
    assert order["allowed_payment_methods"] == ["card", "sepa_debit"]
    assert [line["offer"] for line in order["lines"]] == ["sip-decouverte", "alias-number"]
    assert order["lines"][1]["details"]["pool"] is True
    fetched = api.get(f"/orders/{order['id']}", customer).json()
    assert fetched == order
    listed = api.get("/orders", customer).json()
    assert [(item["id"], item["number"], item["state"]) for item in listed["items"]] == [
        (order["id"], order["number"], "not_paid")
    ]
    assert listed["items"][0]["incl_tax"] == order["totals"]["incl_tax"]


def test_another_customers_order_answers_404(
    api: ApiClient, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    order = new_order(api, customer)
    stranger = customer_factory()
    for path in ("", "/html", "/follow-up", "/payments"):
        problem(api.get(f"/orders/{order['id']}{path}", stranger), 404, "not-found")
    problem(
        api.post(f"/orders/{order['id']}/payments", stranger, json={"card": CARD}), 404, "not-found"
    )
    problem(api.post(f"/orders/{order['id']}/cancel", stranger), 404, "not-found")
    problem(api.get("/orders/doesnotexist", customer), 404, "not-found")


@pytest.mark.parametrize(
    ("cart", "status", "code"),
    [
        ({"lines": [{"offer": "sip-gold", "quantity": 1}]}, 422, "unknown-offer"),
        ({"lines": [{"offer": "alias-number", "quantity": 101}]}, 422, "quantity-out-of-range"),
        ({"lines": [{"offer": "alias-number", "quantity": 0}]}, 422, "quantity-out-of-range"),
        (
            {"lines": [{"offer": "alias-number", "quantity": 2, "area": "01x"}]},
            422,
            "invalid-prefix",
        ),
        (
            {"lines": [{"offer": "sip-entreprise", "simultaneous_calls": 500}]},
            422,
            "simultaneous-calls-out-of-range",
        ),
        ({"lines": [{"offer": "option-mobile-hours-10"}]}, 422, "offer-kind-mismatch"),
        ({"lines": [{"offer": "alias-number", "numbers": ["0612"]}]}, 422, "invalid-phone-number"),
        ({"lines": []}, 422, "empty-cart"),
        (
            {"lines": [{"offer": "sip-decouverte"}], "promotion_code": "FAKE"},
            422,
            "unknown-promotion-code",
        ),
        ({"lines": [{"offer": "sip-decouverte", "quantity": "many"}]}, 422, "invalid-input"),
    ],
)
def test_bad_orders_are_clear_problems(
    api: ApiClient, customer: Account, cart: dict, status: int, code: str
) -> None:
    problem(api.post("/orders", customer, json=with_terms(cart)), status, code)
    assert api.get("/orders", customer).json()["items"] == []


def test_offer_not_sold_in_the_country(api: ApiClient, customer_factory) -> None:  # type: ignore[no-untyped-def]
    quebec = customer_factory(country="CA-QC")
    body = problem(
        api.post("/orders", quebec, json=with_terms({"lines": [{"offer": "fax-line"}]})),
        422,
        "offer-not-sold-in-country",
    )
    assert body["errors"][0]["field"] == "offer"


def test_a_number_already_taken(api: ApiClient, customer: Account, customer_factory) -> None:  # type: ignore[no-untyped-def]
    cart = {"lines": [{"offer": "alias-number", "numbers": ["+33186950042"]}]}
    new_order(api, customer, cart)
    problem(
        api.post("/orders", customer_factory(), json=with_terms(cart)), 409, "number-not-available"
    )


def test_order_creation_is_idempotent(api: ApiClient, customer: Account) -> None:
    key = {"Idempotency-Key": "order-1"}
    first = api.post("/orders", customer, json=with_terms(CART), headers=key)
    again = api.post("/orders", customer, json=with_terms(CART), headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(api.get("/orders", customer).json()["items"]) == 1
    other = {"lines": [{"offer": "sip-decouverte"}]}
    problem(
        api.post("/orders", customer, json=with_terms(other), headers=key),
        422,
        "idempotency-key-reused",
    )


def test_idempotency_keys_are_per_account(
    api: ApiClient, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    other = customer_factory()
    key = {"Idempotency-Key": "same-key"}
    mine = api.post("/orders", customer, json=with_terms(CART), headers=key).json()
    theirs = api.post("/orders", other, json=with_terms(CART), headers=key).json()
    assert mine["id"] != theirs["id"]


def test_pay_with_a_card_then_follow_the_order(
    api: ApiClient, customer: Account, seeded: Platform
) -> None:
    order = new_order(api, customer)
    html = api.get(f"/orders/{order['id']}/html", customer)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert order["number"] in html.text
    key = {"Idempotency-Key": "pay-1"}
    payment = api.post(
        f"/orders/{order['id']}/payments", customer, json={"card": CARD}, headers=key
    )
    assert payment.status_code == 201, payment.text
    assert payment.json()["status"] == "succeeded"
    assert payment.json()["amount"] == order["totals"]["incl_tax"]
    replay = api.post(f"/orders/{order['id']}/payments", customer, json={"card": CARD}, headers=key)
    assert replay.json() == payment.json()
    problem(
        api.post(f"/orders/{order['id']}/payments", customer, json={"card": CARD}),
        409,
        "order-not-payable",
    )
    assert len(api.get(f"/orders/{order['id']}/payments", customer).json()["items"]) == 1
    run_outbox(seeded)
    follow_up = api.get(f"/orders/{order['id']}/follow-up", customer).json()
    assert follow_up["state"] == "delivered"
    assert [step["status"] for step in follow_up["steps"]] == ["done", "done", "done", "done"]
    assert not any(step["action_needed"] for step in follow_up["steps"])
    problem(api.get(f"/orders/{order['id']}/html", customer), 409, "order-not-printable")
    delivered = api.get(f"/orders/{order['id']}", customer).json()
    assert delivered["invoice_id"] and delivered["delivery"]["billing_group_id"]


def test_follow_up_says_what_to_do(api: ApiClient, customer: Account) -> None:
    order = new_order(api, customer)
    steps = api.get(
        f"/orders/{order['id']}/follow-up", customer, headers={"Accept-Language": "en"}
    ).json()["steps"]
    payment = next(step for step in steps if step["code"] == "payment")
    assert payment["action_needed"] and payment["action"] == "Pay the order before it expires."


def test_declined_and_confirmed_cards(api: ApiClient, customer: Account, seeded: Platform) -> None:
    order = new_order(api, customer)
    declined = api.post(
        f"/orders/{order['id']}/payments",
        customer,
        json={"card": dict(CARD, number=TEST_CARD_DECLINED)},
    ).json()
    assert declined["status"] == "failed" and declined["failure_code"] == "card-declined"
    pending = api.post(
        f"/orders/{order['id']}/payments",
        customer,
        json={"card": dict(CARD, number=TEST_CARD_NEEDS_CONFIRMATION)},
    ).json()
    assert pending["status"] == "requires_confirmation" and pending["confirmation_url"]
    reference = pending["confirmation_url"].rsplit("/", 1)[1]
    confirmed = api.post(
        f"/payment-provider/sandbox/payments/{reference}/confirm", json={"approve": True}
    )
    assert confirmed.json()["status"] == "succeeded"
    run_outbox(seeded)
    assert api.get(f"/orders/{order['id']}", customer).json()["state"] == "delivered"


def test_cancel_then_pay_is_refused(api: ApiClient, customer: Account) -> None:
    order = new_order(api, customer)
    cancelled = api.post(f"/orders/{order['id']}/cancel", customer)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    problem(
        api.post(f"/orders/{order['id']}/payments", customer, json={"card": CARD}),
        409,
        "order-not-payable",
    )
    problem(api.post(f"/orders/{order['id']}/cancel", customer), 409, "order-not-cancellable")


def test_paying_an_expired_order(api: ApiClient, customer: Account, clock: MovableClock) -> None:
    order = new_order(api, customer)
    clock.advance(timedelta(days=15, minutes=1))
    body = problem(
        api.post(f"/orders/{order['id']}/payments", customer, json={"card": CARD}),
        409,
        "order-expired",
    )
    assert "expired" in body["detail"]
    assert api.get("/orders", customer).json()["items"] == []


def test_problem_details_follow_the_callers_language(api: ApiClient, customer_factory) -> None:  # type: ignore[no-untyped-def]
    french = customer_factory(language="fr")
    body = problem(
        api.post("/orders", french, json=with_terms({"lines": [{"offer": "sip-gold"}]})),
        422,
        "unknown-offer",
    )
    assert body["detail"] == "L'offre sip-gold n'existe pas."


# --- payment methods -----------------------------------------------------------------------------
def test_payment_methods_crud(api: ApiClient, customer: Account) -> None:
    card = api.post("/me/payment-methods", customer, json={"type": "card", "card": CARD})
    assert card.status_code == 201, card.text
    assert card.json()["is_default"] and card.json()["card"]["last4"] == "4242"
    sepa = api.post(
        "/me/payment-methods",
        customer,
        json={
            "type": "sepa_debit",
            "iban": "FR1420041010050500013M02606",
            "holder_name": "Ada Lovelace",
            "holder_address": "1 rue du Test, 75002 Paris",
            "accept_mandate": True,
        },
    )
    assert sepa.status_code == 201, sepa.text
    mandate = sepa.json()["sepa_debit"]
    assert mandate["mandate_reference"] and mandate["mandate_signed_on"] == "2026-03-02"
    assert "FR1420041010050500013M02606" not in sepa.text  # only the last digits are shown
    made_default = api.patch(
        f"/me/payment-methods/{sepa.json()['id']}", customer, json={"is_default": True}
    )
    assert made_default.json()["is_default"]
    listed = api.get("/me/payment-methods", customer).json()["items"]
    assert {method["id"]: method["is_default"] for method in listed} == {
        card.json()["id"]: False,
        sepa.json()["id"]: True,
    }
    assert api.delete(f"/me/payment-methods/{card.json()['id']}", customer).status_code == 204
    problem(api.get(f"/me/payment-methods/{card.json()['id']}", customer), 404, "not-found")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (
            {
                "type": "sepa_debit",
                "iban": "FR1420041010050500013M02607",
                "holder_name": "A",
                "holder_address": "B",
                "accept_mandate": True,
            },
            "invalid-iban",
            "iban",
        ),
        (
            {
                "type": "sepa_debit",
                "iban": "BR1800360305000010009795493C1",
                "holder_name": "A",
                "holder_address": "B",
                "accept_mandate": True,
            },
            "iban-not-sepa",
            "iban",
        ),
        (
            {
                "type": "sepa_debit",
                "iban": "FR1420041010050500013M02606",
                "holder_name": "A",
                "holder_address": "B",
            },
            "mandate-not-accepted",
            "accept_mandate",
        ),
        (
            {"type": "card", "card": dict(CARD, number="1234567812345678")},
            "invalid-card",
            "card.number",
        ),
        ({"type": "bank_transfer"}, "payment-method-not-allowed", "type"),
    ],
)
def test_bad_payment_methods(
    api: ApiClient, customer: Account, body: dict, code: str, field: str
) -> None:
    answer = problem(api.post("/me/payment-methods", customer, json=body), 422, code)
    assert answer["errors"][0]["field"] == field
    assert api.get("/me/payment-methods", customer).json()["items"] == []


def test_another_customers_payment_method_answers_404(
    api: ApiClient, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    card = api.post("/me/payment-methods", customer, json={"type": "card", "card": CARD}).json()
    stranger = customer_factory()
    problem(api.get(f"/me/payment-methods/{card['id']}", stranger), 404, "not-found")
    problem(api.delete(f"/me/payment-methods/{card['id']}", stranger), 404, "not-found")


# --- webhooks ------------------------------------------------------------------------------------
def test_webhooks_are_verified_and_handled_once(
    api: ApiClient, customer: Account, seeded: Platform
) -> None:
    order = new_order(api, customer)
    pending = api.post(
        f"/orders/{order['id']}/payments",
        customer,
        json={"card": dict(CARD, number=TEST_CARD_NEEDS_CONFIRMATION)},
    ).json()
    reference = pending["confirmation_url"].rsplit("/", 1)[1]
    amount = order["totals"]["incl_tax"]["amount"]
    data = {"reference": reference, "amount": amount, "currency": "EUR"}
    body = json.dumps({"id": "evt_1", "type": "payment.succeeded", "data": data}).encode()
    forged = sign(b"not-the-secret", body, int(seeded.now().timestamp()))
    problem(
        api.post(
            "/payment-provider/sandbox/webhook", content=body, headers={SIGNATURE_HEADER: forged}
        ),
        400,
        "webhook-signature-invalid",
    )
    problem(
        api.post("/payment-provider/sandbox/webhook", content=body),
        400,
        "webhook-signature-invalid",
    )
    assert api.get(f"/orders/{order['id']}", customer).json()["state"] == "not_paid"
    good = sign(webhook_secret(seeded), body, int(seeded.now().timestamp()))
    first = api.post(
        "/payment-provider/sandbox/webhook", content=body, headers={SIGNATURE_HEADER: good}
    )
    assert first.json() == {"received": True, "duplicate": False}
    again = api.post(
        "/payment-provider/sandbox/webhook", content=body, headers={SIGNATURE_HEADER: good}
    )
    assert again.json() == {"received": True, "duplicate": True}
    payments = api.get(f"/orders/{order['id']}/payments", customer).json()["items"]
    assert [p["status"] for p in payments] == ["succeeded"]
    assert api.get(f"/orders/{order['id']}", customer).json()["state"] == "delivering"


# --- staff ---------------------------------------------------------------------------------------
def test_staff_see_orders_by_state_and_record_transfers(api: ApiClient, customer_factory) -> None:  # type: ignore[no-untyped-def]
    company = customer_factory(kind="company", organisation_name="ACME SAS")
    staff = customer_factory(is_staff=True)
    order = new_order(api, company)
    problem(api.get("/backoffice/orders?state=not_paid", company), 403, "forbidden")
    problem(api.get("/backoffice/orders?state=lost", staff), 422, "invalid-input")
    waiting = api.get("/backoffice/orders?state=not_paid", staff).json()
    assert [item["id"] for item in waiting["items"]] == [order["id"]]
    transfer = api.post(
        f"/orders/{order['id']}/payments", company, json={"method": "bank_transfer"}
    ).json()
    assert transfer["status"] == "awaiting_transfer"
    assert transfer["bank_transfer"]["reference"] == order["number"]
    recorded = api.post(f"/backoffice/orders/{order['id']}/bank-transfer", staff)
    assert recorded.status_code == 200 and recorded.json()["status"] == "succeeded"
    assert api.get("/backoffice/orders?state=not_paid", staff).json()["items"] == []
    assert [
        i["id"] for i in api.get("/backoffice/orders?state=delivering", staff).json()["items"]
    ] == [order["id"]]


def test_idempotency_keys_are_forgotten_after_30_days(
    api: ApiClient, customer: Account, seeded: Platform, clock: MovableClock
) -> None:
    from voipdesk.orders.idempotency import purge_expired_keys

    key = {"Idempotency-Key": "monthly-script"}
    first = api.post("/orders", customer, json=with_terms(CART), headers=key).json()
    clock.advance(timedelta(days=29))
    assert purge_expired_keys(seeded) == 0
    assert (
        api.post("/orders", customer, json=with_terms(CART), headers=key).json()["id"]
        == first["id"]
    )
    clock.advance(timedelta(days=2))
    assert purge_expired_keys(seeded) == 1
    assert (
        api.post("/orders", customer, json=with_terms(CART), headers=key).json()["id"]
        != first["id"]
    )


# --- lists: items + next_cursor, pages, bad cursor, bad limit -----------------------------------
def test_payment_methods_orders_and_tokens_lists_are_pages(
    api: ApiClient, customer: Account
) -> None:
    made = [
        api.post("/me/payment-methods", customer, json={"type": "card", "card": CARD}).json()["id"]
        for _ in range(3)
    ]
    first = api.get("/me/payment-methods", customer, params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api.get(
        "/me/payment-methods", customer, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert second["next_cursor"] is None
    assert sorted(m["id"] for m in first["items"] + second["items"]) == sorted(made)
    order = new_order(api, customer)
    payments = api.get(f"/orders/{order['id']}/payments", customer).json()
    assert payments == {"items": [], "next_cursor": None}
    for path in (
        "/me/payment-methods",
        "/orders",
        f"/orders/{order['id']}/payments",
        "/auth/tokens",
    ):
        bad = api.get(path, customer, params={"cursor": "not-ours"})
        assert bad.status_code == 422 and bad.json()["type"] == "invalid-cursor", path
        bad = api.get(path, customer, params={"limit": 201})
        assert bad.status_code == 422 and bad.json()["type"] == "invalid-input", path
    tokens = api.get("/auth/tokens", customer).json()
    assert set(tokens) == {"items", "next_cursor"}


def test_any_count_of_alias_numbers_from_1_to_100_and_the_true_free_count(
    api: ApiClient, customer: Account, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    seven = api.post(
        "/orders",
        customer,
        json=with_terms({"lines": [{"offer": "alias-number", "quantity": 7, "area": "+331"}]}),
    )
    assert seven.status_code == 201, seven.text
    [line] = seven.json()["lines"]
    assert line["quantity"] == 7 and len(line["details"]["numbers"]) == 7
    assert line["details"]["pool"] is False
    twelve = api.post(
        "/orders",
        customer,
        json=with_terms({"lines": [{"offer": "alias-number", "quantity": 12, "area": "+331"}]}),
    )
    assert twelve.json()["lines"][0]["details"]["pool"] is True  # ten or more: a pool
    # 100 numbers per area in the demo, 19 reserved above: the refusal says 81 are left.
    other = customer_factory()
    refused = api.post(
        "/orders",
        other,
        json=with_terms({"lines": [{"offer": "alias-number", "quantity": 100, "area": "+331"}]}),
    )
    assert refused.status_code == 409
    body = refused.json()
    assert body["type"] == "not-enough-numbers"
    assert "81" in body["detail"] and "100" in body["detail"]


def test_a_malformed_number_prefix_is_refused_not_ignored(api: ApiClient) -> None:
    good = api.get("/catalogue/numbers?country=FR&prefix=01")
    assert good.status_code == 200 and good.json()["items"]
    for prefix in ("abc", "01x", "+"):
        problem(api.get(f"/catalogue/numbers?country=FR&prefix={prefix}"), 422, "invalid-prefix")


def test_no_order_without_the_terms_accepted(api: ApiClient, customer: Account) -> None:
    """Consent is required in the API as on the review page: no `accepted_terms`, or an
    outdated version, answers 422 and makes no order; the accepted versions are kept."""
    missing = problem(api.post("/orders", customer, json=CART), 422, "invalid-input")
    assert any(error["field"].endswith("accepted_terms") for error in missing["errors"])
    old = {**with_terms(CART), "accepted_terms": {"terms_of_sale": "2020-01-01"}}
    problem(api.post("/orders", customer, json=old), 422, "terms-not-accepted")
    assert api.get("/orders", customer).json()["items"] == []
    made = api.post("/orders", customer, json=with_terms(CART))
    assert made.status_code == 201, made.text
    with api.client.app.state.platform.session() as session:
        from voipdesk.orders.models import PurchaseOrder

        order = session.get(PurchaseOrder, made.json()["id"])
        assert order is not None and order.terms_accepted is not None
        assert order.terms_accepted["terms_of_sale"] == "2026-01-01"
        assert order.terms_accepted["accepted_at"]


def test_ordering_through_the_api_waits_for_the_confirmed_e_mail(
    api: ApiClient, seeded: Platform, customer_factory
) -> None:  # type: ignore[no-untyped-def]
    """The API obeys the same rule as the pages: an unconfirmed address orders nothing (403
    `email-not-verified`); once the link is opened, the same order is made."""
    from voipdesk.accounts.actions.verification import verification_token, verify_email

    seeded.settings.require_verified_email = True
    customer = customer_factory(language="fr")
    refused = problem(
        api.post("/orders", customer, json=with_terms(CART)), 403, "email-not-verified"
    )
    assert "e-mail" in refused["detail"]
    assert api.get("/orders", customer).json()["items"] == []
    verify_email(seeded, customer.id, verification_token(seeded, customer.id, customer.email))
    assert api.post("/orders", customer, json=with_terms(CART)).status_code == 201


def test_orders_are_sorted_by_date_or_amount_across_pages(
    api: ApiClient, customer: Account
) -> None:
    """The orders list sorts by date or amount (incl. tax), ascending or descending, and its
    pages follow the sort: every order once, in order; an unknown sort is refused (422)."""
    carts = [
        {"lines": [{"offer": "alias-number", "quantity": n, "area": "+331"}]} for n in (3, 1, 5, 2)
    ]
    for cart in carts:
        assert api.post("/orders", customer, json=with_terms(cart)).status_code == 201

    def walk(sort: str) -> list[dict]:  # type: ignore[type-arg]
        seen, cursor = [], None
        while True:
            query = f"/orders?limit=2&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
            page = api.get(query, customer).json()
            seen.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return seen

    amounts = [float(o["incl_tax"]["amount"]) for o in walk("amount")]
    assert amounts == sorted(amounts) and len(amounts) == 4
    assert [float(o["incl_tax"]["amount"]) for o in walk("-amount")] == sorted(amounts)[::-1]
    newest = [o["number"] for o in walk("-date")]
    assert [o["number"] for o in walk("date")] == newest[::-1]
    problem(api.get("/orders?sort=colour", customer), 422, "invalid-input")


def test_invoices_are_sorted_by_date_or_amount_across_pages(
    api: ApiClient, seeded: Platform, customer: Account
) -> None:
    for quantity in (3, 1, 5):
        cart = {"lines": [{"offer": "alias-number", "quantity": quantity, "area": "+331"}]}
        order = api.post("/orders", customer, json=with_terms(cart)).json()
        api.post(f"/orders/{order['id']}/payments", customer, json={"card": CARD})
    run_outbox(seeded)

    def walk(sort: str) -> list[float]:
        seen, cursor = [], None
        while True:
            query = f"/me/invoices?limit=2&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
            page = api.get(query, customer).json()
            seen.extend(float(i["incl_tax"]["amount"]) for i in page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return seen

    assert len(walk("amount")) == 3
    assert walk("amount") == sorted(walk("amount"))
    assert walk("-amount") == sorted(walk("amount"), reverse=True)
    problem(api.get("/me/invoices?sort=colour", customer), 422, "invalid-input")
