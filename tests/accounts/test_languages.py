"""The caller's language in API answers: field errors in French with their stable type, the rule
between Accept-Language and the account's language, and state codes shown by their label."""

from __future__ import annotations

from typing import Any

from tests.accounts.factories import api_token_for, make_account

API = "/api/v1"


def errors_by_field(response: Any) -> dict[str, dict[str, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "invalid-input"
    return {item["field"]: item for item in body["errors"]}


def test_field_errors_come_in_french_with_their_type(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        f"{API}/accounts",
        json={"kind": "robot", "first_name": 12, "password": "x"},
        headers={"Accept-Language": "fr"},
    )
    body = response.json()
    assert body["title"] == "Certains champs ne sont pas valides."
    errors = errors_by_field(response)
    assert errors["kind"] == {
        "field": "kind",
        "type": "literal_error",
        "message": (
            "Ceci doit valoir l'une de ces valeurs : 'individual', 'company' ou 'association'."
        ),
    }
    assert errors["first_name"]["type"] == "string_type"
    assert errors["first_name"]["message"] == "Ceci doit être du texte."
    assert errors["last_name"] == {
        "field": "last_name",
        "type": "missing",
        "message": "Ce champ est obligatoire.",
    }


def test_query_numbers_and_bounds_in_french(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform, language="fr")
    headers = {"Authorization": f"Bearer {api_token_for(client, account)}"}
    word = errors_by_field(client.get(f"{API}/me/security-events?limit=abc", headers=headers))
    assert word["limit"] == {
        "field": "limit",
        "type": "int_parsing",
        "message": "Ceci doit être un nombre entier.",
    }
    low = errors_by_field(client.get(f"{API}/me/security-events?limit=0", headers=headers))
    assert low["limit"]["type"] == "greater_than_equal"
    assert low["limit"]["message"] == "Ceci doit être au moins égal à 1."
    high = errors_by_field(client.get(f"{API}/me/security-events?limit=201", headers=headers))
    assert high["limit"]["message"] == "Ceci doit être au plus égal à 200."
    typo = errors_by_field(client.patch(f"{API}/me", json={"frist_name": "A"}, headers=headers))
    assert typo["frist_name"]["type"] == "extra_forbidden"
    assert typo["frist_name"]["message"] == "Ce champ n'est pas attendu ici."


def test_invalid_json_is_refused_in_the_account_language(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform, language="fr")
    token = api_token_for(client, account)
    response = client.patch(
        f"{API}/me",
        content=b"{not json",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    errors = errors_by_field(response)
    [item] = errors.values()
    assert item["type"] == "json_invalid"
    assert item["message"] == "Le corps de la requête n'est pas du JSON valide."


def test_english_callers_get_pydantics_english(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        f"{API}/accounts", json={"kind": "robot"}, headers={"Accept-Language": "en"}
    )
    assert response.json()["title"] == "Some fields are not valid."
    errors = errors_by_field(response)
    assert errors["last_name"] == {
        "field": "last_name",
        "type": "missing",
        "message": "Field required",
    }
    assert errors["kind"]["type"] == "literal_error"
    assert errors["kind"]["message"].startswith("Input should be")


def test_accept_language_wins_over_the_account_language_in_the_api(client, platform) -> None:  # type: ignore[no-untyped-def]
    """The rule (core.http): Accept-Language naming fr or en, else the account's language."""
    english = make_account(platform, language="en")
    token = api_token_for(client, english)
    url = f"{API}/me/security-events?limit=abc"
    without = errors_by_field(client.get(url, headers={"Authorization": f"Bearer {token}"}))
    assert (
        without["limit"]["message"]
        == "Input should be a valid integer, unable to parse string as an integer"
    )
    asked = errors_by_field(
        client.get(url, headers={"Authorization": f"Bearer {token}", "Accept-Language": "fr-CH"})
    )
    assert asked["limit"]["message"] == "Ceci doit être un nombre entier."
    # A header naming neither language leaves the account's.
    other = errors_by_field(
        client.get(url, headers={"Authorization": f"Bearer {token}", "Accept-Language": "de"})
    )
    assert other["limit"]["message"].startswith("Input should be")
    # Nobody logged in, no header: French.
    anonymous = errors_by_field(client.post(f"{API}/accounts", json={}))
    assert anonymous["last_name"]["message"] == "Ce champ est obligatoire."
    # Domain problems follow the same rule.
    missing = client.get(
        f"{API}/me/service-emails/nope",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "fr"},
    )
    assert missing.status_code == 404 and missing.json()["detail"] == (
        "Rien n'a été trouvé à cette adresse."
    )


def test_pages_keep_the_profile_language_over_the_browser(client, platform) -> None:  # type: ignore[no-untyped-def]
    """Pages: the profile's language (the switch writes it) wins over Accept-Language."""
    from voipdesk.core.http import request_language

    class Fake:
        def __init__(self, path: str, header: str, account: Any, cookie: str | None = None):
            self.url = type("U", (), {"path": path})()
            self.headers = {"accept-language": header}
            self.cookies = {"voipdesk_lang": cookie} if cookie else {}
            self.state = type("S", (), {"account": account})()

    english = type("A", (), {"language": "en"})()
    assert request_language(Fake("/security", "fr", english)) == "en"  # type: ignore[arg-type]
    assert request_language(Fake("/api/v1/me", "fr", english)) == "fr"  # type: ignore[arg-type]
    assert request_language(Fake("/login", "fr", None, cookie="en")) == "en"  # type: ignore[arg-type]
    assert request_language(Fake("/login", "en;q=0.5,fr", None)) == "fr"  # type: ignore[arg-type]
