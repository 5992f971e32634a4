"""The switch's HTTP side: star codes applied for Kamailio (authenticated by the switch token),
and what staff read of the switch (security events)."""

from __future__ import annotations

import hmac
from datetime import datetime

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel

from voipdesk.accounts.api_auth import current_staff
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform
from voipdesk.core.platform import Platform
from voipdesk.switch import errors, services
from voipdesk.switch.config import switch_token
from voipdesk.telephony import services as telephony

router = APIRouter(tags=["switch"])


class StarCodeRequest(BaseModel):
    sip_user: str
    dialled: str


class StarCodeAnswer(BaseModel):
    action: str
    condition: str | None
    number: str | None
    summary: str


class SecurityEventOut(BaseModel):
    at: datetime
    kind: str
    ip: str
    sip_username: str | None
    detail: str | None


def _switch_only(
    platform: Platform = Depends(get_platform), authorization: str = Header(default="")
) -> Platform:
    expected = f"Bearer {switch_token(platform.settings)}"
    if not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise errors.NotTheSwitch()
    return platform


@router.post("/switch/star-codes", response_model=StarCodeAnswer, include_in_schema=False)
def apply_star_code(
    body: StarCodeRequest, platform: Platform = Depends(_switch_only)
) -> StarCodeAnswer:
    """What a line's phone dialled (*21*N#, #21#, *26#, ...), applied as the pages do."""
    with platform.transaction() as session:
        outcome = telephony.apply_star_code(session, platform, body.sip_user, body.dialled)
    parts = [outcome.action.replace("_", " ")]
    if outcome.condition:
        parts.append(outcome.condition.replace("_", " "))
    if outcome.number:
        parts.append(f"to {outcome.number}")
    return StarCodeAnswer(
        action=outcome.action,
        condition=outcome.condition,
        number=outcome.number,
        summary=" ".join(parts),
    )


@router.get("/switch/security-events", response_model=list[SecurityEventOut])
def list_switch_security_events(
    limit: int = 100,
    _staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> list[SecurityEventOut]:
    """The switch's latest failed authentications, bans and floods (staff)."""
    with platform.session() as session:
        events = services.security_events(session, min(max(limit, 1), 500))
    return [SecurityEventOut.model_validate(event, from_attributes=True) for event in events]
