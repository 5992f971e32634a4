"""Questions other areas ask about services (plain dataclasses, never ORM objects)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.subscriptions import rules
from voipdesk.subscriptions.actions import reading
from voipdesk.subscriptions.services import has_auto_renewing_services, live_services_count

__all__ = [
    "GroupLines",
    "GroupView",
    "LinePlan",
    "ServiceView",
    "account_group",
    "ended_line_numbers",
    "group_by_id",
    "group_line_numbers",
    "group_services",
    "has_auto_renewing_services",
    "live_alias_ids",
    "live_line_by_number",
    "live_line_plans",
    "live_services_count",
    "numbered_service",
    "numbers_by_group",
]


@dataclass(frozen=True)
class GroupView:
    id: str
    name: str
    account_id: str
    tax_country: str


@dataclass(frozen=True)
class ServiceView:
    id: str
    billing_group_id: str
    kind: str  # rules.KIND_*
    number: str
    offer_code: str
    state: str

    @property
    def is_line(self) -> bool:
        return self.kind in rules.LINE_KINDS


def _group_view(group) -> GroupView:  # type: ignore[no-untyped-def]
    return GroupView(group.id, group.name, group.account_id, group.tax_country)


def _service_view(service) -> ServiceView:  # type: ignore[no-untyped-def]
    return ServiceView(
        service.id,
        service.billing_group_id,
        service.kind,
        service.number_e164 or "",
        service.offer_code,
        service.state,
    )


def account_group(session: Session, account_id: str, group_id: str) -> GroupView:
    """The account's billing group; `errors.BillingGroupNotFound` (404) for anyone else's."""
    return _group_view(reading.get_group(session, account_id, group_id))


def group_by_id(session: Session, group_id: str) -> GroupView | None:
    from voipdesk.subscriptions.models import BillingGroup

    group = session.get(BillingGroup, group_id)
    return _group_view(group) if group is not None else None


def group_services(
    session: Session, group_id: str, kinds: tuple[str, ...] | None = None
) -> list[ServiceView]:
    """The group's live services (of these kinds), by number."""
    return [_service_view(s) for s in reading.group_services(session, group_id, kinds)]


def numbered_service(
    session: Session, account_id: str, group_id: str, number: str, kinds: tuple[str, ...]
) -> ServiceView:
    """A live service of the account's group by its number; 404 errors otherwise."""
    return _service_view(reading.get_numbered_service(session, account_id, group_id, number, kinds))


def live_line_by_number(session: Session, number: str) -> ServiceView | None:
    """The live SIP line or trunk with this number, whoever owns it (the switch's question)."""
    from voipdesk.subscriptions.models import Service

    service = session.scalar(
        select(Service).where(
            Service.number_e164 == number,
            Service.kind.in_(rules.LINE_KINDS),
            Service.state.in_(rules.LIVE_STATES),
        )
    )
    return _service_view(service) if service is not None else None


def live_alias_ids(session: Session, service_ids: list[str]) -> set[str]:
    """Which of these services are still live alias numbers (not terminated, deleted nor
    converted to a line)."""
    from voipdesk.subscriptions.models import Service

    found: set[str] = set()
    for start in range(0, len(service_ids), 500):
        found.update(
            session.scalars(
                select(Service.id).where(
                    Service.id.in_(service_ids[start : start + 500]),
                    Service.kind == rules.KIND_ALIAS_NUMBER,
                    Service.state.in_(rules.LIVE_STATES),
                )
            )
        )
    return found


@dataclass(frozen=True)
class LinePlan:
    """What prices a live line's calls: its offer and its live options' offer codes."""

    service_id: str
    billing_group_id: str
    offer_code: str
    options: tuple[str, ...]


def live_line_plans(session: Session, numbers: list[str]) -> dict[str, LinePlan]:
    """The live SIP lines and trunks with these numbers, with their options (the consumption
    area rates a month of calls of many lines at once): two statements per 1,000 numbers."""
    from voipdesk.subscriptions.models import Service

    found: dict[str, LinePlan] = {}
    for start in range(0, len(numbers), 1000):
        chunk = numbers[start : start + 1000]
        lines = session.execute(
            select(
                Service.number_e164, Service.id, Service.billing_group_id, Service.offer_code
            ).where(
                Service.number_e164.in_(chunk),
                Service.kind.in_(rules.LINE_KINDS),
                Service.state.in_(rules.LIVE_STATES),
            )
        ).all()
        options: dict[str, list[str]] = {}
        for parent, code in session.execute(
            select(Service.parent_service_id, Service.offer_code).where(
                Service.parent_service_id.in_([line[1] for line in lines]),
                Service.kind == rules.KIND_OPTION,
                Service.state.in_(rules.LIVE_STATES),
            )
        ):
            options.setdefault(str(parent), []).append(code)
        for number, service_id, group_id, offer in lines:
            found[str(number)] = LinePlan(
                service_id, group_id, offer, tuple(sorted(options.get(service_id, [])))
            )
    return found


def ended_line_numbers(session: Session, group_id: str, numbers: set[str]) -> set[str]:
    """Which of these numbers were lines of the group that have ended (terminated or deleted)
    and are not a live line again."""
    from voipdesk.subscriptions.models import Service

    if not numbers:
        return set()
    rows = session.execute(
        select(Service.number_e164, Service.state).where(
            Service.billing_group_id == group_id,
            Service.kind.in_(rules.LINE_KINDS),
            Service.number_e164.in_(sorted(numbers)),
        )
    ).all()
    live = {number for number, state in rows if number and state in rules.LIVE_STATES}
    return {number for number, state in rows if number and state not in rules.LIVE_STATES} - live


def numbers_by_group(session: Session, service_ids: Iterable[str]) -> dict[str, set[str]]:
    """The numbers of these services (options excluded, whatever their state) by billing group:
    one statement per 500 services (the renewal hands over thousands at once)."""
    from voipdesk.subscriptions.models import Service

    ids = sorted(set(service_ids))
    found: dict[str, set[str]] = {}
    for start in range(0, len(ids), 500):
        for group_id, number in session.execute(
            select(Service.billing_group_id, Service.number_e164).where(
                Service.id.in_(ids[start : start + 500]), Service.kind != rules.KIND_OPTION
            )
        ):
            if number:
                found.setdefault(group_id, set()).add(number)
    return found


@dataclass(frozen=True)
class GroupLines:
    """A group's line numbers: `live` ones, and `ended` ones (terminated or deleted lines of the
    group whose number is not a live line of it again)."""

    live: frozenset[str]
    ended: frozenset[str]


def group_line_numbers(session: Session, group_ids: Iterable[str]) -> dict[str, GroupLines]:
    """`GroupLines` of these groups (every group asked for has an entry): one statement per 500
    groups, where `group_services` and `ended_line_numbers` ask per group."""
    from voipdesk.subscriptions.models import Service

    ids = sorted(set(group_ids))
    live: dict[str, set[str]] = {group_id: set() for group_id in ids}
    ended: dict[str, set[str]] = {group_id: set() for group_id in ids}
    for start in range(0, len(ids), 500):
        for group_id, number, state in session.execute(
            select(Service.billing_group_id, Service.number_e164, Service.state).where(
                Service.billing_group_id.in_(ids[start : start + 500]),
                Service.kind.in_(rules.LINE_KINDS),
            )
        ):
            if number:
                (live if state in rules.LIVE_STATES else ended)[group_id].add(number)
    return {
        group_id: GroupLines(frozenset(live[group_id]), frozenset(ended[group_id] - live[group_id]))
        for group_id in ids
    }
