"""Helpers of the accounts API tests that other test packages use too."""

from __future__ import annotations

from typing import Any

import pyotp

from tests.accounts.factories import PASSWORD
from voipdesk.core.platform import Platform

API = "/api/v1"


def login(client: Any, login: str, password: str = PASSWORD, **extra: Any) -> Any:
    """`POST /auth/tokens`."""
    return client.post(f"{API}/auth/tokens", json={"login": login, "password": password, **extra})


def turn_on_totp(client: Any, platform: Platform, token: str) -> tuple[str, list[str]]:
    """Turns 2FA on through the API; returns the secret and the recovery codes."""
    headers = {"Authorization": f"Bearer {token}"}
    enrolment = client.post(f"{API}/me/totp", headers=headers).json()
    confirmed = client.post(
        f"{API}/me/totp/confirm",
        headers=headers,
        json={"code": pyotp.TOTP(enrolment["secret"]).at(platform.now())},
    )
    assert confirmed.status_code == 200, confirmed.text
    return enrolment["secret"], confirmed.json()["recovery_codes"]
