"""Shared setup of the tests around the line: a customer with a billing group, staff, tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.accounts.factories import api_token_for, make_account
from tests.subscriptions.factories import deliver
from voipdesk.telephony.portability import rules

# French numbers of another operator (not in the test inventory), and a valid SIREN.
PORTED = ["+33145678901", "+33145678902"]
SIREN = "303265045"


def auth(client: Any, account: Any, language: str = "en") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_token_for(client, account)}",
        "Accept-Language": language,
    }


def setup(client: Any, lines: int = 2, phones: bool = False, **account: Any):  # type: ignore[no-untyped-def]
    platform = client.app.state.platform
    account.setdefault("language", "en")
    customer = make_account(platform, **account)
    result = deliver(
        platform, customer.id, lines=[("sip-entreprise", 2)] * lines, phones_for_lines=phones
    )
    numbers = [c.number_e164 for c in result.sip_credentials]
    return platform, customer, result.billing_group_id, numbers


def staff_headers(client: Any) -> dict[str, str]:
    platform = client.app.state.platform
    staff = make_account(platform, is_staff=True, language="en")
    return auth(client, staff)


def rio_for(number: str, prefix: str = "02P123ABC") -> str:
    return prefix + rules.rio_key(prefix, rules.national_of(number))


def line_url(group: str, number: str, tail: str = "") -> str:
    return f"/api/v1/telephony/{group}/lines/{quote(number)}{tail}"
