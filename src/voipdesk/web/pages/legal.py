"""The terms of service and the privacy notice that sign-up asks to accept (an operator may
point `VOIPDESK_TERMS_URL` / `VOIPDESK_PRIVACY_URL` at its own pages instead)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from voipdesk.core.http import request_language
from voipdesk.core.i18n import N_, gettext
from voipdesk.web.rendering import render

router = APIRouter()

DOCUMENTS = {
    "terms": (
        N_("Terms of service"),
        [
            N_("Services start once their purchase order is paid."),
            N_("A first order of VoIP services also waits for the validation of the account."),
            N_("Services renew on the 1st of each month and are invoiced then."),
            N_("Changes you plan apply at that renewal; you can cancel them until then."),
            N_("A termination takes effect at the next renewal."),
            N_("Lent hardware goes back within 15 days; its deposit is refunded 10 days later."),
        ],
    ),
    "privacy": (
        N_("Privacy notice"),
        [
            N_("We keep the details you give to provide and invoice your services."),
            N_("Every e-mail we send you is kept in your customer space."),
            N_("Your security log records logins and security changes, with address and browser."),
            N_("You can read and correct your details in your profile."),
            N_("You can close your account once nothing is active, unpaid or in progress."),
        ],
    ),
}


@router.get("/legal/{name}", response_class=HTMLResponse)
def legal_page(name: str, request: Request) -> Response:
    from voipdesk.core.errors import NotFound

    if name not in DOCUMENTS:
        raise NotFound()
    language = request_language(request)
    title, paragraphs = DOCUMENTS[name]
    return render(
        request,
        "legal/document.html",
        {
            "title": gettext(language, title),
            "paragraphs": [gettext(language, text) for text in paragraphs],
        },
    )
