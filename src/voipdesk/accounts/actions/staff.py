"""Staff accounts: creating an operator account for the back office (CLI, demo)."""

from __future__ import annotations

from voipdesk.accounts import rules
from voipdesk.accounts.actions.common import (
    _clean_profile,
    _password_inputs,
    check_password_policy,
    hash_secret,
)
from voipdesk.accounts.actions.signup import _create_account
from voipdesk.accounts.models import (
    Account,
)
from voipdesk.core.platform import Platform


def create_staff(
    platform: Platform, *, email: str, first_name: str, last_name: str, password: str
) -> Account:
    """An operator account (back office): an individual in the operator's country."""
    settings = platform.settings
    values = _clean_profile(
        {
            "kind": "individual",
            "country": settings.operator_country
            if settings.operator_country in rules.COUNTRIES
            else "FR",
            "language": "fr",
            "first_name": first_name,
            "last_name": last_name,
            "address_line1": settings.operator_name,
            "address_line2": settings.operator_postal_address[:200],
            "postal_code": "-",
            "city": "-",
            "email": email,
        },
        postal_address=False,
    )
    check_password_policy(password, "en", _password_inputs(values))
    return _create_account(
        platform,
        values,
        hash_secret(password),
        ip=None,
        user_agent=None,
        device_id=None,
        is_staff=True,
        welcome=False,
    )
