"""What other areas ask the telephony area to do: plain functions, no ORM objects crossing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.subscriptions import services as subscriptions
from voipdesk.telephony.actions import routing
from voipdesk.telephony.actions.star_codes import StarCodeOutcome
from voipdesk.telephony.actions.star_codes import apply_star_code as _apply_star_code
from voipdesk.telephony.models import SpendingCapState


def set_spending_cap_reached(
    session: Session, platform: Platform, billing_group_id: str, reached: bool
) -> bool:
    """The consumption area says whether the group's spending cap is reached: the routing records
    of the group's lines are rebuilt at once (in the caller's transaction) when it changes.
    Returns whether it changed."""
    row = session.get(SpendingCapState, billing_group_id, with_for_update=True)
    if row is None:
        if not reached:
            return False
        session.add(
            SpendingCapState(
                billing_group_id=billing_group_id, reached=True, updated_at=platform.now()
            )
        )
    elif row.reached == reached:
        return False
    else:
        row.reached = reached
        row.updated_at = platform.now()
    session.flush()
    ids = [f.service_id for f in subscriptions.group_service_facts(session, billing_group_id)]
    routing.rebuild(session, platform, ids)
    return True


def spending_cap_reached(session: Session, billing_group_id: str) -> bool:
    row = session.get(SpendingCapState, billing_group_id)
    return bool(row is not None and row.reached)


def apply_star_code(
    session: Session, platform: Platform, sip_username: str, dialled: str
) -> StarCodeOutcome:
    """A star code dialled by a line's phone (the switch asks), through the pages' use case."""
    return _apply_star_code(session, platform, sip_username, dialled)
