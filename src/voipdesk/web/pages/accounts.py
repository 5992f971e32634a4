"""Accounts pages: sign-up, login (with 2FA), dashboard, profile, service e-mails, password
reset and the language switch (the security pages are in `account_security`). Every rule lives
in `voipdesk.accounts.actions`; a DomainError it raises is shown on the form, next to the fields
it names, and changes nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from voipdesk.accounts import actions
from voipdesk.accounts.errors import WeakPassword
from voipdesk.accounts.models import Account
from voipdesk.accounts.rules import check_password
from voipdesk.core.errors import DomainError, InvalidInput
from voipdesk.core.http import LANGUAGE_COOKIE, client_ip, get_platform
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.platform import Platform
from voipdesk.web.auth import require_account
from voipdesk.web.rendering import (
    form_errors,
    page_language,
    phone,
    redirect,
    render,
    render_fragment,
    safe_next,
)
from voipdesk.web.sessions import close_session, device_id, load_session, open_session

router = APIRouter()

PASSWORDS_DIFFER = N_("The two passwords are different.")
ACCEPTANCE_RULES = {
    "terms": N_("Accept the terms of service to create an account."),
    "privacy": N_("Accept the privacy notice to create an account."),
}
CHOOSE_AN_OPTION = N_("Choose one of the options.")

PROFILE_FORM_FIELDS = actions.PROFILE_FIELDS
# Left empty, these reach the action as "" so that it names them; optional ones become None.
_REQUIRED_SIGN_UP = {
    name for name, field in actions.SignUpData.model_fields.items() if field.is_required()
}


def _user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _error_context(error: DomainError, language: str) -> dict[str, Any]:
    return {"error_message": error.detail(language), "errors": form_errors(error, language)}


def _pydantic_errors(error: ValidationError, language: str) -> DomainError:
    """Turns a form the schema refuses (an unknown choice) into field errors naming the rule."""
    fields = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item.get("loc") else "form"
        fields[name] = (
            CHOOSE_AN_OPTION if item.get("type") == "literal_error" else InvalidInput.message
        )
    return InvalidInput(fields=fields)


# --- language switch --------------------------------------------------------------------------
@router.post("/language")
async def switch_language(request: Request, platform: Platform = Depends(get_platform)) -> Response:
    form = await _form(request)
    language = form.get("language", "")
    target = safe_next(form.get("next"))
    if language not in ("fr", "en"):
        return redirect(request, target)
    # The page language only: the account's e-mail language stays as the profile sets it.
    response = redirect(request, target)
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=400 * 86400,
        path="/",
        secure=platform.settings.cookie_secure,
        samesite="lax",
    )
    return response


# --- sign-up ----------------------------------------------------------------------------------
@router.get("/signup")
async def signup_form(request: Request) -> Response:
    current = load_session(request)
    if current is not None and not current.pending_second_factor:
        return redirect(request, "/")
    return render(request, "accounts/signup.html", {"values": {}, "errors": {}})


@router.post("/signup")
async def signup(request: Request, platform: Platform = Depends(get_platform)) -> Response:
    language = page_language(request)
    form = await _form(request)
    values = {name: form.get(name, "") for name in (*PROFILE_FORM_FIELDS, "password")}
    data_values: dict[str, Any] = {
        name: (value if value != "" or name in _REQUIRED_SIGN_UP else None)
        for name, value in values.items()
    }
    accepted = tuple(name for name in ("terms", "privacy") if form.get(f"accept_{name}"))
    try:
        try:
            data = actions.SignUpData(**data_values)
        except ValidationError as error:
            raise _pydantic_errors(error, language) from None
        missing = {
            f"accept_{name}": rule
            for name, rule in ACCEPTANCE_RULES.items()
            if name not in accepted
        }
        if missing:
            raise InvalidInput(fields=missing)
        account = actions.sign_up(
            platform,
            data,
            ip=client_ip(request),
            user_agent=_user_agent(request),
            device_id=device_id(request),
            accepted=accepted,
        )
    except DomainError as error:
        values.pop("password", None)
        values.update({f"accept_{name}": "true" for name in accepted})
        return render(
            request,
            "accounts/signup.html",
            {"values": values, **_error_context(error, language)},
            status=error.status,
        )
    response = redirect(
        request,
        "/",
        gettext(
            account.language,
            "Welcome! Your account is ready; your customer handle is %(handle)s.",
            handle=account.handle,
        ),
    )
    open_session(request, response, account.id)
    return response


@router.post("/password-strength")
async def password_strength(request: Request) -> Response:
    """The live hint under a new password (htmx): the same rule sign-up applies."""
    form = await _form(request)
    password = form.get("password", "")
    verdict = (
        check_password(
            password, [form.get(name, "") for name in ("email", "first_name", "last_name")]
        )
        if password
        else None
    )
    reason = ""
    if verdict is not None and not verdict.accepted:
        reason = WeakPassword.from_verdict(verdict).reason_text(page_language(request))
    return Response(
        render_fragment(
            request, "accounts/_password_strength.html", {"verdict": verdict, "reason": reason}
        ),
        media_type="text/html",
    )


# --- login ------------------------------------------------------------------------------------
@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    current = load_session(request)
    if current is not None and not current.pending_second_factor:
        return redirect(request, safe_next(next))
    return render(request, "accounts/login.html", {"next": safe_next(next), "identifier": ""})


@router.post("/login")
async def login(request: Request, platform: Platform = Depends(get_platform)) -> Response:
    form = await _form(request)
    target = safe_next(form.get("next"))
    identifier = form.get("identifier", "")
    try:
        account = actions.check_credentials(
            platform,
            identifier,
            form.get("password", ""),
            ip=client_ip(request),
            user_agent=_user_agent(request),
        )
    except DomainError as error:
        language = page_language(request)
        headers = {}
        if "retry_after" in error.extra:
            headers["Retry-After"] = str(error.extra["retry_after"])
        return render(
            request,
            "accounts/login.html",
            {"next": target, "identifier": identifier, "error_message": error.detail(language)},
            status=error.status,
            headers=headers,
        )
    if account.totp_enabled:
        response = redirect(request, "/login/2fa?next=" + quote(target, safe="/"))
        open_session(request, response, account.id, pending_second_factor=True)
        return response
    return _complete_login(request, platform, account, target)


def _complete_login(
    request: Request, platform: Platform, account: Account, target: str
) -> Response:
    actions.record_login(
        platform,
        account.id,
        ip=client_ip(request),
        user_agent=_user_agent(request),
        device_id=device_id(request),
    )
    response = redirect(request, target)
    open_session(request, response, account.id)
    return response


@router.get("/login/2fa")
async def second_factor_form(request: Request, next: str = "/") -> Response:
    current = load_session(request)
    if current is None:
        return redirect(request, "/login")
    if not current.pending_second_factor:
        return redirect(request, safe_next(next))
    return render(request, "accounts/login_2fa.html", {"next": safe_next(next)})


@router.post("/login/2fa")
async def second_factor(request: Request, platform: Platform = Depends(get_platform)) -> Response:
    form = await _form(request)
    target = safe_next(form.get("next"))
    current = load_session(request)
    if current is None:
        return redirect(request, "/login")
    if not current.pending_second_factor:
        return redirect(request, target)
    try:
        actions.verify_second_factor(
            platform,
            current.account.id,
            form.get("code", ""),
            ip=client_ip(request),
            user_agent=_user_agent(request),
        )
    except DomainError as error:
        return render(
            request,
            "accounts/login_2fa.html",
            {"next": target, "error_message": error.detail(page_language(request))},
            status=error.status,
        )
    return _complete_login(request, platform, current.account, target)


@router.post("/logout")
async def logout(request: Request) -> Response:
    language = page_language(request)
    response = redirect(request, "/login", gettext(language, "You are logged out."))
    close_session(request, response)
    return response


# --- dashboard --------------------------------------------------------------------------------
@router.get("/")
async def dashboard(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    from voipdesk.web.dashboard import customer_dashboard

    if account.is_staff:
        from voipdesk.web.pages.backoffice import staff_home

        return staff_home(request, platform)
    emails = actions.list_service_emails(platform, account.id, limit=3).items
    return render(
        request,
        "accounts/dashboard.html",
        {
            "emails": emails,
            "service_count": _service_count(platform, account.id),
            "board": customer_dashboard(platform, account),
        },
    )


def _service_count(platform: Platform, account_id: str) -> int:
    """Services the customer has (the subscriptions area's table, read only)."""
    try:
        from voipdesk.subscriptions.models import Service
    except ImportError:  # pragma: no cover - the area is optional
        return 0
    with platform.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Service)
                .where(Service.account_id == account_id, Service.deleted_at.is_(None))
            )
            or 0
        )


