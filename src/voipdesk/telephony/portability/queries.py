"""Reading portability requests: a group's and an account's (customer), every ongoing one
(staff)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.subscriptions import queries as subscriptions
from voipdesk.telephony.portability import errors, rules
from voipdesk.telephony.portability.actions import PortabilityView, view_of
from voipdesk.telephony.portability.models import Portability


def group_portabilities(
    session: Session, account_id: str, group_id: str, ongoing_only: bool = False
) -> list[PortabilityView]:
    group = subscriptions.account_group(session, account_id, group_id)
    query = select(Portability).where(Portability.billing_group_id == group.id)
    if ongoing_only:
        query = query.where(Portability.step.in_(rules.ONGOING_STEPS))
    rows = session.scalars(query.order_by(Portability.created_at.desc(), Portability.id))
    return [view_of(session, row) for row in rows]


def account_ongoing_portabilities(session: Session, account_id: str) -> list[PortabilityView]:
    """The account's requests still under way (a failed one too: it waits for the customer),
    newest first: for the dashboard."""
    rows = session.scalars(
        select(Portability)
        .where(Portability.account_id == account_id, Portability.step.in_(rules.ONGOING_STEPS))
        .order_by(Portability.created_at.desc(), Portability.id)
    )
    return [view_of(session, row) for row in rows]


def portability(
    session: Session, account_id: str, group_id: str, portability_id: str
) -> PortabilityView:
    group = subscriptions.account_group(session, account_id, group_id)
    row = session.get(Portability, portability_id)
    if row is None or row.billing_group_id != group.id:
        raise errors.PortabilityNotFound()
    return view_of(session, row)


def staff_portabilities(session: Session, step: str | None = None) -> list[PortabilityView]:
    """For the back office: the ongoing requests (or those at one step), oldest first."""
    query = select(Portability)
    if step:
        query = query.where(Portability.step == step)
    else:
        query = query.where(Portability.step.in_(rules.ONGOING_STEPS))
    rows = session.scalars(query.order_by(Portability.created_at, Portability.id))
    return [view_of(session, row) for row in rows]


def staff_portability(session: Session, portability_id: str) -> PortabilityView:
    row = session.get(Portability, portability_id)
    if row is None:
        raise errors.PortabilityNotFound()
    return view_of(session, row)
