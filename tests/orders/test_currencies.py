"""Each country in its own currency, end to end: Switzerland in francs, Québec in Canadian
dollars (catalogue, order, payment, invoice and its taxes, renewal), euros elsewhere; a SEPA
direct debit never collects another currency."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from tests.orders.api_harness import ApiClient, api_client
from tests.orders.helpers import run_outbox, with_terms
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.platform import Platform
from voipdesk.payments.provider import TEST_CARD_SUCCEEDS

CARD = {"number": TEST_CARD_SUCCEEDS, "exp_month": 12, "exp_year": 2030, "cvc": "123"}


@pytest.fixture
def api(seeded: Platform) -> Iterator[ApiClient]:
    with api_client(seeded) as client:
        yield client


def test_the_currency_rule() -> None:
    assert [catalogue_rules.currency_of(c) for c in ("FR", "BE", "CH", "CA-QC")] == [
        "EUR",
        "EUR",
        "CHF",
        "CAD",
    ]
    assert catalogue_rules.price_applies("*", "EUR", "FR")
    assert not catalogue_rules.price_applies("*", "EUR", "CH")  # no euro price in francs
    assert catalogue_rules.price_applies("CH", "CHF", "CH")
    assert not catalogue_rules.price_applies("CH", "CHF", "FR")


@pytest.mark.parametrize(
    ("country", "postal_code", "currency", "monthly", "taxes"),
    [
        ("CH", "1003", "CHF", "1.99", {"TVA"}),
        ("CA-QC", "H2X 1Y4", "CAD", "2.99", {"TPS", "TVQ"}),
        ("FR", "75002", "EUR", "1.99", {"TVA"}),
    ],
)
def test_a_country_is_sold_and_invoiced_in_its_currency(
    api: ApiClient,
    seeded: Platform,
    customer_factory,  # type: ignore[no-untyped-def]
    country: str,
    postal_code: str,
    currency: str,
    monthly: str,
    taxes: set[str],
) -> None:
    from voipdesk.billing.renewal import run_renewal

    catalogue = api.get(f"/catalogue?country={country}").json()
    assert catalogue["currency"] == currency
    offer = next(o for o in catalogue["offers"] if o["code"] == "sip-decouverte")
    prices = [value for value in _money_in(offer)]
    assert prices and {p["currency"] for p in prices} == {currency}
    customer = customer_factory(language="fr", country=country, postal_code=postal_code)
    cart = {"lines": [{"offer": "sip-decouverte", "quantity": 1}]}
    made = api.post("/orders", customer, json=with_terms(cart))
    assert made.status_code == 201, made.text
    order = made.json()
    assert {m["currency"] for m in _money_in(order)} == {currency}
    line = order["lines"][0]
    assert line["monthly_price_excl_tax"] == {"amount": monthly, "currency": currency}
    paid = api.post(f"/orders/{order['id']}/payments", customer, json={"card": CARD})
    assert paid.status_code in (200, 201), paid.text
    run_outbox(seeded)
    invoices = api.get("/me/invoices", customer).json()["items"]
    assert len(invoices) == 1
    invoice = api.get(f"/me/invoices/{invoices[0]['id']}", customer).json()
    assert {m["currency"] for m in _money_in(invoice)} == {currency}
    assert {t["label"] for t in invoice["taxes"]} == taxes
    # The renewal invoices the line in the same currency.
    run_renewal(seeded, date(2026, 4, 1))
    renewed = api.get("/me/invoices", customer).json()["items"]
    assert len(renewed) == 2
    assert {i["incl_tax"]["currency"] for i in renewed} == {currency}
    assert Decimal(renewed[0]["excl_tax"]["amount"]) > 0


def test_a_franc_invoice_is_never_collected_by_sepa_direct_debit(
    api: ApiClient,
    seeded: Platform,
    customer_factory,  # type: ignore[no-untyped-def]
) -> None:
    from sqlalchemy import select

    from voipdesk.billing.models import Collection
    from voipdesk.billing.renewal import run_renewal

    customer = customer_factory(language="en", country="CH", postal_code="1003")
    cart = {"lines": [{"offer": "sip-decouverte", "quantity": 1}]}
    order = api.post("/orders", customer, json=with_terms(cart)).json()
    api.post(f"/orders/{order['id']}/payments", customer, json={"card": CARD})
    run_outbox(seeded)
    sepa = api.post(
        "/me/payment-methods",
        customer,
        json={
            "type": "sepa_debit",
            "iban": "CH9300762011623852957",
            "holder_name": "Léa Muller",
            "holder_address": "Rue de Bourg 1, 1003 Lausanne",
            "accept_mandate": True,
            "make_default": True,
        },
    )
    assert sepa.status_code == 201, sepa.text
    run_renewal(seeded, date(2026, 4, 1))
    invoice = next(
        i for i in api.get("/me/invoices", customer).json()["items"] if i["status"] == "unpaid"
    )
    assert invoice["incl_tax"]["currency"] == "CHF"
    with seeded.session() as session:
        collections = session.scalars(
            select(Collection).where(Collection.invoice_id == invoice["id"])
        ).all()
    assert collections == []  # the renewal does not debit francs by SEPA: the invoice waits
    refused = api.post(
        f"/me/invoices/{invoice['id']}/payments", customer, json={"method": "sepa_debit"}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == "direct-debit-not-in-currency"
    assert "CHF" in refused.json()["detail"]
    by_card = api.post(
        f"/me/invoices/{invoice['id']}/payments", customer, json={"method": "card", "card": CARD}
    )
    assert by_card.status_code in (200, 201), by_card.text


def _money_in(value):  # type: ignore[no-untyped-def]
    """Every money object ({"amount", "currency"}) inside a JSON document."""
    if isinstance(value, dict):
        if set(value) == {"amount", "currency"}:
            yield value
            return
        for item in value.values():
            yield from _money_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _money_in(item)


def test_a_fixed_euro_discount_is_refused_in_francs(
    api: ApiClient,
    customer_factory,  # type: ignore[no-untyped-def]
) -> None:
    swiss = customer_factory(language="en", country="CH", postal_code="1003")
    cart = {"lines": [{"offer": "sip-decouverte", "quantity": 1}], "promotion_code": "REMISE5"}
    refused = api.post("/orders", swiss, json=with_terms(cart))
    assert refused.status_code == 422 and refused.json()["type"] == "unknown-promotion-code"
    percent = {**cart, "promotion_code": "BIENVENUE10"}
    assert api.post("/orders", swiss, json=with_terms(percent)).status_code == 201
