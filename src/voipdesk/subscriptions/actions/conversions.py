"""Conversions between a SIP line and an alias number (pending changes)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import errors, rules
from voipdesk.subscriptions.actions.changes import (
    _check_live,
    _effective_on,
    _new_change,
)
from voipdesk.subscriptions.actions.offers import offer_monthly_price
from voipdesk.subscriptions.actions.reading import (
    get_numbered_service,
)
from voipdesk.subscriptions.models import (
    PendingChange,
    price_to_units,
)


# Conversions
# --------------------------------------------------------------------------------------------------
def convert_line_to_alias(
    session: Session, platform: Platform, account_id: str, group_id: str, number: str
) -> PendingChange:
    line = get_numbered_service(session, account_id, group_id, number, rules.LINE_KINDS)
    _check_live(line)
    price = offer_monthly_price(
        session, catalogue_rules.ALIAS_NUMBER, line.tax_country, _effective_on(platform)
    )
    return _new_change(
        session,
        platform,
        line,
        group_id,
        rules.CHANGE_TO_ALIAS,
        f"account:{account_id}",
        new_kind=rules.KIND_ALIAS_NUMBER,
        new_offer_code=catalogue_rules.ALIAS_NUMBER,
        new_monthly_price_e4=price_to_units(price or Decimal("1.00")),
    )


def convert_alias_to_line(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    offer_code: str,
    accept_contracts: bool,
) -> PendingChange:
    alias = get_numbered_service(session, account_id, group_id, number, (rules.KIND_ALIAS_NUMBER,))
    _check_live(alias)
    if alias.pool_id is not None:
        raise errors.PoolNumberConversion(number=number)
    if offer_code not in (
        catalogue_rules.SIP_DECOUVERTE,
        catalogue_rules.SIP_ENTREPRISE,
        catalogue_rules.SIP_TRUNK,
    ):
        raise errors.OfferChangeNotAllowed(
            number=number,
            current="alias",
            target=offer_code,
            fields={"offer": "Choose a SIP line offer."},
        )
    if not accept_contracts:
        raise errors.TermsNotAccepted(fields={"accept_contracts": "Required."})
    calls_range = catalogue_rules.simultaneous_calls_range(offer_code)
    calls = calls_range.minimum if calls_range else 1
    price = offer_monthly_price(
        session, offer_code, alias.tax_country, _effective_on(platform), calls
    )
    return _new_change(
        session,
        platform,
        alias,
        group_id,
        rules.CHANGE_TO_LINE,
        f"account:{account_id}",
        new_kind=rules.KIND_SIP_LINE,
        new_offer_code=offer_code,
        new_simultaneous_calls=calls,
        new_monthly_price_e4=price_to_units(price),
    )


# --------------------------------------------------------------------------------------------------
