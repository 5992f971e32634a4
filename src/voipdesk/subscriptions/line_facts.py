"""What the telephony area (above) reads and writes about services: plain dataclasses, no ORM
objects crossing. Subscriptions stays the one writer of the `service` table: telephony asks it to
store a new SIP HA1, add an option ordered for a line, or end one at the next renewal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.db import new_id
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import errors, rules
from voipdesk.subscriptions.actions.changes import _new_change, record
from voipdesk.subscriptions.actions.reading import get_numbered_service
from voipdesk.subscriptions.listeners import services_changed
from voipdesk.subscriptions.models import BillingGroup, PendingChange, Service, price_to_units


@dataclass(frozen=True)
class ServiceFacts:
    service_id: str
    billing_group_id: str
    account_id: str  # the billing contact
    owner_account_id: str  # the group's owner
    kind: str
    number: str | None
    state: str
    offer: str
    simultaneous_calls: int
    outgoing_calls: bool
    sip_username: str | None
    sip_ha1: str | None
    options: list[str] = field(default_factory=list)
    # Options of the line ending at the next renewal (offer codes).
    options_ending: list[str] = field(default_factory=list)

    @property
    def is_line(self) -> bool:
        return self.kind in rules.LINE_KINDS

    @property
    def live(self) -> bool:
        return self.state in rules.LIVE_STATES


def _facts(session: Session, services: list[Service]) -> list[ServiceFacts]:
    if not services:
        return []
    ids = [s.id for s in services]
    options: dict[str, list[Service]] = {}
    for option in session.scalars(
        select(Service).where(
            Service.parent_service_id.in_(ids),
            Service.kind == rules.KIND_OPTION,
            Service.state.in_(rules.LIVE_STATES),
        )
    ):
        options.setdefault(option.parent_service_id or "", []).append(option)
    option_ids = [o.id for group in options.values() for o in group]
    ending = set(
        session.scalars(
            select(PendingChange.service_id).where(
                PendingChange.service_id.in_(option_ids),
                PendingChange.kind == rules.CHANGE_TERMINATION,
                PendingChange.state == rules.PENDING,
            )
        )
        if option_ids
        else []
    )
    owners = dict(
        session.execute(
            select(BillingGroup.id, BillingGroup.account_id).where(
                BillingGroup.id.in_({s.billing_group_id for s in services})
            )
        ).all()
    )
    return [
        ServiceFacts(
            service_id=s.id,
            billing_group_id=s.billing_group_id,
            account_id=s.account_id,
            owner_account_id=owners.get(s.billing_group_id, ""),
            kind=s.kind,
            number=s.number_e164,
            state=s.state,
            offer=s.offer_code,
            simultaneous_calls=s.simultaneous_calls,
            outgoing_calls=s.outgoing_calls,
            sip_username=s.sip_username,
            sip_ha1=s.sip_ha1,
            options=sorted(o.offer_code for o in options.get(s.id, [])),
            options_ending=sorted(o.offer_code for o in options.get(s.id, []) if o.id in ending),
        )
        for s in services
    ]


def line_of_account(
    session: Session, account_id: str, group_id: str, number: str, lock: bool = True
) -> ServiceFacts:
    """A live line of the account's group (404 `service-not-found` otherwise, as for a line of
    someone else). With `lock`, the line's row is locked until the transaction ends, so that two
    changes of its settings never interleave."""
    if lock:
        service = get_numbered_service(session, account_id, group_id, number, rules.LINE_KINDS)
        return _facts(session, [service])[0]
    found = session.scalar(
        select(Service)
        .join(BillingGroup, BillingGroup.id == Service.billing_group_id)
        .where(
            BillingGroup.id == group_id,
            BillingGroup.account_id == account_id,
            Service.number_e164 == number,
            Service.kind.in_(rules.LINE_KINDS),
            Service.state.in_(rules.LIVE_STATES),
        )
    )
    if found is None:
        group = session.get(BillingGroup, group_id)
        if group is None or group.account_id != account_id:
            raise errors.BillingGroupNotFound()
        raise errors.ServiceNotFound()
    return _facts(session, [found])[0]


def line_by_sip_username(session: Session, username: str) -> ServiceFacts | None:
    """The live line a phone registered as (locked for the transaction), or None."""
    service = session.scalar(
        select(Service)
        .where(
            Service.sip_username == username,
            Service.kind.in_(rules.LINE_KINDS),
            Service.state.in_(rules.LIVE_STATES),
        )
        .with_for_update()
    )
    return _facts(session, [service])[0] if service is not None else None


def group_service_facts(session: Session, group_id: str) -> list[ServiceFacts]:
    """The live lines, numbers and fax lines of a group (not options), by number."""
    services = list(
        session.scalars(
            select(Service)
            .where(
                Service.billing_group_id == group_id,
                Service.state.in_(rules.LIVE_STATES),
                Service.kind != rules.KIND_OPTION,
            )
            .order_by(Service.number_e164)
        )
    )
    return _facts(session, services)


def service_facts(session: Session, service_ids: Iterable[str]) -> list[ServiceFacts]:
    """These services whatever their state (options excluded), for compiling what they do."""
    ids = list(service_ids)
    if not ids:
        return []
    services = list(
        session.scalars(
            select(Service).where(Service.id.in_(ids), Service.kind != rules.KIND_OPTION)
        )
    )
    return _facts(session, services)


def parents_of(session: Session, service_ids: Iterable[str]) -> list[str]:
    """The lines of these options (an option's change changes what its line may do)."""
    ids = list(service_ids)
    if not ids:
        return []
    return [
        pid
        for pid in session.scalars(
            select(Service.parent_service_id).where(
                Service.id.in_(ids), Service.parent_service_id.is_not(None)
            )
        )
        if pid
    ]


def record_history(
    session: Session,
    platform: Platform,
    group_id: str,
    service_id: str | None,
    actor: str,
    what: str,
) -> None:
    """One entry of the service's history (who, when, what)."""
    record(session, platform, group_id, service_id, actor, what)


def history(
    session: Session, service_id: str, limit: int = 50
) -> list[tuple[int, datetime, str, str]]:
    """(entry id, at, actor, what) of a service, newest first."""
    from voipdesk.subscriptions.models import ServiceEvent

    return [
        (event.id, event.at, event.actor, event.what)
        for event in session.scalars(
            select(ServiceEvent)
            .where(ServiceEvent.service_id == service_id)
            .order_by(ServiceEvent.at.desc(), ServiceEvent.id.desc())
            .limit(limit)
        )
    ]


def set_sip_ha1(
    session: Session, platform: Platform, service_id: str, ha1: str | None, actor: str
) -> None:
    """Stores the HA1 of a new SIP password (the old one stops working at once)."""
    service = session.get(Service, service_id, with_for_update=True)
    if service is None or service.kind not in rules.LINE_KINDS:
        raise errors.ServiceNotFound()
    if service.sip_username is None and service.number_e164:
        service.sip_username = service.number_e164.lstrip("+")
    service.sip_ha1 = ha1
    record(session, platform, service.billing_group_id, service.id, actor, "new SIP password")
    services_changed(session, platform, [service.id])


def add_line_option(
    session: Session,
    platform: Platform,
    line_id: str,
    option_code: str,
    monthly_price_excl_tax: Decimal,
    order_id: str | None,
) -> bool:
    """An option ordered for a line, once paid (idempotent: False when the line already has it
    or is no longer live)."""
    line = session.get(Service, line_id, with_for_update=True)
    if line is None or line.state not in rules.LIVE_STATES:
        return False
    existing = session.scalar(
        select(Service).where(
            Service.parent_service_id == line.id,
            Service.offer_code == option_code,
            Service.state.in_(rules.LIVE_STATES),
        )
    )
    if existing is not None:
        return False
    option = Service(
        id=new_id(),
        billing_group_id=line.billing_group_id,
        account_id=line.account_id,
        kind=rules.KIND_OPTION,
        number_e164=line.number_e164,
        offer_code=option_code,
        parent_service_id=line.id,
        monthly_price_e4=price_to_units(monthly_price_excl_tax),
        tax_country=line.tax_country,
        renewal_mode=line.renewal_mode,
        state=rules.ACTIVE,
        expiry_on=line.expiry_on,
        created_order_id=order_id,
        created_at=platform.now(),
    )
    session.add(option)
    record(
        session, platform, line.billing_group_id, line.id, "order", f"option {option_code} added"
    )
    services_changed(session, platform, [line.id])
    return True


def end_line_option(
    session: Session, platform: Platform, line_id: str, option_code: str, actor: str
) -> PendingChange:
    """The option ends at the next renewal (a pending change, cancellable until then)."""
    line = session.get(Service, line_id)
    option = session.scalar(
        select(Service).where(
            Service.parent_service_id == line_id,
            Service.offer_code == option_code,
            Service.state.in_(rules.LIVE_STATES),
        )
    )
    if line is None or option is None:
        raise errors.ServiceNotFound()
    return _new_change(
        session,
        platform,
        option,
        line.billing_group_id,
        rules.CHANGE_TERMINATION,
        actor,
        reason="option_removed",
    )


def lock_group(session: Session, group_id: str) -> None:
    """Holds the billing group's row until the transaction ends: two changes that read the whole
    group (forwards checked for loops) then never interleave."""
    session.get(BillingGroup, group_id, with_for_update=True)


def line_service_id(session: Session, account_id: str, group_id: str, number: str) -> str:
    return get_numbered_service(session, account_id, group_id, number, rules.LINE_KINDS).id
