"""What other areas ask the subscriptions area: plain functions over services.

billing reads `subscriptions.models.Service` rows in bulk (a named exception of the import
contract) and asks these for what a service is called and costs; payments and accounts ask
whether an account still has services (through the guards subscriptions registers in its
handlers). Provisioning helpers the renewal run needs when a conversion applies are here too.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.subscriptions.actions import reading
from voipdesk.subscriptions.actions.changes import record as record_event
from voipdesk.subscriptions.models import Service
from voipdesk.subscriptions.provisioning import (
    generate_sip_password,
    line_kind_of,
    sip_username_for,
)

__all__ = [
    "describe",
    "generate_sip_password",
    "has_auto_renewing_services",
    "line_kind_of",
    "live_services_count",
    "monthly_price",
    "record_history",
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


def record_history(
    session: Session,
    platform: Platform,
    group_id: str,
    service_id: str | None,
    actor: str,
    what: str,
) -> None:
    """Adds one entry (who, when, what) to the history log of a billing group or service, in the
    caller's transaction: areas above (telephony) log their setting changes here."""
    record_event(session, platform, group_id, service_id, actor, what)
