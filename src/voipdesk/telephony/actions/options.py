"""Options of a line (mobile-hours packs and the catalogue's other options).

Adding one makes a purchase order through the orders area (`orders.services.create_custom_order`,
the same mechanism as more simultaneous calls): the prorated rest of the month now, then the monthly
price. The line has the option once the order is paid (outbox topic `telephony.option_paid`).
Removing one is a pending change: it ends at the next renewal and can be cancelled until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.catalogue import queries as catalogue
from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.i18n import gettext
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.subscriptions import services as subscriptions
from voipdesk.telephony import errors
from voipdesk.telephony.actions.lines import actor_of_account, line

OPTION_PAID = "telephony.option_paid"


@dataclass(frozen=True)
class OptionView:
    code: str
    label: str
    monthly_excl_tax: Decimal
    on_line: bool
    ends_at_renewal: bool


@dataclass(frozen=True)
class OptionOrder:
    order_id: str
    order_number: str
    option: str
    prorated_excl_tax: Decimal
    monthly_excl_tax: Decimal
    total_incl_tax: Decimal
    currency: str


def _catalogue_options(
    session: Session, country: str, platform: Platform, language: str
) -> dict[str, catalogue.OfferView]:
    return {
        offer.code: offer
        for offer in catalogue.offers_for_country(session, country, platform.today(), language)
        if offer.kind == catalogue_rules.KIND_OPTION
    }


def _country(session: Session, account_id: str) -> str:
    account = session.get(Account, account_id)
    return getattr(account, "country", None) or "FR"


def list_options(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    language: str = "en",
) -> list[OptionView]:
    """Every option the line may have, with whether it has it and whether it ends at renewal."""
    facts = subscriptions.line_of_account(session, account_id, group_id, number, lock=False)
    offered = _catalogue_options(session, _country(session, account_id), platform, language)
    codes = sorted(set(offered) | set(facts.options))
    return [
        OptionView(
            code=code,
            label=offered[code].label if code in offered else code,
            monthly_excl_tax=offered[code].prices.get("monthly", Decimal("0"))
            if code in offered
            else Decimal("0"),
            on_line=code in facts.options,
            ends_at_renewal=code in facts.options_ending,
        )
        for code in codes
    ]


def order_option(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    option_code: str,
) -> OptionOrder:
    """The purchase order of an option for the line (nothing changes on the line until paid)."""
    facts = line(session, account_id, group_id, number)
    offered = _catalogue_options(session, _country(session, account_id), platform, "en")
    if option_code not in offered:
        raise errors.OptionNotAvailable(option=option_code, fields={"option": "Refused."})
    if option_code in facts.options:
        raise errors.OptionAlreadyOnLine()
    monthly = offered[option_code].prices.get("monthly", Decimal("0"))
    today = platform.today()
    prorated = subscription_rules.prorated_amount(
        monthly, today, subscription_rules.end_of_month(today)
    )
    from voipdesk.orders.services import create_custom_order

    label = "Option %(option)s for the line %(number)s"
    french = _catalogue_options(session, _country(session, account_id), platform, "fr")
    order = create_custom_order(
        session,
        platform,
        account_id=account_id,
        description=gettext("en", label, option=offered[option_code].label, number=facts.number),
        description_fr=gettext("fr", label, option=french[option_code].label, number=facts.number),
        amount_excl_tax=prorated,
        monthly_excl_tax=monthly,
        billing_group_id=facts.billing_group_id,
        on_paid=(
            OPTION_PAID,
            {
                "service_id": facts.service_id,
                "option": option_code,
                "monthly_excl_tax": str(monthly),
            },
        ),
    )
    subscriptions.record_history(
        session,
        platform,
        facts.billing_group_id,
        facts.service_id,
        actor_of_account(account_id),
        f"ordered option {option_code} (order {order.number})",
    )
    return OptionOrder(
        order.order_id,
        order.number,
        option_code,
        prorated,
        monthly,
        order.total_incl_tax,
        order.currency,
    )


def apply_paid_option(session: Session, platform: Platform, payload: dict[str, Any]) -> None:
    """Idempotent: a repeated message finds the option on the line."""
    subscriptions.add_line_option(
        session,
        platform,
        payload["service_id"],
        payload["option"],
        Decimal(payload.get("monthly_excl_tax") or "0"),
        payload.get("order_id"),
    )


def remove_option(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    option_code: str,
) -> Any:
    """The option ends at the next renewal (the pending change is returned)."""
    facts = line(session, account_id, group_id, number)
    if option_code not in facts.options:
        raise errors.OptionNotOnLine()
    return subscriptions.end_line_option(
        session, platform, facts.service_id, option_code, actor_of_account(account_id)
    )
