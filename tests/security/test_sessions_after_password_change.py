"""Finding 5: a password change or reset ends the other sessions (and tokens), and says so."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.accounts.factories import PASSWORD, api_token_for, make_account
from voipdesk.accounts import actions
from voipdesk.accounts.models import ServiceEmail
from voipdesk.core.platform import Platform

API = "/api/v1"
NEW_PASSWORD = "Purple-Giraffe-Orbit-77"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _changed_emails(platform: Platform, account_id: str) -> list[str]:
    with platform.session() as session:
        return list(
            session.scalars(
                select(ServiceEmail.to_address).where(
                    ServiceEmail.account_id == account_id,
                    ServiceEmail.kind == "password-changed",
                )
            )
        )


def _web_login(client, account) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    data = {"identifier": account.handle, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    answer = client.post("/login", data=data, follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text


def test_a_change_ends_other_sessions_and_can_revoke_the_other_tokens(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform, backup_email="backup@example.org")
    from fastapi.testclient import TestClient

    other_browser = TestClient(client.app, base_url="https://testserver")
    _web_login(other_browser, account)
    assert other_browser.get("/security", follow_redirects=False).status_code == 200
    kept, other = api_token_for(client, account), api_token_for(client, account)
    changed = client.post(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "revoke_tokens": True},
        headers=_bearer(kept),
    )
    assert changed.status_code == 204, changed.text
    # the browser logged in elsewhere is out; the token that made the change still works
    assert other_browser.get("/security", follow_redirects=False).status_code in (302, 303)
    assert client.get(f"{API}/me", headers=_bearer(kept)).status_code == 200
    assert client.get(f"{API}/me", headers=_bearer(other)).status_code == 401
    # the account and its backup address are told
    assert sorted(_changed_emails(platform, account.id)) == sorted(
        [account.email, "backup@example.org"]
    )


def test_without_asking_the_tokens_stay(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform)
    kept, other = api_token_for(client, account), api_token_for(client, account)
    changed = client.post(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=_bearer(kept),
    )
    assert changed.status_code == 204
    assert client.get(f"{API}/me", headers=_bearer(other)).status_code == 200
    assert _changed_emails(platform, account.id) == [account.email]


def test_a_reset_revokes_every_token_and_tells_both_addresses(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform, backup_email="backup@example.org")
    token = api_token_for(client, account)
    actions.request_password_reset(platform, account.email)
    with platform.session() as session:
        body = session.scalar(
            select(ServiceEmail.body_text).where(
                ServiceEmail.account_id == account.id, ServiceEmail.kind == "password-reset"
            )
        )
    match = re.search(r"/password-reset/([\w-]+)", body or "")
    assert match is not None
    reset = client.post(
        f"{API}/auth/password-resets/{match.group(1)}", json={"new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 204
    assert client.get(f"{API}/me", headers=_bearer(token)).status_code == 401
    assert sorted(_changed_emails(platform, account.id)) == sorted(
        [account.email, "backup@example.org"]
    )


def test_the_security_page_offers_to_revoke_the_tokens(client, platform) -> None:  # type: ignore[no-untyped-def]
    account = make_account(platform)
    _web_login(client, account)
    page = client.get("/security")
    assert 'name="revoke_tokens"' in page.text
