"""The operator edits its catalogue through the back-office API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.orders.api_harness import ApiClient, api_client
from tests.orders.conftest import make_account
from voipdesk.accounts.models import Account
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.platform import Platform


@pytest.fixture
def api(platform: Platform) -> Iterator[ApiClient]:
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    with api_client(platform) as client:
        yield client


@pytest.fixture
def staff(platform: Platform) -> Account:
    return make_account(platform, is_staff=True)


def monthly(api: ApiClient, code: str, country: str = "FR") -> str:
    offers = {
        offer["code"]: offer for offer in api.get(f"/catalogue?country={country}").json()["offers"]
    }
    return offers[code]["prices"]["monthly"]["excl_tax"]["amount"]


def test_customers_cannot_edit_the_catalogue(api: ApiClient, platform: Platform) -> None:
    customer = make_account(platform)
    response = api.post(
        "/backoffice/catalogue/prices",
        customer,
        json={"offer": "fax-line", "amount": "0.01", "valid_from": "2026-03-02"},
    )
    assert response.status_code == 403


def test_a_new_price_applies_from_its_date(
    api: ApiClient, staff: Account, platform: Platform, clock
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    created = api.post(
        "/backoffice/catalogue/prices",
        staff,
        json={"offer": "fax-line", "amount": "3.49", "valid_from": "2026-04-01"},
    )
    assert created.status_code == 201, created.text
    assert monthly(api, "fax-line") == "2.99"
    clock.advance(timedelta(days=31))
    assert monthly(api, "fax-line") == "3.49"
    history = api.get("/backoffice/catalogue/prices?offer=fax-line", staff).json()["items"]
    assert [
        (row["amount"]["amount"], row["valid_from"], row["valid_until"])
        for row in history
        if row["country"] == "*"
    ] == [
        ("2.99", "2024-01-01", "2026-04-01"),
        ("3.49", "2026-04-01", None),
    ]


def test_prices_cannot_be_rewritten_in_the_past(api: ApiClient, staff: Account) -> None:
    response = api.post(
        "/backoffice/catalogue/prices",
        staff,
        json={"offer": "fax-line", "amount": "0.10", "valid_from": "2025-01-01"},
    )
    assert response.status_code == 422 and response.json()["type"] == "price-in-the-past"
    response = api.post(
        "/backoffice/catalogue/prices",
        staff,
        json={
            "offer": "fax-line",
            "component": "yearly",
            "amount": "1",
            "valid_from": "2026-05-01",
        },
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "component"


def test_an_offer_taken_off_sale_leaves_the_catalogue(api: ApiClient, staff: Account) -> None:
    response = api.patch("/backoffice/catalogue/offers/sip-trunk", staff, json={"active": False})
    assert response.status_code == 200
    codes = {offer["code"] for offer in api.get("/catalogue?country=FR").json()["offers"]}
    assert "sip-trunk" not in codes
    customer_order = api.patch(
        "/backoffice/catalogue/offers/sip-trunk", staff, json={"countries": ["DE"]}
    )
    assert customer_order.status_code == 422


def test_promotion_codes_and_numbers(api: ApiClient, staff: Account) -> None:
    created = api.post(
        "/backoffice/catalogue/promotions",
        staff,
        json={"code": "spring26", "percent": "15", "valid_from": "2026-03-01"},
    )
    assert created.status_code == 201 and created.json()["code"] == "SPRING26"
    again = api.post(
        "/backoffice/catalogue/promotions",
        staff,
        json={"code": "SPRING26", "percent": "15", "valid_from": "2026-03-01"},
    )
    assert again.status_code == 409
    both = api.post(
        "/backoffice/catalogue/promotions",
        staff,
        json={"code": "X1", "percent": "15", "amount_excl_tax": "5", "valid_from": "2026-03-01"},
    )
    assert both.status_code == 422
    numbers = api.post(
        "/backoffice/catalogue/numbers",
        staff,
        json={
            "country": "FR",
            "area_prefix": "05",
            "area_name": "Sud-Ouest (05)",
            "numbers": ["05 56 00 00 01", "+33556000002"],
        },
    )
    assert numbers.status_code == 201 and numbers.json()["added"] == [
        "+33556000001",
        "+33556000002",
    ]
    free = api.get("/catalogue/numbers?country=FR&prefix=05").json()["items"]
    assert [item["number"] for item in free] == ["+33556000001", "+33556000002"]
    wrong = api.post(
        "/backoffice/catalogue/numbers",
        staff,
        json={
            "country": "FR",
            "area_prefix": "05",
            "area_name": "x",
            "numbers": ["01 86 95 99 99"],
        },
    )
    assert wrong.status_code == 422
