"""Offer changes of a line (they wait for the renewal as pending changes)."""

from __future__ import annotations

from datetime import date
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
from voipdesk.subscriptions.actions.reading import (
    OFFER_LABELS,
    get_numbered_service,
)
from voipdesk.subscriptions.models import (
    PendingChange,
    Service,
    price_to_units,
)


# Offers
# --------------------------------------------------------------------------------------------------
def offer_monthly_price(
    session: Session, offer_code: str, country: str, on: date, calls: int = 1
) -> Decimal:
    """The monthly price of a line on `offer_code` with `calls` simultaneous calls."""
    from voipdesk.catalogue.queries import prices_on

    try:
        prices = prices_on(session, offer_code, country, on)
    except Exception:  # no catalogue price: keep the change possible, priced at 0 extra
        prices = {}
    monthly = prices.get("monthly", Decimal("0"))
    extra_price = prices.get("extra_call_monthly", rules.EXTRA_CALL_MONTHLY_PRICE)
    calls_range = catalogue_rules.simultaneous_calls_range(offer_code)
    extra = calls_range.extra_calls(calls) if calls_range else 0
    return monthly + extra_price * extra


def available_offers(service: Service) -> list[str]:
    return sorted(catalogue_rules.allowed_offer_changes(service.offer_code))


def request_offer_change(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    numbers: list[str],
    offer_code: str,
) -> list[PendingChange]:
    """One line or several at once: all are checked before any is changed."""
    lines = [
        get_numbered_service(session, account_id, group_id, number, rules.LINE_KINDS)
        for number in dict.fromkeys(numbers)
    ]
    if not lines:
        raise errors.ServiceNotFound()
    for line in lines:
        _check_live(line)
        if not catalogue_rules.is_offer_change_allowed(line.offer_code, offer_code):
            refusal = (
                errors.EntrepriseNeverDecouverte
                if (line.offer_code, offer_code)
                == (catalogue_rules.SIP_ENTREPRISE, catalogue_rules.SIP_DECOUVERTE)
                else errors.OfferChangeNotAllowed
            )
            raise refusal(
                number=line.number_e164,
                current=OFFER_LABELS.get(line.offer_code, line.offer_code),
                target=OFFER_LABELS.get(offer_code, offer_code),
                fields={"offer": "This offer is not available for this line."},
            )
    changes = []
    on = _effective_on(platform)
    for line in lines:
        calls_range = catalogue_rules.simultaneous_calls_range(offer_code)
        calls = (
            max(line.simultaneous_calls, calls_range.minimum)
            if calls_range
            else line.simultaneous_calls
        )
        if calls_range:
            calls = min(calls, calls_range.maximum)
        price = offer_monthly_price(session, offer_code, line.tax_country, on, calls)
        changes.append(
            _new_change(
                session,
                platform,
                line,
                group_id,
                rules.CHANGE_OFFER,
                f"account:{account_id}",
                new_offer_code=offer_code,
                new_simultaneous_calls=calls,
                new_monthly_price_e4=price_to_units(price),
            )
        )
    return changes


# --------------------------------------------------------------------------------------------------
