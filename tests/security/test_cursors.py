"""Finding 6: one cursor codec for every list; a crafted cursor answers 422 `invalid-cursor`."""

from __future__ import annotations

import base64
import json

import pytest

from tests.accounts.factories import api_token_for
from tests.orders.helpers import with_terms
from tests.security.conftest import problem
from voipdesk.accounts import actions as account_actions
from voipdesk.core.pagination import cursor_key, encode_cursor


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


CRAFTED = [
    "garbage",
    "%%%",
    _b64([2**70]),  # the old security-events cursor, overflowing
    _b64(["x"]),
    _b64({"a": 1}),
    base64.urlsafe_b64encode(b"2026-01-01T00:00:00|abc").decode(),  # the old orders cursor
    _b64(["2026-01-01", "INV-1"]),  # the old invoices cursor
    "2026-01-01T00:00:00+00:00|x",
    encode_cursor(2**70),  # signed, but beyond any key
    "+33100000000",  # the old catalogue cursor
    "x" * 501,
]


def _lists(api) -> list[str]:  # type: ignore[no-untyped-def]
    """Every list of the API without path parameters: they all take `cursor`."""
    spec = api.client.get("/api/v1/openapi.json").json()
    found = []
    for path, item in spec["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in path:
            continue
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        if "cursor" in names:
            found.append(path.removeprefix("/api/v1"))
    return sorted(found)


def test_every_list_refuses_crafted_cursors_with_the_same_answer(
    api,
    customer_factory,  # type: ignore[no-untyped-def]
) -> None:
    staff = customer_factory(is_staff=True)
    lists = _lists(api)
    assert {"/orders", "/me/invoices", "/me/security-events", "/me/service-emails",
            "/catalogue/numbers", "/backoffice/procedures"} <= set(lists)  # fmt: skip
    failures = []
    for path in lists:
        extra = "country=FR&" if path.startswith("/catalogue") else ""
        for cursor in CRAFTED:
            answer = api.get(f"{path}?{extra}cursor={cursor}", staff)
            if answer.status_code != 422:
                failures.append((path, cursor[:30], answer.status_code))
                continue
            body = answer.json()
            if body["type"] not in ("invalid-cursor", "invalid-input"):
                failures.append((path, cursor[:30], body["type"]))
            if body["type"] == "invalid-input":  # only for a cursor over its length bound
                assert len(cursor) > 500, (path, cursor)
    assert failures == [], "\n".join(map(str, failures))


@pytest.mark.parametrize(
    "path", ["/me/security-events", "/me/service-emails", "/orders", "/catalogue/numbers"]
)
def test_the_next_cursor_gives_the_next_page(api, customer, path: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):  # three logins: security events and e-mails to page through
        api_token_for(api.client, customer)
        account_actions.request_password_reset(api.platform, customer.email)
    for _ in range(3):
        api.post(
            "/orders",
            customer,
            json=with_terms({"lines": [{"offer": "sip-decouverte", "quantity": 1, "area": "01"}]}),
        )
    extra = "country=FR&" if path.startswith("/catalogue") else ""
    first = api.get(f"{path}?{extra}limit=2", customer).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api.get(f"{path}?{extra}limit=2&cursor={first['next_cursor']}", customer).json()
    assert second["items"] and second["items"][0] not in first["items"]


def test_a_signed_cursor_of_another_list_is_refused(api, customer) -> None:  # type: ignore[no-untyped-def]
    """A cursor we gave for one list, replayed on a list of another shape (SQL-paged lists)."""
    api_token_for(api.client, customer)
    for path in ("/me/security-events", "/me/service-emails", "/orders", "/me/invoices"):
        for cursor in (encode_cursor("not-a-date", "x"), encode_cursor(1, 2, 3)):
            problem(api.get(f"{path}?cursor={cursor}", customer), 422, "invalid-cursor")


def test_cursor_keys_are_typed_and_bounded() -> None:
    from voipdesk.core.pagination import InvalidCursor

    assert cursor_key(encode_cursor(5), int) == (5,)
    for bad, types in [(encode_cursor(2**63), (int,)), (encode_cursor("5"), (int,)),
                       (encode_cursor(5), (str,)), (encode_cursor("x"), (str, str))]:  # fmt: skip
        with pytest.raises(InvalidCursor):
            cursor_key(bad, *types)
