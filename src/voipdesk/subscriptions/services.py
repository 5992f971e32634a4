"""What other areas ask the subscriptions area: plain functions over services.

billing reads `subscriptions.models.Service` rows in bulk (a named exception of the import
contract) and asks these for what a service is called and costs; payments and accounts ask
whether an account still has services (through the guards subscriptions registers in its
handlers). Provisioning helpers the renewal run needs when a conversion applies are here too.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from voipdesk.subscriptions.actions import reading
from voipdesk.subscriptions.line_facts import (
    ServiceFacts,
    add_line_option,
    end_line_option,
    group_service_facts,
    history,
    line_by_sip_username,
    line_of_account,
    lock_group,
    parents_of,
    record_history,
    service_facts,
    set_sip_ha1,
)
from voipdesk.subscriptions.listeners import register_services_listener, services_changed
from voipdesk.subscriptions.models import Service
from voipdesk.subscriptions.provisioning import (
    generate_sip_password,
    line_kind_of,
    sip_username_for,
)

__all__ = [
    "ServiceFacts",
    "add_line_option",
    "describe",
    "end_line_option",
    "generate_sip_password",
    "group_service_facts",
    "has_auto_renewing_services",
    "history",
    "line_by_sip_username",
    "line_kind_of",
    "line_of_account",
    "live_services_count",
    "lock_group",
    "monthly_price",
    "parents_of",
    "record_history",
    "register_services_listener",
    "service_facts",
    "services_changed",
    "set_sip_ha1",
    "sip_username_for",
]


def describe(service: Service) -> str:
    """The service as a customer reads it: offer label and number ("Entreprise +33...")."""
    return reading.describe(service)


def monthly_price(service: Service) -> Decimal:
    """Its monthly price excluding tax."""
    return reading.monthly_price(service)


def has_auto_renewing_services(session: Session, account_id: str) -> bool:
    return reading.has_auto_renewing_services(session, account_id)


def live_services_count(session: Session, account_id: str) -> int:
    return reading.live_services_count(session, account_id)
