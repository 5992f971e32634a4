"""Reading billing groups, services and pending changes (what pages and other rooms show)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import and_, bindparam, func, literal, select, tuple_
from sqlalchemy.orm import Session

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.platform import Platform
from voipdesk.core.prepared_read import PreparedRead
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


# --------------------------------------------------------------------------------------------------
# One page of a group's services (the API lists): one statement, keyset in SQL
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListedChange:
    id: str
    kind: str
    service_id: str | None
    effective_on: date
    new_offer_code: str | None
    new_simultaneous_calls: int | None
    reason: str | None
    requested_at: datetime


@dataclass(frozen=True)
class ListedService:
    id: str
    billing_group_id: str
    kind: str
    number_e164: str | None
    offer_code: str
    simultaneous_calls: int
    outgoing_calls: bool
    pool_id: str | None
    monthly_price_e4: int
    renewal_mode: str
    state: str
    expiry_on: date
    cancel_at_expiry: bool
    cancel_reason: str | None
    tax_country: str  # its prices are in that country's currency
    pending_changes: tuple[ListedChange, ...]

    @property
    def monthly_price_excl_tax(self) -> Decimal:
        return units_to_price(self.monthly_price_e4)


_SERVICE_COLUMNS = [
    name for name in ListedService.__dataclass_fields__ if name != "pending_changes"
]
_CHANGE_COLUMNS = list(ListedChange.__dataclass_fields__)
# The order of a list and of its cursor: number (none first), kind, id.
_SORT_NUMBER = func.coalesce(Service.number_e164, literal(""))


@lru_cache(maxsize=64)
def _page_statement(
    kinds: tuple[str, ...], by_state: bool, by_prefix: bool, after: bool
) -> PreparedRead:
    # Built and compiled once per shape of request (both cost more than the query here).
    page = (
        select(*(getattr(Service, name) for name in _SERVICE_COLUMNS))
        .join(BillingGroup, BillingGroup.id == Service.billing_group_id)
        .where(
            Service.billing_group_id == bindparam("group_id"),
            BillingGroup.account_id == bindparam("account_id"),
            Service.state.in_(rules.LIVE_STATES),
            Service.kind.in_(kinds),
        )
    )
    if by_state:
        page = page.where(Service.state == bindparam("state"))
    if by_prefix:
        page = page.where(Service.number_e164.startswith(bindparam("prefix"), escape="\\"))
    if after:
        page = page.where(
            tuple_(_SORT_NUMBER, Service.kind, Service.id)
            > tuple_(bindparam("after_number"), bindparam("after_kind"), bindparam("after_id"))
        )
    listed = (
        page.order_by(_SORT_NUMBER, Service.kind, Service.id).limit(bindparam("limit")).subquery()
    )
    return PreparedRead(
        select(
            listed,
            *(getattr(PendingChange, name).label(f"change_{name}") for name in _CHANGE_COLUMNS),
        )
        .outerjoin(
            PendingChange,
            and_(PendingChange.service_id == listed.c.id, PendingChange.state == rules.PENDING),
        )
        .order_by(
            func.coalesce(listed.c.number_e164, literal("")),
            listed.c.kind,
            listed.c.id,
            PendingChange.requested_at,
            PendingChange.id,
        )
    )


_GROUP_OWNER = PreparedRead(
    select(BillingGroup.account_id).where(BillingGroup.id == bindparam("group_id"))
)


async def group_services_page(
    platform: Platform,
    account_id: str,
    group_id: str,
    kinds: tuple[str, ...],
    *,
    limit: int,
    after: tuple[str, str, str] | None = None,
    state: str | None = None,
    prefix: str | None = None,
) -> list[ListedService]:
    """Up to `limit` live services of the account's group, after the sort key `after`, each with
    its pending changes; BillingGroupNotFound when the group is not the account's. One statement
    outside a transaction, awaited on the event loop (core.prepared_read, core.async_reads): a
    list is the most called read of the API."""
    statement = _page_statement(tuple(kinds), state is not None, prefix is not None, bool(after))
    values: dict[str, object] = {"group_id": group_id, "account_id": account_id, "limit": limit}
    if state is not None:
        values["state"] = state
    if prefix is not None:
        values["prefix"] = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if after:
        values.update(after_number=after[0], after_kind=after[1], after_id=after[2])
    services: dict[str, tuple[dict[str, object], list[ListedChange]]] = {}
    engine, pool = platform.engine, platform.read_pool
    for row in await statement.mappings_async(engine, pool, values):
        entry = services.get(row["id"])
        if entry is None:
            entry = services[row["id"]] = ({name: row[name] for name in _SERVICE_COLUMNS}, [])
        if row["change_id"] is not None:
            entry[1].append(ListedChange(**{n: row[f"change_{n}"] for n in _CHANGE_COLUMNS}))
    if not services:
        owner = await _GROUP_OWNER.first_async(engine, pool, {"group_id": group_id})
        if owner is None or owner[0] != account_id:
            raise errors.BillingGroupNotFound()
    return [
        ListedService(**columns, pending_changes=tuple(changes))  # type: ignore[arg-type]
        for columns, changes in services.values()
    ]
