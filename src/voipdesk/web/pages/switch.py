"""Back-office pages of the switch: the calls in progress and what the switch did against
addresses (failed authentications, bans, floods), and the latest calls; both lists sort by their
headers, filter and page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import or_, select

from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.platform import Platform
from voipdesk.switch import services
from voipdesk.switch.models import CallRecord, SecurityEvent
from voipdesk.web.auth import require_staff
from voipdesk.web.listing import contains, sort_and_page_query
from voipdesk.web.rendering import render

router = APIRouter()

SECURITY_LABELS = {
    "auth_failed": N_("Failed authentication"),
    "banned": N_("Address banned"),
    "flood": N_("Flood dropped"),
    "refused": N_("Refused"),
}
# The sorts of the two lists ("-key" is descending); the newest first by default.
EVENT_SORTS: dict[str, Any] = {
    "when": SecurityEvent.at,
    "kind": SecurityEvent.kind,
    "address": SecurityEvent.ip,
    "user": SecurityEvent.sip_username,
}
CALL_SORTS: dict[str, Any] = {
    "start": CallRecord.started_at,
    "caller": CallRecord.caller,
    "called": CallRecord.callee,
    "outcome": CallRecord.sip_code,
    "duration": CallRecord.duration_seconds,
}
# Equal values keep the order of the time, then of the identity.
EVENT_TIES = (SecurityEvent.at, SecurityEvent.id)
CALL_TIES = (CallRecord.started_at, CallRecord.call_key)
PAGE_SIZE = 25


@router.get("/backoffice/switch", response_class=HTMLResponse)
def switch_page(
    request: Request,
    kind: str = "",
    q: str = "",
    sort: str = "",
    cursor: str | None = None,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> HTMLResponse:
    """The security events, newest first; by kind, and by address or SIP user (a part of it)."""
    query = select(SecurityEvent)
    if kind in SECURITY_LABELS:
        query = query.where(SecurityEvent.kind == kind)
    text = q.strip()
    if text:
        query = query.where(
            or_(
                contains(SecurityEvent.ip, text),
                contains(SecurityEvent.sip_username, text),
            )
        )
    with platform.session() as session:
        page = sort_and_page_query(
            session, query, EVENT_SORTS, sort, cursor, EVENT_TIES, PAGE_SIZE, "-when"
        )
        in_progress = services.calls_in_progress_count(session)
    language = request_language(request)
    labels = {kind: gettext(language, label) for kind, label in SECURITY_LABELS.items()}
    context = {
        "section": "events",
        "in_progress": in_progress,
        "events": page.rows,
        "sort": page.sort,
        "next_cursor": page.next_cursor,
        "kind": kind if kind in SECURITY_LABELS else "",
        "q": text,
        "security_labels": labels,
        "kinds": [("", gettext(language, "All events")), *labels.items()],
    }
    return render(request, "switch/overview.html", context)


@router.get("/backoffice/switch/calls", response_class=HTMLResponse)
def switch_calls_page(
    request: Request,
    q: str = "",
    sort: str = "",
    cursor: str | None = None,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> HTMLResponse:
    """The latest calls, newest first; only those whose caller or called number holds `q`."""
    query = select(CallRecord)
    text = q.strip()
    if text:
        query = query.where(
            or_(
                contains(CallRecord.caller, text),
                contains(CallRecord.callee, text),
            )
        )
    with platform.session() as session:
        page = sort_and_page_query(
            session, query, CALL_SORTS, sort, cursor, CALL_TIES, PAGE_SIZE, "-start"
        )
        in_progress = services.calls_in_progress_count(session)
    context = {
        "section": "calls",
        "in_progress": in_progress,
        "calls": page.rows,
        "sort": page.sort,
        "next_cursor": page.next_cursor,
        "q": text,
    }
    return render(request, "switch/calls.html", context)
