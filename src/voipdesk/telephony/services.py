"""What other areas ask the telephony area to do: plain functions, no ORM objects crossing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from voipdesk.core.platform import Platform
from voipdesk.telephony.actions.star_codes import StarCodeOutcome
from voipdesk.telephony.actions.star_codes import apply_star_code as _apply_star_code


def apply_star_code(
    session: Session, platform: Platform, sip_username: str, dialled: str
) -> StarCodeOutcome:
    """A star code dialled by a line's phone (the switch asks), through the pages' use case."""
    return _apply_star_code(session, platform, sip_username, dialled)
