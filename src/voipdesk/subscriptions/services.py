"""What other areas ask the subscriptions area: plain functions over services.

billing reads `subscriptions.models.Service` rows in bulk (a named exception of the import
contract) and asks these for what a service is called and costs; payments and accounts ask
whether an account still has services (through the guards subscriptions registers in its
handlers). Provisioning helpers the renewal run needs when a conversion applies are here too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.subscriptions import rules
from voipdesk.subscriptions.actions import reading
from voipdesk.subscriptions.actions.changes import record
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
from voipdesk.subscriptions.models import Service, ServiceEvent
from voipdesk.subscriptions.provisioning import (
    line_kind_of,
    sip_username_for,
)

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

__all__ = [
    "SUSPENDED_UNPAID",
    "ServiceFacts",
    "add_line_option",
    "describe",
    "end_line_option",
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
    "reactivate_after_payment",
    "record_history",
    "register_services_listener",
    "service_facts",
    "services_changed",
    "set_sip_ha1",
    "sip_username_for",
    "suspend_for_unpaid_invoice",
    "suspension_reason",
    "switch_to_manual_renewal",
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


SUSPENDED_UNPAID = "suspended: invoice %s unpaid"  # the service event; its prefix is the reason
_UNPAID_PREFIX = "suspended: invoice "
_REACTIVATED = "reactivated: invoice %s paid"


def suspend_for_unpaid_invoice(
    session: Session, platform: Platform, billing_group_id: str, invoice_number: str
) -> list[str]:
    """The group's live services stop (calls refused) because an invoice is unpaid; the reason
    is recorded on each. Returns the services suspended (none twice)."""
    now = platform.now()
    suspended = []
    for service in session.scalars(
        select(Service)
        .where(
            Service.billing_group_id == billing_group_id,
            Service.state.in_((rules.ACTIVE, rules.TO_RENEW)),
        )
        .with_for_update()
    ):
        service.state = rules.SUSPENDED
        service.suspended_at = now
        record(
            session,
            platform,
            billing_group_id,
            service.id,
            "billing",
            SUSPENDED_UNPAID % invoice_number,
        )
        suspended.append(service.id)
    services_changed(session, platform, suspended)  # the switch refuses their calls at once
    return suspended


def reactivate_after_payment(
    session: Session, platform: Platform, billing_group_id: str, invoice_number: str
) -> list[str]:
    """The invoice that suspended them is paid: the services it suspended work again at once
    (a service suspended for another reason, such as an expired manual renewal, stays so)."""
    reactivated = []
    for service in session.scalars(
        select(Service)
        .where(Service.billing_group_id == billing_group_id, Service.state == rules.SUSPENDED)
        .with_for_update()
    ):
        if suspension_reason(session, service.id) != invoice_number:
            continue
        service.state = rules.ACTIVE
        service.suspended_at = None
        record(
            session,
            platform,
            billing_group_id,
            service.id,
            "billing",
            _REACTIVATED % invoice_number,
        )
        reactivated.append(service.id)
    services_changed(session, platform, reactivated)  # calls work again on the next attempt
    return reactivated


def suspension_reason(session: Session, service_id: str) -> str | None:
    """The number of the unpaid invoice that suspended the service (for its diagnostics), or
    None when it is not suspended for an unpaid invoice."""
    last = session.scalar(
        select(ServiceEvent.what)
        .where(
            ServiceEvent.service_id == service_id,
            or_(ServiceEvent.what.like("suspended%"), ServiceEvent.what.like("reactivated%")),
        )
        .order_by(ServiceEvent.id.desc())
        .limit(1)
    )
    if last is None or not last.startswith(_UNPAID_PREFIX):
        return None
    return last[len(_UNPAID_PREFIX) :].removesuffix(" unpaid")


def switch_to_manual_renewal(
    session: Session, platform: Platform, service: Service, reason: str
) -> None:
    """Billing found no way to collect an automatic renewal: the service renews manually."""
    service.renewal_mode = rules.MANUAL
    record(session, platform, service.billing_group_id, service.id, "billing", reason)
