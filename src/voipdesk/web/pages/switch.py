"""Back-office page of the switch: calls in progress, the latest calls, and what the switch did
against addresses (failed authentications, bans, floods)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.platform import Platform
from voipdesk.switch import services
from voipdesk.web.auth import require_staff
from voipdesk.web.rendering import render

router = APIRouter()

SECURITY_LABELS = {
    "auth_failed": N_("Failed authentication"),
    "banned": N_("Address banned"),
    "flood": N_("Flood dropped"),
    "refused": N_("Refused"),
}


@router.get("/backoffice/switch", response_class=HTMLResponse)
def switch_page(
    request: Request,
    staff: Account = Depends(require_staff),
    platform: Platform = Depends(get_platform),
) -> HTMLResponse:
    with platform.session() as session:
        context = {
            "in_progress": services.calls_in_progress_count(session),
            "calls": services.latest_calls(session),
            "events": services.security_events(session),
        }
    language = request_language(request)
    context["security_labels"] = {
        kind: gettext(language, label) for kind, label in SECURITY_LABELS.items()
    }
    return render(request, "switch/overview.html", context)
