"""The accounts REST API, on SQLite and PostgreSQL: sign-up, login, 2FA, tokens, profile,
password reset, security events and service e-mails, with the refusals and what they leave."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import func, select

from tests.accounts.factories import PASSWORD, api_token_for, make_account, sign_up_data
from voipdesk.accounts import actions
from voipdesk.accounts.emails import send_service_email
from voipdesk.accounts.models import (
    Account,
    ApiToken,
    LoginAttempt,
    RecoveryCode,
    SecurityEvent,
    ServiceEmail,
    WebSession,
)
from voipdesk.core.platform import Platform

API = "/api/v1"
NEW_PASSWORD = "Purple-Giraffe-Orbit-77"


def body(**overrides: Any) -> dict[str, Any]:
    return sign_up_data(**overrides).model_dump()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def count(platform: Platform, model: type, *conditions: Any) -> int:
    with platform.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def emails_of(platform: Platform, account_id: str) -> list[ServiceEmail]:
    with platform.session() as session:
        return list(
            session.scalars(
                select(ServiceEmail)
                .where(ServiceEmail.account_id == account_id)
                .order_by(ServiceEmail.created_at, ServiceEmail.id)
            )
        )


def event_kinds(platform: Platform, account_id: str) -> list[str]:
    with platform.session() as session:
        return list(
            session.scalars(
                select(SecurityEvent.kind)
                .where(SecurityEvent.account_id == account_id)
                .order_by(SecurityEvent.id)
            )
        )


def field_names(response: Any) -> set[str]:
    return {item["field"] for item in response.json().get("errors", [])}


def login(client: Any, login: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(f"{API}/auth/tokens", json={"login": login, "password": password, **extra})


def totp_now(platform: Platform, secret: str) -> str:
    return pyotp.TOTP(secret).at(platform.now())


def turn_on_totp(client: Any, platform: Platform, token: str) -> tuple[str, list[str]]:
    enrolment = client.post(f"{API}/me/totp", headers=bearer(token)).json()
    confirmed = client.post(
        f"{API}/me/totp/confirm",
        headers=bearer(token),
        json={"code": totp_now(platform, enrolment["secret"])},
    )
    assert confirmed.status_code == 200, confirmed.text
    return enrolment["secret"], confirmed.json()["recovery_codes"]


# --- sign-up ----------------------------------------------------------------------------------
def test_sign_up_creates_the_account_with_a_handle_and_a_welcome_email(client, platform):
    data = body(
        kind="company",
        country="BE",
        language="en",
        email="Lucie.Peeters@Example.ORG",
        mobile="0470 12 34 56",
        registration_number="BE 0403.170.701",
        first_name="Lucie",
        last_name="Peeters",
    )
    response = client.post(f"{API}/accounts", json=data)
    assert response.status_code == 201, response.text
    account = response.json()
    assert re.fullmatch(r"lp[0-9]{5}-vd", account["handle"])
    assert account["email"] == "lucie.peeters@example.org"
    assert account["mobile"] == "+32470123456"
    assert account["registration_number"] == "0403.170.701"
    assert account["totp_enabled"] is False and account["is_staff"] is False
    assert "password" not in account and "password_hash" not in account
    [welcome] = emails_of(platform, account["id"])
    assert welcome.kind == "welcome" and welcome.language == "en"
    assert (
        welcome.subject
        == f"Welcome to VoIPdesk Telecom, your customer handle is {account['handle']}"
    )
    assert account["handle"] in welcome.body_text and "https://testserver/" in welcome.body_html
    assert welcome.status == "stored"  # no SMTP server in these tests
    assert event_kinds(platform, account["id"]) == ["sign_up"]


def test_the_welcome_email_is_in_the_customers_language(client, platform):
    response = client.post(f"{API}/accounts", json=body(language="fr"))
    [welcome] = emails_of(platform, response.json()["id"])
    assert welcome.subject.startswith(
        "Bienvenue chez VoIPdesk Telecom, votre identifiant client est "
    )
    assert "Votre identifiant client" in welcome.body_text


def test_sign_up_refuses_malformed_fields_naming_each_and_creates_nothing(client, platform):
    data = body(
        kind="company",
        country="FR",
        email="not-an-email",
        mobile="12",
        registration_number="732829321",
    )
    response = client.post(f"{API}/accounts", json=data, headers={"Accept-Language": "fr"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "invalid-input"
    messages = {item["field"]: item["message"] for item in problem["errors"]}
    assert messages == {
        "email": "Cette adresse e-mail n'est pas valide.",
        "mobile": "Ce numéro de téléphone n'est pas valide.",
        "registration_number": (
            "Ce numéro SIREN (9 chiffres) ou SIRET (14 chiffres) n'est pas valide."
        ),
    }
    assert count(platform, Account) == 0
    assert count(platform, ServiceEmail) == 0


@pytest.mark.parametrize(
    ("country", "number"), [("BE", "0403170702"), ("CH", "CHE-109.322.552"), ("CA-QC", "12345")]
)
def test_sign_up_checks_the_registration_number_of_each_country(client, platform, country, number):
    response = client.post(
        f"{API}/accounts", json=body(kind="company", country=country, registration_number=number)
    )
    assert response.status_code == 422
    assert field_names(response) == {"registration_number"}
    assert count(platform, Account) == 0


def test_a_company_must_give_its_registration_number_an_association_may_not(client, platform):
    refused = client.post(f"{API}/accounts", json=body(kind="company", registration_number=None))
    assert refused.status_code == 422
    assert field_names(refused) == {"registration_number"}
    accepted = client.post(
        f"{API}/accounts", json=body(kind="association", registration_number=None)
    )
    assert accepted.status_code == 201
    assert accepted.json()["registration_number"] is None


def test_sign_up_refuses_an_unknown_kind_or_country(client, platform):
    response = client.post(f"{API}/accounts", json={**body(), "country": "DE", "kind": "robot"})
    assert response.status_code == 422
    assert {"country", "kind"} <= field_names(response)
    assert count(platform, Account) == 0


def test_sign_up_refuses_a_weak_password_saying_why(client, platform):
    short = client.post(
        f"{API}/accounts", json=body(password="Ab1!"), headers={"Accept-Language": "fr"}
    )
    assert short.status_code == 422
    assert short.json()["type"] == "weak-password"
    assert "au moins 10 caractères" in short.json()["detail"]
    guessable = client.post(
        f"{API}/accounts",
        json=body(password="password123", language="en"),
        headers={"Accept-Language": "en"},
    )
    assert guessable.json()["type"] == "weak-password"
    assert "too easy to guess" in guessable.json()["detail"]
    assert "common password" in guessable.json()["detail"]  # zxcvbn's hint, in English only
    assert guessable.json()["errors"][0]["field"] == "password"
    assert count(platform, Account) == 0


def test_a_password_made_of_the_customers_own_names_is_weak(client, platform):
    response = client.post(
        f"{API}/accounts",
        json=body(first_name="Zorglubovich", last_name="Martin", password="Zorglubovich2026"),
    )
    assert response.json()["type"] == "weak-password"


def test_an_email_is_used_by_one_account_only_whatever_its_case(client, platform):
    first = client.post(f"{API}/accounts", json=body(email="camille@example.org"))
    assert first.status_code == 201
    second = client.post(f"{API}/accounts", json=body(email="Camille@EXAMPLE.org"))
    assert second.status_code == 409
    assert second.json()["type"] == "email-already-used"
    assert field_names(second) == {"email"}
    assert count(platform, Account) == 1


def test_the_backup_email_must_differ_from_the_email(client, platform):
    response = client.post(
        f"{API}/accounts", json=body(email="a@example.org", backup_email="A@example.org")
    )
    assert response.status_code == 422
    assert field_names(response) == {"backup_email"}


# --- tokens and login -------------------------------------------------------------------------
def test_a_token_is_created_with_the_handle_or_the_email_and_shown_once(client, platform):
    account = make_account(platform)
    for identifier in (account.handle, account.email.upper()):
        response = login(client, identifier, name="my script")
        assert response.status_code == 201, response.text
        token = response.json()
        assert token["token"].startswith("vd_") and token["name"] == "my script"
        me = client.get(f"{API}/me", headers=bearer(token["token"]))
        assert me.status_code == 200 and me.json()["handle"] == account.handle
    listed = client.get(f"{API}/auth/tokens", headers=bearer(token["token"])).json()["items"]
    assert len(listed) == 2 and all("token" not in item for item in listed)
    with platform.session() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert token["token"] not in stored  # only its sha256 is kept
    assert event_kinds(platform, account.id).count("login") == 2


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(client, platform):
    account = make_account(platform)
    wrong = login(client, account.handle, "Not-The-Password-99")
    unknown = login(client, "nobody@example.org", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["type"] == "invalid-credentials"
    assert "login_failed" in event_kinds(platform, account.id)
    assert count(platform, ApiToken) == 0


def test_api_calls_need_a_valid_bearer_token(client, platform):
    assert client.get(f"{API}/me").status_code == 401
    assert client.get(f"{API}/me").json()["type"] == "not-authenticated"
    bad = client.get(f"{API}/me", headers=bearer("vd_forged"))
    assert bad.status_code == 401 and bad.json()["type"] == "invalid-token"


def test_logins_are_throttled_per_account_and_address_then_allowed_after_the_wait(
    client, platform, clock
):
    account = make_account(platform)
    for _ in range(platform.settings.login_free_failures + 1):
        assert login(client, account.handle, "Wrong-Password-123").status_code == 401
    attempts = count(platform, LoginAttempt)
    throttled = login(client, account.handle, PASSWORD)
    assert throttled.status_code == 429
    problem = throttled.json()
    assert problem["type"] == "login-throttled"
    assert problem["retry_after"] == platform.settings.login_delay_base_seconds
    assert throttled.headers["Retry-After"] == str(problem["retry_after"])
    assert "1 minutes" in problem["detail"]
    assert count(platform, LoginAttempt) == attempts  # a refused try does not extend the pause
    assert count(platform, ApiToken) == 0
    clock.advance(timedelta(seconds=29))
    assert login(client, account.handle, PASSWORD).status_code == 429
    clock.advance(timedelta(seconds=2))
    assert login(client, account.handle, PASSWORD).status_code == 201


def test_logins_are_throttled_per_ip_across_accounts(client, platform, clock):
    platform.settings.login_max_failures_per_ip = 3
    first, second = make_account(platform), make_account(platform)
    for identifier in ("nobody@example.org", first.handle, "ghost-vd"):
        assert login(client, identifier, "Wrong-Password-123").status_code == 401
    assert login(client, second.handle, PASSWORD).status_code == 429
    clock.advance(timedelta(minutes=16))
    assert login(client, second.handle, PASSWORD).status_code == 201


def test_tokens_are_listed_and_revoked_by_their_owner_only(client, platform):
    alice, bob = make_account(platform), make_account(platform)
    alice_token = api_token_for(client, alice)
    bob_token = api_token_for(client, bob)
    [bobs] = client.get(f"{API}/auth/tokens", headers=bearer(bob_token)).json()["items"]
    forged = client.delete(f"{API}/auth/tokens/{bobs['id']}", headers=bearer(alice_token))
    assert forged.status_code == 404 and forged.json()["type"] == "not-found"
    missing = client.delete(f"{API}/auth/tokens/{'0' * 32}", headers=bearer(alice_token))
    assert missing.json() == forged.json()
    assert client.get(f"{API}/me", headers=bearer(bob_token)).status_code == 200
    revoked = client.delete(f"{API}/auth/tokens/{bobs['id']}", headers=bearer(bob_token))
    assert revoked.status_code == 204
    assert client.get(f"{API}/me", headers=bearer(bob_token)).status_code == 401
    assert "api_token_revoked" in event_kinds(platform, bob.id)


def test_an_expired_token_stops_working(client, platform, clock):
    account = make_account(platform)
    response = login(
        client, account.handle, expires_at=(clock.now() + timedelta(days=1)).isoformat()
    )
    token = response.json()["token"]
    assert client.get(f"{API}/me", headers=bearer(token)).status_code == 200
    clock.advance(timedelta(days=1))
    assert client.get(f"{API}/me", headers=bearer(token)).status_code == 401
    past = login(client, account.handle, expires_at=(clock.now() - timedelta(hours=1)).isoformat())
    assert past.status_code == 422 and field_names(past) == {"expires_at"}


def test_using_a_token_records_when_it_was_last_used(client, platform, clock):
    account = make_account(platform)
    token = api_token_for(client, account)
    client.get(f"{API}/me", headers=bearer(token))
    [listed] = client.get(f"{API}/auth/tokens", headers=bearer(token)).json()["items"]
    assert listed["last_used_at"] == "2026-03-02T09:00:00Z"


# --- two-factor authentication ----------------------------------------------------------------
def test_totp_enrolment_gives_a_secret_uri_and_qr_code(client, platform):
    account = make_account(platform)
    token = api_token_for(client, account)
    response = client.post(f"{API}/me/totp", headers=bearer(token))
    assert response.status_code == 201
    enrolment = response.json()
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/VoIPdesk%20Telecom:")
    assert account.handle in enrolment["otpauth_uri"]
    assert f"secret={enrolment['secret']}" in enrolment["otpauth_uri"]
    assert enrolment["qr_svg"].lstrip().startswith("<svg") or "<svg" in enrolment["qr_svg"][:200]
    # not on until confirmed
    assert client.get(f"{API}/me", headers=bearer(token)).json()["totp_enabled"] is False
    assert login(client, account.handle).status_code == 201


def test_a_wrong_code_does_not_turn_2fa_on(client, platform):
    account = make_account(platform)
    token = api_token_for(client, account)
    enrolment = client.post(f"{API}/me/totp", headers=bearer(token)).json()
    good = totp_now(platform, enrolment["secret"])
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(f"{API}/me/totp/confirm", headers=bearer(token), json={"code": wrong})
    assert response.status_code == 422 and response.json()["type"] == "invalid-second-factor"
    assert client.get(f"{API}/me", headers=bearer(token)).json()["totp_enabled"] is False
    assert count(platform, RecoveryCode) == 0
    not_started = make_account(platform)
    other = client.post(
        f"{API}/me/totp/confirm",
        headers=bearer(api_token_for(client, not_started)),
        json={"code": good},
    )
    assert other.status_code == 409 and other.json()["type"] == "totp-not-started"


def test_with_2fa_on_a_token_needs_a_fresh_code_never_a_replayed_one(client, platform, clock):
    account = make_account(platform)
    token = api_token_for(client, account)
    secret, codes = turn_on_totp(client, platform, token)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(f"{API}/me", headers=bearer(token)).json()["totp_enabled"] is True
    [enabled] = [e for e in emails_of(platform, account.id) if e.kind == "totp-enabled"]
    assert "double authentification est activée" in enabled.subject

    missing = login(client, account.handle)
    assert missing.status_code == 401 and missing.json()["type"] == "second-factor-required"
    # the code used to confirm cannot be used again
    replayed = login(client, account.handle, totp_code=totp_now(platform, secret))
    assert replayed.status_code == 401 and replayed.json()["type"] == "invalid-second-factor"
    clock.advance(timedelta(seconds=30))
    code = totp_now(platform, secret)
    assert login(client, account.handle, totp_code=code).status_code == 201
    tokens = count(platform, ApiToken)
    assert login(client, account.handle, totp_code=code).status_code == 401
    assert count(platform, ApiToken) == tokens


def test_a_recovery_code_logs_in_once(client, platform):
    account = make_account(platform)
    _secret, codes = turn_on_totp(client, platform, api_token_for(client, account))
    first = login(client, account.handle, recovery_code=codes[0].upper())
    assert first.status_code == 201
    again = login(client, account.handle, recovery_code=codes[0])
    assert again.status_code == 401 and again.json()["type"] == "invalid-second-factor"
    assert login(client, account.handle, recovery_code=codes[1]).status_code == 201
    assert "recovery_code_used" in event_kinds(platform, account.id)
    assert actions.remaining_recovery_codes(platform, account.id) == 8


def test_wrong_second_factors_count_toward_throttling(client, platform):
    account = make_account(platform)
    _secret, _codes = turn_on_totp(client, platform, api_token_for(client, account))
    for _ in range(platform.settings.login_free_failures + 1):
        assert login(client, account.handle, recovery_code="aaaaa-bbbbb").status_code == 401
    assert login(client, account.handle, totp_code="123456").status_code == 429


def test_turning_2fa_off_needs_the_password_and_a_code(client, platform, clock):
    account = make_account(platform, language="en")
    token = api_token_for(client, account)
    secret, _codes = turn_on_totp(client, platform, token)
    clock.advance(timedelta(seconds=30))
    code = totp_now(platform, secret)
    wrong_password = client.request(
        "DELETE",
        f"{API}/me/totp",
        headers=bearer(token),
        json={"password": "Not-The-Password-1", "code": code},
    )
    assert wrong_password.status_code == 422 and field_names(wrong_password) == {"password"}
    wrong_code = client.request(
        "DELETE", f"{API}/me/totp", headers=bearer(token), json={"password": PASSWORD, "code": "12"}
    )
    assert wrong_code.status_code == 422 and wrong_code.json()["type"] == "invalid-second-factor"
    assert client.get(f"{API}/me", headers=bearer(token)).json()["totp_enabled"] is True
    done = client.request(
        "DELETE", f"{API}/me/totp", headers=bearer(token), json={"password": PASSWORD, "code": code}
    )
    assert done.status_code == 204
    assert client.get(f"{API}/me", headers=bearer(token)).json()["totp_enabled"] is False
    assert count(platform, RecoveryCode, RecoveryCode.account_id == account.id) == 0
    assert login(client, account.handle).status_code == 201
    [off] = [e for e in emails_of(platform, account.id) if e.kind == "totp-disabled"]
    assert off.subject == "VoIPdesk Telecom: two-factor authentication is off"
    assert {"totp_enabled", "totp_disabled"} <= set(event_kinds(platform, account.id))


# --- profile and password ---------------------------------------------------------------------
def test_the_profile_is_read_and_changed_with_the_sign_up_checks(client, platform):
    account = make_account(platform)
    other = make_account(platform)
    token = api_token_for(client, account)
    me = client.get(f"{API}/me", headers=bearer(token)).json()
    assert me["email"] == account.email and me["country"] == "FR"

    changed = client.patch(
        f"{API}/me",
        headers=bearer(token),
        json={"city": "Marseille", "mobile": "07 81 23 45 67", "language": "en"},
    )
    assert changed.status_code == 200
    assert changed.json()["city"] == "Marseille" and changed.json()["mobile"] == "+33781234567"
    # the caller's language is now the profile's
    used = client.patch(f"{API}/me", headers=bearer(token), json={"email": other.email.upper()})
    assert used.status_code == 409 and used.json()["type"] == "email-already-used"
    assert used.json()["detail"] == "This e-mail address is already used by another account."
    bad = client.patch(
        f"{API}/me",
        headers=bearer(token),
        json={"mobile": "12", "kind": "company", "registration_number": None},
    )
    assert bad.status_code == 422
    assert field_names(bad) == {"mobile", "organisation_name", "registration_number"}
    unknown = client.patch(f"{API}/me", headers=bearer(token), json={"handle": "zz00000-vd"})
    assert unknown.status_code == 422
    after = client.get(f"{API}/me", headers=bearer(token)).json()
    assert after == changed.json()
    assert "profile_updated" in event_kinds(platform, account.id)


def test_changing_the_email_tells_the_old_address(client, platform):
    account = make_account(platform, language="en")
    token = api_token_for(client, account)
    response = client.patch(f"{API}/me", headers=bearer(token), json={"email": "New@Example.org"})
    assert response.status_code == 200 and response.json()["email"] == "new@example.org"
    [notice] = [e for e in emails_of(platform, account.id) if e.kind == "email-changed"]
    assert notice.to_address == account.email
    assert "new@example.org" in notice.body_text
    assert login(client, "new@example.org").status_code == 201


def test_the_password_is_changed_with_the_current_one(client, platform):
    account = make_account(platform)
    token = api_token_for(client, account)
    wrong = client.post(
        f"{API}/me/password",
        headers=bearer(token),
        json={"current_password": "Wrong-Password-1", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 422 and field_names(wrong) == {"current_password"}
    weak = client.post(
        f"{API}/me/password",
        headers=bearer(token),
        json={"current_password": PASSWORD, "new_password": "azertyuiop"},
    )
    assert weak.status_code == 422 and weak.json()["type"] == "weak-password"
    assert login(client, account.handle).status_code == 201  # nothing changed so far
    done = client.post(
        f"{API}/me/password",
        headers=bearer(token),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 204
    assert login(client, account.handle, NEW_PASSWORD).status_code == 201
    assert login(client, account.handle, PASSWORD).status_code == 401
    assert "password_changed" in event_kinds(platform, account.id)


# --- password reset ---------------------------------------------------------------------------
def reset_link(platform: Platform, account_id: str) -> str:
    [email] = [e for e in emails_of(platform, account_id) if e.kind == "password-reset"][-1:]
    match = re.search(r"https://testserver/password-reset/([A-Za-z0-9_-]+)", email.body_text)
    assert match, email.body_text
    return match.group(1)


def test_a_reset_request_answers_the_same_whether_the_account_exists(client, platform):
    account = make_account(platform)
    known = client.post(f"{API}/auth/password-resets", json={"login": account.email})
    unknown = client.post(f"{API}/auth/password-resets", json={"login": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert count(platform, ServiceEmail, ServiceEmail.kind == "password-reset") == 1


def test_a_reset_link_sets_a_new_password_once_ends_web_sessions_and_revokes_tokens(
    client, platform, clock
):
    account = make_account(platform)
    api_token = api_token_for(client, account)
    with platform.transaction() as session:
        session.add(
            WebSession(
                id="s" * 64,
                account_id=account.id,
                csrf_token="c",
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(days=1),
            )
        )
    client.post(f"{API}/auth/password-resets", json={"login": account.handle})
    token = reset_link(platform, account.id)
    [email] = [e for e in emails_of(platform, account.id) if e.kind == "password-reset"]
    assert "60 minutes" in email.body_text
    weak = client.post(f"{API}/auth/password-resets/{token}", json={"new_password": "short"})
    assert weak.status_code == 422 and weak.json()["type"] == "weak-password"
    done = client.post(f"{API}/auth/password-resets/{token}", json={"new_password": NEW_PASSWORD})
    assert done.status_code == 204
    assert login(client, account.handle, NEW_PASSWORD).status_code == 201
    assert count(platform, WebSession, WebSession.account_id == account.id) == 0
    assert client.get(f"{API}/me", headers=bearer(api_token)).status_code == 401  # revoked
    again = client.post(f"{API}/auth/password-resets/{token}", json={"new_password": PASSWORD})
    assert again.status_code == 410 and again.json()["type"] == "reset-link-used"
    assert "password_reset" in event_kinds(platform, account.id)


def test_an_expired_or_unknown_reset_link_is_refused(client, platform, clock):
    account = make_account(platform)
    client.post(f"{API}/auth/password-resets", json={"login": account.email})
    token = reset_link(platform, account.id)
    clock.advance(timedelta(minutes=60))
    expired = client.post(
        f"{API}/auth/password-resets/{token}", json={"new_password": NEW_PASSWORD}
    )
    assert expired.status_code == 410 and expired.json()["type"] == "reset-link-expired"
    unknown = client.post(f"{API}/auth/password-resets/forged", json={"new_password": NEW_PASSWORD})
    assert unknown.status_code == 404 and unknown.json()["type"] == "reset-link-invalid"
    assert login(client, account.handle).status_code == 201  # the password did not change


# --- security events and service e-mails ------------------------------------------------------
def test_security_events_are_listed_newest_first_by_pages(client, platform):
    account = make_account(platform)
    token = api_token_for(client, account)
    login(client, account.handle, "Wrong-Password-1")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"{API}/me/security-events", headers=bearer(token), params=params).json()
        seen += [item["kind"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["login_failed", "api_token_created", "sign_up"]
    bad = client.get(f"{API}/me/security-events", headers=bearer(token), params={"cursor": "!!"})
    assert bad.status_code == 422 and bad.json()["type"] == "invalid-cursor"
    assert (
        client.get(
            f"{API}/me/security-events", headers=bearer(token), params={"limit": 0}
        ).status_code
        == 422
    )


def send_with_attachment(platform: Platform, account: Account) -> str:
    with platform.transaction() as session:
        email = send_service_email(
            session,
            platform,
            account=account,
            kind="welcome",
            template="accounts/welcome",
            context={"handle": account.handle, "space_url": "https://testserver/"},
            attachments=[("facture-été.pdf", "application/pdf", b"%PDF-1.4 test")],
        )
    return email.id


def test_service_emails_are_listed_by_pages_and_read_with_attachments(client, platform, clock):
    account = make_account(platform)
    token = api_token_for(client, account)
    clock.advance(timedelta(minutes=1))
    email_id = send_with_attachment(platform, account)
    first = client.get(f"{API}/me/service-emails", headers=bearer(token), params={"limit": 1})
    assert first.status_code == 200
    [newest] = first.json()["items"]
    assert newest["id"] == email_id
    assert newest["attachments"][0]["filename"] == "facture-été.pdf"
    second = client.get(
        f"{API}/me/service-emails",
        headers=bearer(token),
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
    ).json()
    assert [item["kind"] for item in second["items"]] == ["welcome"]
    assert second["next_cursor"] is None

    detail = client.get(f"{API}/me/service-emails/{email_id}", headers=bearer(token)).json()
    assert detail["body_text"] and detail["body_html"]
    [attachment] = detail["attachments"]
    assert attachment["size"] == len(b"%PDF-1.4 test")
    assert attachment["content"] == "JVBERi0xLjQgdGVzdA=="
    download = client.get(attachment["download_url"], headers=bearer(token))
    assert download.status_code == 200 and download.content == b"%PDF-1.4 test"
    assert download.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''facture-%C3%A9t%C3%A9.pdf" in download.headers["content-disposition"]
    missing = client.get(f"{API}/me/service-emails/{email_id}/attachments/2", headers=bearer(token))
    assert missing.status_code == 404


def test_another_customers_email_answers_404_like_a_missing_one(client, platform):
    alice, bob = make_account(platform), make_account(platform)
    bobs_email = send_with_attachment(platform, bob)
    alice_token = api_token_for(client, alice)
    forged = client.get(f"{API}/me/service-emails/{bobs_email}", headers=bearer(alice_token))
    missing = client.get(f"{API}/me/service-emails/{'0' * 32}", headers=bearer(alice_token))
    assert forged.status_code == missing.status_code == 404
    assert forged.json() == missing.json()
    attachment = client.get(
        f"{API}/me/service-emails/{bobs_email}/attachments/1", headers=bearer(alice_token)
    )
    assert attachment.status_code == 404
    listed = client.get(f"{API}/me/service-emails", headers=bearer(alice_token)).json()["items"]
    assert bobs_email not in {item["id"] for item in listed}


# --- logins from devices (the web login uses these actions) -----------------------------------
def test_a_login_from_a_new_device_is_announced_but_not_the_sign_up_device(platform):
    account = actions.sign_up(platform, sign_up_data(language="en"), device_id="browser-1")
    kwargs = {"ip": "203.0.113.7", "user_agent": "Firefox/130"}
    assert actions.record_login(platform, account.id, device_id="browser-1", **kwargs) is False
    assert actions.record_login(platform, account.id, device_id="phone-2", **kwargs) is True
    assert actions.record_login(platform, account.id, device_id="phone-2", **kwargs) is False
    [alert] = [e for e in emails_of(platform, account.id) if e.kind == "new-device-login"]
    assert alert.subject == "VoIPdesk Telecom: new login to your account"
    assert "203.0.113.7" in alert.body_text and "Firefox/130" in alert.body_text
    assert "2 Mar 2026" in alert.body_text  # when, at the operator's place


def test_the_first_device_of_an_account_is_not_announced(platform):
    account = make_account(platform)
    assert (
        actions.record_login(
            platform, account.id, ip="198.51.100.1", user_agent="ua", device_id="first"
        )
        is True
    )
    assert not [e for e in emails_of(platform, account.id) if e.kind == "new-device-login"]


def test_staff_accounts_are_created_and_pass_the_staff_check(platform):
    from voipdesk.accounts.api_auth import current_staff
    from voipdesk.core.errors import Forbidden

    staff = actions.create_staff(
        platform,
        email="Sam@Operator.example",
        first_name="Sam",
        last_name="Operator",
        password=NEW_PASSWORD,
    )
    assert staff.is_staff and staff.email == "sam@operator.example"
    assert staff.country == platform.settings.operator_country
    assert asyncio.run(current_staff(staff)) is staff
    with pytest.raises(Forbidden):
        asyncio.run(current_staff(make_account(platform)))


def test_the_backup_address_recovers_access_and_hears_security_notices(client, platform):
    """The guide's backup e-mail: a reset can be asked with it (when the main mailbox is lost),
    and the reset link, the new-device and 2FA notices and the e-mail change reach it too."""
    account = make_account(platform, backup_email="rescue@example.net")
    asked = client.post(f"{API}/auth/password-resets", json={"login": "Rescue@example.net"})
    assert asked.status_code == 202
    resets = [e for e in emails_of(platform, account.id) if e.kind == "password-reset"]
    assert sorted(e.to_address for e in resets) == sorted([account.email, "rescue@example.net"])
    assert len({e.body_text for e in resets}) == 1  # one link, in both mailboxes
    token = api_token_for(client, account)
    turn_on_totp(client, platform, token)
    enabled = [e.to_address for e in emails_of(platform, account.id) if e.kind == "totp-enabled"]
    assert sorted(enabled) == sorted([account.email, "rescue@example.net"])
    old = account.email
    changed = client.patch(
        f"{API}/me", json={"email": "new-main@example.org"}, headers=bearer(token)
    )
    assert changed.status_code == 200, changed.text
    told = [e.to_address for e in emails_of(platform, account.id) if e.kind == "email-changed"]
    assert sorted(told) == sorted([old, "rescue@example.net"])
    # A backup address two accounts share recovers neither (no guessing whose it is).
    make_account(platform, backup_email="shared@example.net")
    make_account(platform, backup_email="shared@example.net")
    before = count(platform, ServiceEmail, ServiceEmail.kind == "password-reset")
    client.post(f"{API}/auth/password-resets", json={"login": "shared@example.net"})
    assert count(platform, ServiceEmail, ServiceEmail.kind == "password-reset") == before
