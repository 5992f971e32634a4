"""Simultaneous calls of a line: a decrease waits for the renewal, an increase is ordered."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import errors, rules
from voipdesk.subscriptions.actions.changes import (
    _check_live,
    _new_change,
    record,
)
from voipdesk.subscriptions.actions.reading import (
    OFFER_LABELS,
    get_numbered_service,
)
from voipdesk.subscriptions.listeners import services_changed
from voipdesk.subscriptions.models import (
    PendingChange,
    Service,
    price_to_units,
)


# Simultaneous calls
# --------------------------------------------------------------------------------------------------
@dataclass
class CallsIncrease:
    """An increase: the purchase order to pay (prorated for the current month)."""

    service_id: str
    current_calls: int
    new_calls: int
    prorated_excl_tax: Decimal
    monthly_increase_excl_tax: Decimal
    order_id: str | None


def set_simultaneous_calls(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    total: int,
    accept_terms: bool,
) -> PendingChange | CallsIncrease:
    line = get_numbered_service(session, account_id, group_id, number, rules.LINE_KINDS)
    _check_live(line)
    calls_range = catalogue_rules.simultaneous_calls_range(line.offer_code)
    if calls_range is None or not calls_range.adjustable:
        raise errors.SimultaneousCallsFixed(
            offer=OFFER_LABELS.get(line.offer_code, line.offer_code),
            calls=calls_range.maximum if calls_range else 1,
        )
    if not calls_range.allows(total):
        raise errors.SimultaneousCallsOutOfRange(
            minimum=calls_range.minimum,
            maximum=calls_range.maximum,
            calls=total,
            fields={"simultaneous_calls": "Out of the offer's range."},
        )
    if total == line.simultaneous_calls:
        raise errors.SimultaneousCallsUnchanged(calls=total)
    if total < line.simultaneous_calls:
        # A decrease waits for the renewal; never below what the offer includes (checked above).
        price = line.monthly_price_excl_tax - rules.EXTRA_CALL_MONTHLY_PRICE * (
            calls_range.extra_calls(line.simultaneous_calls) - calls_range.extra_calls(total)
        )
        return _new_change(
            session,
            platform,
            line,
            group_id,
            rules.CHANGE_CALLS_DECREASE,
            f"account:{account_id}",
            new_simultaneous_calls=total,
            new_monthly_price_e4=price_to_units(max(price, Decimal("0"))),
        )
    if not accept_terms:
        raise errors.TermsNotAccepted(fields={"accept_terms": "Required."})
    extra = total - line.simultaneous_calls
    monthly = rules.EXTRA_CALL_MONTHLY_PRICE * extra
    today = platform.today()
    prorated = rules.prorated_amount(monthly, today, rules.end_of_month(today))
    order_id = _order_calls_increase(session, platform, account_id, line, total, prorated, monthly)
    record(
        session,
        platform,
        group_id,
        line.id,
        f"account:{account_id}",
        f"ordered {total} simultaneous calls",
    )
    return CallsIncrease(line.id, line.simultaneous_calls, total, prorated, monthly, order_id)


def _order_calls_increase(
    session: Session,
    platform: Platform,
    account_id: str,
    line: Service,
    total: int,
    prorated: Decimal,
    monthly: Decimal,
) -> str | None:
    """The purchase order through the orders area, which calls `apply_calls_increase` (outbox
    topic "subscriptions.calls_increase_paid") once it is paid."""
    from voipdesk.core.i18n import gettext
    from voipdesk.orders.services import create_custom_order

    label = "Simultaneous calls: +%(count)s (%(number)s)"
    values = {"count": total - line.simultaneous_calls, "number": line.number_e164}
    order = create_custom_order(
        session,
        platform,
        account_id=account_id,
        description=gettext("en", label, **values),
        description_fr=gettext("fr", label, **values),
        amount_excl_tax=prorated,
        monthly_excl_tax=monthly,
        billing_group_id=line.billing_group_id,
        on_paid=(
            "subscriptions.calls_increase_paid",
            {"service_id": line.id, "simultaneous_calls": total},
        ),
    )
    return str(order.order_id)


def apply_calls_increase(session: Session, platform: Platform, service_id: str, total: int) -> None:
    """Takes effect as soon as the order is paid (idempotent: a repeat changes nothing)."""
    line = session.get(Service, service_id, with_for_update=True)
    if line is None or line.state not in rules.LIVE_STATES or line.simultaneous_calls >= total:
        return
    added = total - line.simultaneous_calls
    line.simultaneous_calls = total
    line.monthly_price_e4 += price_to_units(rules.EXTRA_CALL_MONTHLY_PRICE * added)
    record(
        session, platform, line.billing_group_id, line.id, "order", f"simultaneous calls -> {total}"
    )
    services_changed(session, platform, [line.id])


# --------------------------------------------------------------------------------------------------
