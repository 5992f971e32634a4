"""Reading billing groups, services and pending changes (what pages and other rooms show)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.subscriptions import errors, rules
from voipdesk.subscriptions.models import (
    BillingGroup,
    PendingChange,
    Service,
    units_to_price,
)

OFFER_LABELS = {
    catalogue_rules.SIP_DECOUVERTE: "Découverte",
    catalogue_rules.SIP_ENTREPRISE: "Entreprise",
    catalogue_rules.SIP_TRUNK: "Trunk",
}


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------
def list_groups(session: Session, account_id: str) -> list[BillingGroup]:
    return list(
        session.scalars(
            select(BillingGroup)
            .where(BillingGroup.account_id == account_id)
            .order_by(BillingGroup.created_at, BillingGroup.id)
        )
    )


def get_group(session: Session, account_id: str, group_id: str, lock: bool = False) -> BillingGroup:
    group = session.get(BillingGroup, group_id, with_for_update=lock)
    if group is None or group.account_id != account_id:
        raise errors.BillingGroupNotFound()
    return group


def group_services(
    session: Session, group_id: str, kinds: tuple[str, ...] | None = None
) -> list[Service]:
    query = select(Service).where(
        Service.billing_group_id == group_id, Service.state.in_(rules.LIVE_STATES)
    )
    if kinds:
        query = query.where(Service.kind.in_(kinds))
    return list(session.scalars(query.order_by(Service.number_e164, Service.kind, Service.id)))


def get_numbered_service(
    session: Session, account_id: str, group_id: str, number: str, kinds: tuple[str, ...]
) -> Service:
    group = get_group(session, account_id, group_id)
    service = session.scalar(
        select(Service)
        .where(
            Service.billing_group_id == group.id,
            Service.number_e164 == number,
            Service.kind.in_(kinds),
            Service.state.in_(rules.LIVE_STATES),
        )
        .with_for_update()
    )
    if service is None:
        raise errors.ServiceNotFound()
    return service


def get_account_service(session: Session, account_id: str, service_id: str) -> Service:
    service = session.get(Service, service_id, with_for_update=True)
    if service is None or service.account_id != account_id or service.state == rules.DELETED:
        raise errors.ServiceNotFound()
    return service


def list_account_services(session: Session, account_id: str) -> list[Service]:
    return list(
        session.scalars(
            select(Service)
            .where(Service.account_id == account_id, Service.state != rules.DELETED)
            .order_by(Service.billing_group_id, Service.number_e164, Service.id)
        )
    )


def pending_changes(
    session: Session, group_id: str, service_id: str | None = None
) -> list[PendingChange]:
    query = select(PendingChange).where(
        PendingChange.billing_group_id == group_id, PendingChange.state == rules.PENDING
    )
    if service_id is not None:
        query = query.where(PendingChange.service_id == service_id)
    return list(session.scalars(query.order_by(PendingChange.requested_at, PendingChange.id)))


def has_auto_renewing_services(session: Session, account_id: str) -> bool:
    """For the orders area: the default payment method is needed while this is true."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Service)
            .where(
                Service.account_id == account_id,
                Service.renewal_mode == rules.AUTOMATIC,
                Service.state.in_(rules.LIVE_STATES),
            )
        )
    )


def live_services_count(session: Session, account_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Service)
            .where(Service.account_id == account_id, Service.state.in_(rules.LIVE_STATES))
        )
        or 0
    )


# --------------------------------------------------------------------------------------------------


def describe(service: Service) -> str:
    label = OFFER_LABELS.get(service.offer_code, service.offer_code)
    return f"{label} {service.number_e164 or ''}".strip()


def monthly_price(service: Service) -> Decimal:
    return units_to_price(service.monthly_price_e4)


# --------------------------------------------------------------------------------------------------
