"""The e-mail verification link and its "send it again" button."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from voipdesk.accounts import actions
from voipdesk.accounts.models import Account
from voipdesk.core.http import client_ip, get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.platform import Platform
from voipdesk.web.auth import optional_account, require_account
from voipdesk.web.rendering import redirect, safe_next

router = APIRouter()


@router.get("/verify-email/{account_id}/{token}")
def verify_email_page(
    account_id: str,
    token: str,
    request: Request,
    platform: Platform = Depends(get_platform),
) -> Response:
    actions.verify_email(platform, account_id, token, ip=client_ip(request))
    target = "/" if optional_account(request) is not None else "/login"
    return redirect(
        request,
        target,
        gettext(request_language(request), "Your e-mail address is confirmed. Thank you!"),
    )


@router.post("/verify-email/resend")
def resend_verification_page(
    request: Request,
    next: str = Form("/"),
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    actions.send_verification_link(platform, account.id)
    return redirect(
        request,
        safe_next(next),
        gettext(
            request_language(request),
            "We sent the link again to %(email)s.",
            email=account.email,
        ),
    )