# --- profile ----------------------------------------------------------------------------------
def _profile_values(account: Account) -> dict[str, Any]:
    values = {name: getattr(account, name) or "" for name in PROFILE_FORM_FIELDS}
    # International format: readable, and unambiguous whatever the account's country.
    values["mobile"] = phone(account.mobile, "international")
    return values


@router.get("/profile")
async def profile_form(request: Request, account: Account = Depends(require_account)) -> Response:
    return render(
        request, "accounts/profile.html", {"values": _profile_values(account), "errors": {}}
    )


@router.post("/profile")
async def profile(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    language = page_language(request)
    form = await _form(request)
    values = {name: form.get(name, "") for name in PROFILE_FORM_FIELDS}
    try:
        try:
            changes = actions.ProfileUpdate(
                **{name: value or None for name, value in values.items()}
            )
        except ValidationError as error:
            raise _pydantic_errors(error, language) from None
        updated = actions.update_profile(
            platform, account.id, changes, ip=client_ip(request), user_agent=_user_agent(request)
        )
    except DomainError as error:
        return render(
            request,
            "accounts/profile.html",
            {"values": values, **_error_context(error, language)},
            status=error.status,
        )
    return redirect(request, "/profile", gettext(updated.language, "Your profile was saved."))


# --- service e-mails --------------------------------------------------------------------------
@router.get("/service-emails")
async def service_emails(
    request: Request,
    cursor: str | None = None,
    q: str = "",
    sort: str = "",
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    page = actions.list_service_emails(
        platform, account.id, limit=25, cursor=cursor, subject=q, sort=sort or None
    )
    return render(
        request,
        "accounts/service_emails.html",
        {"emails": page.items, "next_cursor": page.next_cursor, "sort": sort},
    )


@router.get("/service-emails/{email_id}")
async def service_email(
    email_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    email = actions.get_service_email(platform, account.id, email_id)
    # Links open outside the sandboxed frame; nothing in it can run or reach this page.
    srcdoc = (
        '<!doctype html><meta charset="utf-8"><base target="_blank">'
        '<link rel="stylesheet" href="/static/email-frame.css">' + email.body_html
    )
    return render(
        request,
        "accounts/service_email.html",
        {"email": email, "srcdoc": srcdoc, "email_language": email.language},
    )


@router.get("/service-emails/{email_id}/attachments/{number}")
async def service_email_attachment(
    email_id: str,
    number: int,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    attachment = actions.get_email_attachment(platform, account.id, email_id, number)
    return Response(
        attachment.data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# --- password reset ---------------------------------------------------------------------------
@router.get("/password-reset")
async def password_reset_form(request: Request) -> Response:
    return render(request, "accounts/password_reset_request.html", {"identifier": ""})


@router.post("/password-reset")
async def password_reset(request: Request, platform: Platform = Depends(get_platform)) -> Response:
    form = await _form(request)
    try:
        actions.request_password_reset(platform, form.get("identifier", ""), ip=client_ip(request))
    except DomainError as error:
        return render(
            request,
            "accounts/password_reset_request.html",
            {
                "identifier": form.get("identifier", ""),
                "error_message": error.detail(page_language(request)),
            },
            status=error.status,
        )
    return render(request, "accounts/password_reset_request.html", {"sent": True})


@router.get("/password-reset/{token}")
async def new_password_form(
    token: str, request: Request, platform: Platform = Depends(get_platform)
) -> Response:
    account = actions.check_reset_token(platform, token)
    return render(
        request,
        "accounts/password_reset_form.html",
        {"account": account, "token": token, "errors": {}},
    )


@router.post("/password-reset/{token}")
async def new_password(
    token: str, request: Request, platform: Platform = Depends(get_platform)
) -> Response:
    account = actions.check_reset_token(platform, token)
    form = await _form(request)
    language = page_language(request)
    try:
        if form.get("new_password", "") != form.get("new_password_confirm", ""):
            raise InvalidInput(fields={"new_password_confirm": PASSWORDS_DIFFER})
        account = actions.reset_password(
            platform, token, form.get("new_password", ""), ip=client_ip(request)
        )
    except WeakPassword as error:
        renamed = WeakPassword(
            error.reason, error.reason_values, error.warning, field="new_password"
        )
        return render(
            request,
            "accounts/password_reset_form.html",
            {"account": account, "token": token, **_error_context(renamed, language)},
            status=error.status,
        )
    except InvalidInput as error:
        return render(
            request,
            "accounts/password_reset_form.html",
            {"account": account, "token": token, **_error_context(error, language)},
            status=error.status,
        )
    return redirect(
        request,
        "/login",
        gettext(account.language, "Your new password is saved. You can log in with it."),
    )
