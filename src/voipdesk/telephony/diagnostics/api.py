"""REST API of a line's diagnostics ("my phone does not ring")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.platform import Platform
from voipdesk.telephony.api.schemas import path_number
from voipdesk.telephony.diagnostics import queries

router = APIRouter(tags=["telephony"])


class FindingOut(BaseModel):
    code: str = Field(description="stable: registered, never_registered, do_not_disturb, ...")
    severity: Literal["problem", "warning", "info", "ok"]
    text: str
    what_to_do: str | None


class RegistrationOut(BaseModel):
    registered_at: datetime
    expires_at: datetime
    unregistration: bool
    ip: str
    port: int
    transport: str
    user_agent: str | None


class DiagnosticsOut(BaseModel):
    number: str
    registered: bool
    checked_at: datetime
    findings: list[FindingOut] = Field(description="most serious first, each with what to do")
    registrations: list[RegistrationOut] = Field(description="the last ones, newest first")


@router.get("/telephony/{group}/lines/{number}/diagnostics", response_model=DiagnosticsOut)
def get_line_diagnostics(
    request: Request,
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> DiagnosticsOut:
    """Is a phone registered (when, from where, which device), is a forward or do-not-disturb
    on, are outgoing calls blocked, is the spending cap reached, is the line suspended."""
    language = request_language(request)
    with platform.session() as session:
        found = queries.diagnose_line(session, platform, account.id, group, path_number(number))
    timezone = platform.settings.timezone
    return DiagnosticsOut(
        number=found.number,
        registered=found.registered,
        checked_at=found.checked_at,
        findings=[FindingOut(**queries.present(f, language, timezone)) for f in found.findings],
        registrations=[
            RegistrationOut(
                registered_at=r.registered_at,
                expires_at=r.expires_at,
                unregistration=r.is_unregistration,
                ip=r.ip,
                port=r.port,
                transport=r.transport,
                user_agent=r.user_agent,
            )
            for r in found.registrations
        ],
    )
