"""Finding 3: bounded inputs — body size, authentication before the body, bounded fields, no
echo of oversized input, stable codes for malformed bodies in the caller's language."""

from __future__ import annotations

from collections.abc import Iterator

from tests.accounts.factories import api_token_for, make_account
from tests.orders.helpers import with_terms
from tests.security.conftest import problem

API = "/api/v1"
JSON = {"content-type": "application/json"}


def test_a_body_over_the_limit_by_its_length_is_refused_before_parsing(client, platform) -> None:  # type: ignore[no-untyped-def]
    limit = platform.settings.max_body_bytes
    answer = client.post(f"{API}/accounts", content=b"x" * (limit + 1), headers=JSON)
    body = problem(answer, 413, "body-too-large")
    assert body["title"] == "Le corps de la requête est trop volumineux"  # French by default
    assert body["limit"] == limit
    english = client.post(
        f"{API}/accounts", content=b"x" * (limit + 1), headers={**JSON, "Accept-Language": "en"}
    )
    assert problem(english, 413, "body-too-large")["title"] == "The request body is too large"
    assert len(english.content) < 1000  # nothing of the body comes back


def test_a_streamed_body_is_cut_off_once_it_passes_the_limit(client, platform) -> None:  # type: ignore[no-untyped-def]
    platform.settings.max_body_bytes = 100_000

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(40):
            yield b"x" * 65536

    answer = client.post(f"{API}/accounts", content=chunks(), headers=JSON)
    problem(answer, 413, "body-too-large")


def test_writes_are_authenticated_before_their_body_is_read(client, platform) -> None:  # type: ignore[no-untyped-def]
    # not JSON at all: without a token the answer is 401, the body was never parsed
    anonymous = client.patch(f"{API}/me", content=b"{not json" * 1000, headers=JSON)
    problem(anonymous, 401, "not-authenticated")
    forged = client.patch(
        f"{API}/me", content=b"{not json", headers={**JSON, "Authorization": "Bearer vd_forged"}
    )
    problem(forged, 401, "invalid-token")
    token = api_token_for(client, make_account(platform, language="en"))
    changed = client.patch(
        f"{API}/me", json={"city": "Lyon"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["city"] == "Lyon"
    # public writes still read their body
    assert client.post(f"{API}/auth/tokens", content=b"{bad", headers=JSON).status_code == 422


def test_strings_and_lists_are_bounded_and_never_echoed(api, customer) -> None:  # type: ignore[no-untyped-def]
    huge = "PROMO" * 100_000  # 500 kB, under the body limit
    answer = api.post(
        "/orders",
        customer,
        json=with_terms(
            {
                "lines": [{"offer": "sip-decouverte", "quantity": 1, "area": "01"}],
                "promotion_code": huge,
            }
        ),
    )
    body = problem(answer, 422, "invalid-input")
    assert [e["type"] for e in body["errors"]] == ["string_too_long"]
    assert len(answer.content) < 2000
    lines = [{"offer": "sip-decouverte", "quantity": 1, "area": "01"}] * 101
    too_many = problem(
        api.post("/orders", customer, json=with_terms({"lines": lines})), 422, "invalid-input"
    )
    assert too_many["errors"][0]["type"] == "too_long"
    schema = api.client.get(f"{API}/openapi.json").json()["components"]["schemas"]
    assert schema["OrderIn"]["properties"]["lines"]["maxItems"] == 100


def test_a_refusal_naming_a_long_value_shows_it_cut_short() -> None:
    from voipdesk.catalogue.errors import UnknownPromotionCode

    error = UnknownPromotionCode(promotion="PROMO" * 100_000)
    for language in ("fr", "en"):
        assert len(error.detail(language)) < 200
    assert "PROMO" * 15 in error.detail("en")  # the start of it is still shown


def test_framework_refusals_have_stable_codes_in_the_callers_language(client) -> None:  # type: ignore[no-untyped-def]
    wrong_method = client.put(f"{API}/me", json={})
    body = problem(wrong_method, 405, "method-not-allowed")
    assert body["title"] == "Méthode non autorisée"
    english = client.put(f"{API}/me", json={}, headers={"Accept-Language": "en"})
    assert problem(english, 405, "method-not-allowed")["title"] == "Method not allowed"
