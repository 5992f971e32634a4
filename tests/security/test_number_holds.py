"""Finding 4: an unpaid account cannot hold the number inventory."""

from __future__ import annotations

from datetime import timedelta

from tests.orders.helpers import with_terms
from tests.security.conftest import problem

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def aliases(quantity: int, area: str = "+331") -> dict:
    return {"lines": [{"offer": "alias-number", "quantity": quantity, "area": area}]}


def test_unpaid_orders_hold_at_most_the_cap_of_numbers(api, customer, seeded) -> None:  # type: ignore[no-untyped-def]
    seeded.settings.max_reserved_numbers_per_account = 20
    first = api.post("/orders", customer, json=with_terms(aliases(10)))
    assert first.status_code == 201, first.text
    assert api.post("/orders", customer, json=with_terms(aliases(10))).status_code == 201
    refused = problem(
        api.post("/orders", customer, json=with_terms(aliases(1))), 409, "too-many-reserved-numbers"
    )
    assert "20" in refused["detail"]
    # paying one order turns its numbers into the customer's: room for more
    paid = api.post(f"/orders/{first.json()['id']}/payments", customer, json={"card": CARD})
    assert paid.status_code == 201, paid.text
    assert api.post("/orders", customer, json=with_terms(aliases(10))).status_code == 201


def _free(api, prefix: str) -> list[str]:  # type: ignore[no-untyped-def]
    page = api.get(f"/catalogue/numbers?country=FR&prefix={prefix}&limit=200").json()
    return [item["number"] for item in page["items"]]


def _one(number: str) -> dict:
    return {"lines": [{"offer": "alias-number", "quantity": 1, "numbers": [number]}]}


def test_the_hold_lapses_after_a_few_hours_and_is_taken_again_at_payment(
    api,
    customer,
    seeded,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    number = _free(api, "+331")[0]
    order = api.post("/orders", customer, json=with_terms(_one(number))).json()
    assert number not in _free(api, "+331")
    clock.advance(timedelta(hours=seeded.settings.number_hold_hours, minutes=1))
    # the order is still valid for days, but its number is free again for anybody
    assert number in _free(api, "+331")
    paid = api.post(f"/orders/{order['id']}/payments", customer, json={"card": CARD})
    assert paid.status_code == 201, paid.text
    assert api.get(f"/orders/{order['id']}", customer).json()["state"] != "not_paid"
    assert number not in _free(api, "+331")


def test_paying_after_the_numbers_were_taken_is_refused_clearly(
    api,
    customer,
    customer_factory,
    seeded,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    number = _free(api, "+339")[0]
    order = api.post("/orders", customer, json=with_terms(_one(number))).json()
    clock.advance(timedelta(hours=seeded.settings.number_hold_hours, minutes=1))
    other = customer_factory()
    assert api.post("/orders", other, json=with_terms(_one(number))).status_code == 201
    answer = api.post(f"/orders/{order['id']}/payments", customer, json={"card": CARD})
    body = problem(answer, 409, "order-numbers-gone")
    assert body["numbers"] == [number]
    assert number in body["detail"]
    assert api.get(f"/orders/{order['id']}", customer).json()["state"] == "not_paid"
