"""Finding 2: login throttling that an attacker cannot turn against the owner."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.accounts.api_test_helpers import login, turn_on_totp
from tests.accounts.factories import PASSWORD, api_token_for, make_account
from voipdesk.accounts import actions, rules
from voipdesk.accounts.errors import AccountLocked, InvalidCredentials, LoginThrottled
from voipdesk.accounts.models import ServiceEmail
from voipdesk.core.platform import Platform

API = "/api/v1"
WRONG = "Wrong-Password-123"
NEW_PASSWORD = "Purple-Giraffe-Orbit-77"


def _try(platform: Platform, login_name: str, password: str, ip: str) -> str:
    try:
        actions.check_credentials(platform, login_name, password, ip=ip, user_agent="test")
    except InvalidCredentials:
        return "wrong"
    except LoginThrottled:
        return "wait"
    except AccountLocked:
        return "locked"
    return "in"


def _emails(platform: Platform, account_id: str, kind: str) -> list[ServiceEmail]:
    from sqlalchemy import select

    with platform.session() as session:
        return list(
            session.scalars(
                select(ServiceEmail).where(
                    ServiceEmail.account_id == account_id, ServiceEmail.kind == kind
                )
            )
        )


@given(st.integers(0, 200), st.integers(0, 10), st.integers(1, 600), st.integers(1, 86400))
def test_the_wait_grows_with_failures_and_stays_capped(
    failures: int, free: int, base: int, cap: int
) -> None:
    wait = rules.pair_delay_seconds(failures, free, base, cap)
    assert 0 <= wait <= cap
    assert (wait == 0) == (failures <= free)
    assert rules.pair_delay_seconds(failures + 1, free, base, cap) >= wait


def test_waits_grow_per_address_and_the_owner_elsewhere_is_not_held(
    client,
    platform,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    account = make_account(platform)
    for _ in range(platform.settings.login_free_failures + 1):
        assert login(client, account.handle, WRONG).status_code == 401
    waiting = login(client, account.handle, PASSWORD)
    assert waiting.status_code == 429
    assert waiting.json()["type"] == "login-throttled"
    assert waiting.headers["Retry-After"] == "30"
    # the owner, from another address, is not held by the attacker's failures
    assert _try(platform, account.handle, PASSWORD, "198.51.100.7") == "in"
    clock.advance(timedelta(seconds=31))
    assert login(client, account.handle, WRONG).status_code == 401
    assert login(client, account.handle, WRONG).headers["Retry-After"] == "60"
    clock.advance(timedelta(seconds=61))
    assert login(client, account.handle, PASSWORD).status_code == 201
    # a success from this address starts again from zero
    for _ in range(platform.settings.login_free_failures):
        assert login(client, account.handle, WRONG).status_code == 401


def test_a_lock_of_the_account_lets_a_second_factor_and_the_reset_link_in(
    client,
    platform,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    platform.settings.login_max_failures_per_account = 6
    owner, protected = make_account(platform), make_account(platform)
    secret, _codes = turn_on_totp(client, platform, api_token_for(client, protected))
    clock.advance(timedelta(seconds=30))
    for index in range(6):  # from six addresses: no pair waits, but the account-wide count
        assert _try(platform, owner.handle, WRONG, f"203.0.113.{index}") == "wrong"
        assert _try(platform, protected.handle, WRONG, f"203.0.113.{index}") == "wrong"
    # the password alone no longer gets in (not even checked: the lock tells nothing)
    assert _try(platform, owner.handle, PASSWORD, "198.51.100.7") == "locked"
    assert _try(platform, owner.handle, WRONG, "198.51.100.7") == "locked"
    # a second factor still does
    import pyotp

    code = pyotp.TOTP(secret).at(platform.now())
    assert login(client, protected.handle, PASSWORD, totp_code=code).status_code == 201
    # the owner was told once, with a reset link; the completed reset lifts the lock
    [notice] = _emails(platform, owner.id, "login-locked")
    assert len(_emails(platform, protected.id, "login-locked")) == 1
    match = re.search(r"/password-reset/([\w-]+)", notice.body_text)
    assert match is not None
    actions.reset_password(platform, match.group(1), NEW_PASSWORD)
    assert _try(platform, owner.handle, NEW_PASSWORD, "198.51.100.7") == "in"
    assert _try(platform, owner.handle, NEW_PASSWORD, "203.0.113.0") == "in"


def test_a_reset_lifts_the_waits_of_the_address_too(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform)
    for _ in range(platform.settings.login_free_failures + 1):
        login(client, account.handle, WRONG)
    assert login(client, account.handle, PASSWORD).status_code == 429
    actions.request_password_reset(platform, account.email)
    [email] = _emails(platform, account.id, "password-reset")
    match = re.search(r"/password-reset/([\w-]+)", email.body_text)
    assert match is not None
    reset = client.post(
        f"{API}/auth/password-resets/{match.group(1)}", json={"new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 204, reset.text
    assert login(client, account.handle, NEW_PASSWORD).status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/me/password", {"current_password": WRONG, "new_password": NEW_PASSWORD}),
        ("POST", "/me/closure", {"password": WRONG}),
        ("DELETE", "/me/totp", {"password": WRONG, "code": "123456"}),
    ],
)
def test_re_authentication_failures_count_like_failed_logins(
    client,
    platform,
    method: str,
    path: str,
    body: dict,  # type: ignore[no-untyped-def]
) -> None:
    account = make_account(platform)
    token = api_token_for(client, account)
    if path == "/me/totp":
        turn_on_totp(client, platform, token)
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(platform.settings.login_free_failures + 1):
        answer = client.request(method, f"{API}{path}", json=body, headers=headers)
        assert answer.status_code == 422, answer.text
    throttled = client.request(method, f"{API}{path}", json=body, headers=headers)
    assert throttled.status_code == 429
    assert throttled.json()["type"] == "login-throttled"
    # and the same address can no longer guess at the login either
    assert login(client, account.handle, PASSWORD).status_code == 429
