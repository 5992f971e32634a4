"""Every telephony and services list: `items` + `next_cursor`, pages, bad input, filters."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts.factories import api_token_for, make_account
from tests.subscriptions.factories import deliver
from voipdesk.core.pagination import InvalidCursor, PageParams, decode_cursor, paginate


def _auth(client: Any, account: Any, language: str = "en") -> dict[str, str]:
    token = api_token_for(client, account)
    return {"Authorization": f"Bearer {token}", "Accept-Language": language}


def _walk(client: Any, url: str, headers: dict[str, str], limit: int) -> list[dict[str, Any]]:
    """Every item, page after page: no page is longer than `limit`, no item comes twice."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        answer = client.get(url, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))
    return items


@pytest.fixture
def customer(client: Any) -> dict[str, Any]:
    platform = client.app.state.platform
    account = make_account(platform)
    first = deliver(platform, account.id, lines=[("sip-decouverte", 1)] * 5, aliases=7, faxes=3)
    second = deliver(platform, account.id, lines=[("sip-decouverte", 1)] * 2)
    return {
        "account": account,
        "group": first.billing_group_id,
        "other_group": second.billing_group_id,
        "headers": _auth(client, account),
    }


def _lists(group: str) -> dict[str, int]:
    return {
        f"/api/v1/telephony/{group}/lines": 5,
        f"/api/v1/telephony/{group}/numbers": 7,
        f"/api/v1/telephony/{group}/faxes": 3,
    }


def test_service_lists_page_without_gaps_or_duplicates(client, customer):
    headers = customer["headers"]
    for url, count in _lists(customer["group"]).items():
        everything = client.get(url, params={"limit": 200}, headers=headers).json()
        assert everything["next_cursor"] is None and len(everything["items"]) == count
        first = client.get(url, params={"limit": 2}, headers=headers).json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        second = client.get(
            url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        ).json()
        assert [i["id"] for i in first["items"] + second["items"]] == [
            i["id"] for i in everything["items"][:4]
        ]
        assert _walk(client, url, headers, 2) == everything["items"]
    services = _walk(client, "/api/v1/me/services", headers, 4)
    assert len(services) == 5 + 7 + 3 + 2
    assert (
        services
        == client.get("/api/v1/me/services", params={"limit": 200}, headers=headers).json()["items"]
    )


def test_groups_pending_changes_and_requests_are_pages(client, customer):
    headers = customer["headers"]
    groups = _walk(client, "/api/v1/telephony", headers, 1)
    assert sorted(g["id"] for g in groups) == sorted([customer["group"], customer["other_group"]])
    group = customer["group"]
    lines = client.get(f"/api/v1/telephony/{group}/lines", headers=headers).json()["items"]
    for line in lines[:3]:
        answer = client.post(
            f"/api/v1/telephony/{group}/lines/{line['number']}/termination",
            json={"reason": "move"},
            headers=headers,
        )
        assert answer.status_code == 201, answer.text
    changes = _walk(client, f"/api/v1/telephony/{group}/pending-changes", headers, 2)
    assert sorted(c["number"] for c in changes) == sorted(line["number"] for line in lines[:3])
    requests = client.get("/api/v1/me/billing-contact-requests", headers=headers).json()
    assert requests == {"items": [], "next_cursor": None}


def test_bad_cursor_and_bad_limit_are_refused(client, customer):
    group = customer["group"]
    urls = [*_lists(group), "/api/v1/telephony", f"/api/v1/telephony/{group}/pending-changes"]
    urls += ["/api/v1/me/services", "/api/v1/me/billing-contact-requests"]
    page = client.get(urls[0], params={"limit": 1}, headers=customer["headers"]).json()
    body, tag = page["next_cursor"].split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + tag
    for url in urls:
        for cursor in ("nonsense", "e30.AAAA", forged):
            answer = client.get(url, params={"cursor": cursor}, headers=customer["headers"])
            assert answer.status_code == 422, (url, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["type"] == "invalid-cursor"
        for limit in ("0", "201", "-1", "many"):
            answer = client.get(url, params={"limit": limit}, headers=customer["headers"])
            assert answer.status_code == 422, (url, limit)
            assert answer.json()["type"] == "invalid-input"
            assert any(e["field"] == "limit" for e in answer.json()["errors"])
    french = _auth(client, customer["account"], "fr")
    answer = client.get("/api/v1/telephony", params={"cursor": "nonsense"}, headers=french)
    assert "curseur" in answer.json()["detail"]


def test_filters_state_kind_and_prefix(client, customer):
    headers = customer["headers"]
    group = customer["group"]
    numbers = client.get(f"/api/v1/telephony/{group}/numbers", headers=headers).json()["items"]
    chosen = numbers[0]["number"]
    e164_prefix = chosen[:-1]
    national_prefix = "0" + chosen[3:-1]  # +33 1 9... -> 01 9...
    expected = [n["id"] for n in numbers if n["number"].startswith(e164_prefix)]
    for prefix in (e164_prefix, national_prefix, " " + e164_prefix[1:]):
        found = client.get(
            f"/api/v1/telephony/{group}/numbers", params={"prefix": prefix}, headers=headers
        ).json()["items"]
        assert [n["id"] for n in found] == expected, prefix
    services = client.get(
        "/api/v1/me/services", params={"prefix": chosen, "limit": 200}, headers=headers
    ).json()["items"]
    assert [s["number"] for s in services] == [chosen]
    for kind, count in (("line", 7), ("number", 7), ("fax", 3)):
        found = client.get(
            "/api/v1/me/services", params={"kind": kind, "limit": 200}, headers=headers
        ).json()["items"]
        assert len(found) == count, kind
    active = client.get(
        f"/api/v1/telephony/{group}/lines", params={"state": "active"}, headers=headers
    ).json()["items"]
    assert len(active) == 5
    suspended = client.get(
        "/api/v1/me/services", params={"state": "suspended"}, headers=headers
    ).json()
    assert suspended == {"items": [], "next_cursor": None}
    for url, params in (
        (f"/api/v1/telephony/{group}/lines", {"state": "sleeping"}),
        (f"/api/v1/telephony/{group}/faxes", {"prefix": "abc"}),
        ("/api/v1/me/services", {"kind": "modem"}),
        ("/api/v1/me/services", {"state": "gone"}),
    ):
        answer = client.get(url, params=params, headers=headers)
        assert answer.status_code == 422, (url, params)
        assert [e["field"] for e in answer.json()["errors"]] == list(params)


def test_openapi_names_each_page(client) -> None:
    schemas = client.app.openapi()["components"]["schemas"]
    for name in ("LinePage", "AliasNumberPage", "FaxLinePage", "ServicePage", "BillingGroupPage"):
        assert set(schemas[name]["properties"]) == {"items", "next_cursor"}
    assert not [name for name in schemas if "Page" in name and ("__" in name or "[" in name)]
    assert "SimultaneousCallsOut" in schemas


def test_paginate_helper_refuses_foreign_cursors() -> None:
    rows = [(n, f"id{n:02d}") for n in range(7)]
    items, cursor = paginate(rows, key=lambda r: r, page=PageParams(limit=3))
    assert items == rows[:3] and cursor and decode_cursor(cursor) == [2, "id02"]
    items, cursor = paginate(rows, key=lambda r: r, page=PageParams(limit=3, cursor=cursor))
    assert items == rows[3:6]
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, length=3)
    with pytest.raises(InvalidCursor):
        paginate(rows, key=lambda r: (str(r[0]), r[1]), page=PageParams(cursor=cursor))
