"""Builds billing groups with services through the same delivery the orders area uses."""

from __future__ import annotations

import itertools
from decimal import Decimal

from voipdesk.core.db import new_id
from voipdesk.core.platform import Platform
from voipdesk.subscriptions.provisioning import (
    AliasNumberRequest,
    DeliveryRequest,
    DeliveryResult,
    FaxLineRequest,
    PhoneLoanRequest,
    SipLineRequest,
    provision_delivery,
)

_numbers = itertools.count(100000)


def next_number() -> str:
    return f"+3319{next(_numbers):07d}"


def deliver(
    platform: Platform,
    account_id: str,
    *,
    lines: list[tuple[str, int]] | None = None,  # (offer code, simultaneous calls)
    aliases: int = 0,
    pool: bool = False,
    faxes: int = 0,
    phones_for_lines: bool = False,
    options: list[str] | None = None,
    group_id: str | None = None,
    order_id: str | None = None,
) -> DeliveryResult:
    sip_lines = [
        SipLineRequest(
            offer_code=offer,
            number_e164=next_number(),
            simultaneous_calls=calls,
            option_codes=list(options or []),
            monthly_price_excl_tax=Decimal("5.00")
            if offer == "sip-entreprise"
            else Decimal("1.99"),
            option_prices={code: Decimal("3.00") for code in options or []},
        )
        for offer, calls in (lines or [])
    ]
    request = DeliveryRequest(
        account_id=account_id,
        order_id=order_id or new_id(),
        billing_group_id=group_id,
        sip_lines=sip_lines,
        alias_numbers=[AliasNumberRequest(next_number(), Decimal("1.00")) for _ in range(aliases)],
        alias_pool=pool,
        fax_lines=[FaxLineRequest(next_number(), Decimal("4.00")) for _ in range(faxes)],
        phone_loans=[
            PhoneLoanRequest("phone-pnp-pro", Decimal("60.00"), line.number_e164)
            for line in sip_lines
        ]
        if phones_for_lines
        else [],
    )
    with platform.transaction() as session:
        return provision_delivery(session, platform, request)
