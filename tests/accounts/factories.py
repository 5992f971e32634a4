"""Test helpers other areas use too: a valid customer account, and an API token for it."""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from voipdesk.accounts.actions import SignUpData, create_api_token, sign_up
from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform

PASSWORD = "Correct-Horse-Battery-42!"

# A valid registration number and mobile per country, for companies and associations.
REGISTRATION_NUMBERS = {
    "FR": "732829320",
    "BE": "0403170701",
    "CH": "CHE-109.322.551",
    "CA-QC": "1143210987",
}
MOBILES = {
    "FR": "+33612345678",
    "BE": "+32470123456",
    "CH": "+41791234567",
    "CA-QC": "+15148721111",
}
ADDRESSES = {
    "FR": ("12 rue des Lilas", "69003", "Lyon"),
    "BE": ("Rue Neuve 25", "1000", "Bruxelles"),
    "CH": ("Avenue de la Gare 8", "1003", "Lausanne"),
    "CA-QC": ("1200 rue Sherbrooke O", "H3A 1H6", "Montréal"),
}
_counter = itertools.count(1)

SIGN_UP_FIELDS = set(SignUpData.model_fields)


def sign_up_data(**overrides: Any) -> SignUpData:
    """Valid sign-up data, with a unique e-mail; `overrides` are SignUpData fields."""
    country = overrides.get("country", "FR")
    kind = overrides.get("kind", "individual")
    line1, postal_code, city = ADDRESSES[country]
    values: dict[str, Any] = {
        "kind": kind,
        "country": country,
        "language": "fr",
        "first_name": "Camille",
        "last_name": "Martin",
        "address_line1": line1,
        "postal_code": postal_code,
        "city": city,
        "email": f"customer{next(_counter)}-{secrets.token_hex(4)}@example.org",
        "mobile": MOBILES[country],
        "password": PASSWORD,
    }
    if kind in ("company", "association"):
        values["organisation_name"] = "Martin Télécom SARL"
        values["registration_number"] = REGISTRATION_NUMBERS[country]
    values.update({name: value for name, value in overrides.items() if name in SIGN_UP_FIELDS})
    return SignUpData(**values)


def make_account(platform: Platform, **overrides: Any) -> Account:
    """A customer signed up through the real action (password `PASSWORD`). Overrides that are
    not sign-up fields (is_staff, created_at, ...) are then set on the row directly."""
    account = sign_up(platform, sign_up_data(**overrides))
    direct = {name: value for name, value in overrides.items() if name not in SIGN_UP_FIELDS}
    if direct:
        with platform.transaction() as session:
            row = session.get(Account, account.id)
            assert row is not None
            for name, value in direct.items():
                setattr(row, name, value)
        for name, value in direct.items():
            setattr(account, name, value)
    return account


def api_token_for(client_or_platform: Any, account: Account, name: str = "tests") -> str:
    """A bearer token secret for `account` (from a TestClient's platform, or a Platform)."""
    platform = client_or_platform
    if not isinstance(platform, Platform):
        platform = client_or_platform.app.state.platform
    _token, secret = create_api_token(platform, account.id, name)
    return secret
