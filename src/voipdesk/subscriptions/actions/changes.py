"""The service history and pending changes: recording, creating, cancelling them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.core.db import new_id
from voipdesk.core.platform import Platform
from voipdesk.subscriptions import errors, rules
from voipdesk.subscriptions.actions.reading import (
    get_group,
    get_numbered_service,
    pending_changes,
)
from voipdesk.subscriptions.models import (
    PendingChange,
    Service,
    ServiceEvent,
)


# Recording
# --------------------------------------------------------------------------------------------------
def record(
    session: Session,
    platform: Platform,
    group_id: str,
    service_id: str | None,
    actor: str,
    what: str,
) -> None:
    session.add(
        ServiceEvent(
            billing_group_id=group_id,
            service_id=service_id,
            at=platform.now(),
            actor=actor,
            what=what[:200],
        )
    )


def _effective_on(platform: Platform) -> date:
    return rules.effective_on(platform.now(), platform.settings.timezone)


def _check_live(service: Service) -> None:
    if service.state not in rules.LIVE_STATES:
        raise errors.ServiceNotLive(state=service.state)


def _new_change(
    session: Session,
    platform: Platform,
    service: Service | None,
    group_id: str,
    kind: str,
    actor: str,
    **values: object,
) -> PendingChange:
    """Stores a pending change; a newer exclusive change of the same service replaces the older."""
    now = platform.now()
    if service is not None:
        replaced_kinds = rules.EXCLUSIVE_CHANGES if kind in rules.EXCLUSIVE_CHANGES else {kind}
        for older in session.scalars(
            select(PendingChange).where(
                PendingChange.service_id == service.id,
                PendingChange.state == rules.PENDING,
                PendingChange.kind.in_(replaced_kinds),
            )
        ):
            older.state = rules.CANCELLED
            older.cancelled_at = now
    change = PendingChange(
        id=new_id(),
        billing_group_id=group_id,
        service_id=service.id if service is not None else None,
        kind=kind,
        effective_on=_effective_on(platform),
        state=rules.PENDING,
        requested_at=now,
        requested_by=actor,
        params={},
        **values,
    )
    session.add(change)
    record(session, platform, group_id, change.service_id, actor, f"requested {kind}")
    session.flush()
    return change


def cancel_pending_change(
    session: Session, platform: Platform, account_id: str, group_id: str, change_id: str
) -> PendingChange:
    """Cancels a change that has not applied yet. Cancelling twice is harmless."""
    group = get_group(session, account_id, group_id)
    change = session.get(PendingChange, change_id, with_for_update=True)
    if change is None or change.billing_group_id != group.id:
        raise errors.PendingChangeNotFound()
    if change.state == rules.PENDING:
        change.state = rules.CANCELLED
        change.cancelled_at = platform.now()
        record(
            session,
            platform,
            group.id,
            change.service_id,
            f"account:{account_id}",
            f"cancelled {change.kind}",
        )
    elif change.state == rules.APPLIED:
        raise errors.ServiceNotLive(state="applied")
    return change


def cancel_service_change(
    session: Session,
    platform: Platform,
    account_id: str,
    group_id: str,
    number: str,
    kinds: tuple[str, ...],
    service_kinds: tuple[str, ...],
) -> list[PendingChange]:
    """Cancels the pending change(s) of these kinds on one line or number (nothing pending: ok)."""
    service = get_numbered_service(session, account_id, group_id, number, service_kinds)
    cancelled = []
    for change in pending_changes(session, group_id, service.id):
        if change.kind in kinds:
            cancelled.append(
                cancel_pending_change(session, platform, account_id, group_id, change.id)
            )
    return cancelled


# --------------------------------------------------------------------------------------------------
