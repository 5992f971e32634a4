"""Closing the account from the customer space: the page lists what still blocks it (each reason
with a link to the page that resolves it), else asks for the password and e-mails a confirmation
link; following that link (logged in or not) shows the consequence once more and closes the
account for good. Every rule lives in `voipdesk.accounts.actions`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from voipdesk.accounts import actions
from voipdesk.accounts.errors import ClosureRefused
from voipdesk.accounts.models import Account
from voipdesk.core.errors import DomainError
from voipdesk.core.http import client_ip, get_platform
from voipdesk.core.i18n import gettext
from voipdesk.core.platform import Platform
from voipdesk.web.auth import require_account
from voipdesk.web.rendering import form_errors, page_language, render
from voipdesk.web.sessions import close_session

router = APIRouter()


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@router.get("/closure")
async def closure_page(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    reasons = actions.closure_reasons(platform, account.id, page_language(request))
    return render(request, "accounts/closure.html", {"reasons": reasons, "errors": {}})


@router.post("/closure")
async def ask_closure(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = page_language(request)
    form = await _form(request)
    try:
        asked = actions.request_closure(
            platform,
            account.id,
            form.get("password", ""),
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
    except ClosureRefused:
        reasons = actions.closure_reasons(platform, account.id, language)
        return render(
            request, "accounts/closure.html", {"reasons": reasons, "errors": {}}, status=409
        )
    except DomainError as error:
        return render(
            request,
            "accounts/closure.html",
            {
                "reasons": [],
                "errors": form_errors(error, language),
                "error_message": error.detail(language),
            },
            status=error.status,
        )
    return render(request, "accounts/closure.html", {"reasons": [], "asked": asked, "errors": {}})


@router.get("/closure/{token}")
async def closure_confirm_page(
    token: str, request: Request, platform: Platform = Depends(get_platform)
) -> Response:
    account = actions.check_closure_token(platform, token)
    return render(request, "accounts/closure_confirm.html", {"account": account, "token": token})


@router.post("/closure/{token}")
async def closure_confirm(
    token: str, request: Request, platform: Platform = Depends(get_platform)
) -> Response:
    language = page_language(request)
    try:
        account = actions.confirm_closure(platform, token)
    except ClosureRefused:
        account = actions.check_closure_token(platform, token)
        reasons = actions.closure_reasons(platform, account.id, language)
        return render(
            request,
            "accounts/closure_confirm.html",
            {"account": account, "token": token, "reasons": reasons},
            status=409,
        )
    response = render(
        request,
        "accounts/closure_confirm.html",
        {
            "closed": True,
            "message": gettext(
                language,
                "The account %(handle)s is closed and your personal data erased.",
                handle=account.handle,
            ),
        },
    )
    close_session(request, response)
    return response
