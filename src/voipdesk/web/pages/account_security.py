"""Security pages of the customer space: password change, two-factor authentication (start,
confirm, turn off), API tokens and the security log. Rules live in `voipdesk.accounts.actions`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response

from voipdesk.accounts import actions
from voipdesk.accounts.errors import WeakPassword
from voipdesk.accounts.models import Account, SecurityEvent
from voipdesk.accounts.rules import otpauth_uri
from voipdesk.core.errors import DomainError, InvalidInput
from voipdesk.core.http import client_ip, get_platform
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.platform import Platform
from voipdesk.web.auth import require_account
from voipdesk.web.pages.accounts import PASSWORDS_DIFFER, _error_context, _form, _user_agent
from voipdesk.web.rendering import page_language, redirect, render
from voipdesk.web.sessions import load_session

router = APIRouter()

DATE_INVALID = N_("This is not a valid date.")

SECURITY_EVENT_LABELS = {
    "sign_up": N_("Account created"),
    "terms_accepted": N_("Terms of service accepted"),
    "privacy_accepted": N_("Privacy notice accepted"),
    "email_verified": N_("E-mail address confirmed"),
    "login": N_("Logged in"),
    "login_failed": N_("Failed login (wrong password)"),
    "second_factor_failed": N_("Failed login (wrong two-factor code)"),
    "recovery_code_used": N_("Recovery code used"),
    "password_changed": N_("Password changed"),
    "password_reset_requested": N_("Password reset requested"),
    "password_reset": N_("Password reset"),
    "totp_enabled": N_("Two-factor authentication turned on"),
    "totp_disabled": N_("Two-factor authentication turned off"),
    "profile_updated": N_("Profile updated"),
    "api_token_created": N_("API token created"),
    "api_token_revoked": N_("API token revoked"),
}


# --- security ---------------------------------------------------------------------------------
# The security log's sorts ("-key" is descending): newest first by default, the event, the address.
LOG_SORTS = {"date": SecurityEvent.at, "event": SecurityEvent.kind, "ip": SecurityEvent.ip}
LOG_PAGE = 25


def _security_log(
    platform: Platform, account: Account, query: Any, labels: dict[str, str]
) -> dict[str, Any]:
    """The page of the security log the query asks for: `kind` (an event), `ip` (a part of the
    address), `sort` and `cursor` (sorted and cut in the database)."""
    from sqlalchemy import select

    from voipdesk.web.listing import contains, sort_and_page_query

    kind = query.get("kind", "")
    ip = query.get("ip", "").strip()[:64]
    statement = select(SecurityEvent).where(SecurityEvent.account_id == account.id)
    if kind in labels:
        statement = statement.where(SecurityEvent.kind == kind)
    if ip:
        statement = statement.where(contains(SecurityEvent.ip, ip))
    with platform.session() as session:
        page = sort_and_page_query(
            session,
            statement,
            LOG_SORTS,
            query.get("sort"),
            query.get("cursor"),
            (SecurityEvent.at, SecurityEvent.id),
            LOG_PAGE,
            "-date",
        )
        session.expunge_all()
    return {
        "events": page.rows,
        "sort": page.sort,
        "next_cursor": page.next_cursor,
        "log_filtered": kind in labels or bool(ip),
        "event_options": sorted(labels.items(), key=lambda item: item[1]),
    }


def _security_page(
    request: Request, platform: Platform, account: Account, status: int = 200, **context: Any
) -> Response:
    language = page_language(request)
    fresh = actions.get_profile(platform, account.id)
    request.state.web_session.account = fresh  # the page shows the state after this action
    labels = {kind: gettext(language, label) for kind, label in SECURITY_EVENT_LABELS.items()}
    values: dict[str, Any] = {
        "tokens": actions.list_api_tokens(platform, account.id),
        **_security_log(platform, account, request.query_params if status == 200 else {}, labels),
        "event_labels": labels,
        "recovery_left": actions.remaining_recovery_codes(platform, account.id)
        if fresh.totp_enabled
        else 0,
        "errors": {},
        "errors_for": None,
    }
    values.update(context)
    return render(request, "accounts/security.html", values, status=status)


def _security_error(
    request: Request,
    platform: Platform,
    account: Account,
    error: DomainError,
    section: str,
    **context: Any,
) -> Response:
    language = page_language(request)
    return _security_page(
        request,
        platform,
        account,
        status=error.status,
        errors_for=section,
        **_error_context(error, language),
        **context,
    )


@router.get("/security")
async def security(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    return _security_page(request, platform, account)


PASSWORD_CHANGED = N_("Your password was changed; your other sessions were logged out.")


@router.post("/security/password")
async def change_password(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    form = await _form(request)
    current = load_session(request)
    try:
        if form.get("new_password", "") != form.get("new_password_confirm", ""):
            raise InvalidInput(fields={"new_password_confirm": PASSWORDS_DIFFER})
        actions.change_password(
            platform,
            account.id,
            form.get("current_password", ""),
            form.get("new_password", ""),
            ip=client_ip(request),
            user_agent=_user_agent(request),
            keep_web_session=current.row.id if current is not None else None,
            revoke_tokens=form.get("revoke_tokens") == "yes",
        )
    except WeakPassword as error:
        renamed = WeakPassword(
            error.reason, error.reason_values, error.warning, field="new_password"
        )
        return _security_error(request, platform, account, renamed, "password")
    except DomainError as error:
        return _security_error(request, platform, account, error, "password")
    return redirect(
        request,
        "/security",
        gettext(
            account.language, "Your password was changed; your other sessions were logged out."
        ),
    )


@router.post("/security/totp/start")
async def totp_start(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    try:
        enrolment = actions.start_totp(platform, account.id)
    except DomainError as error:
        return _security_error(request, platform, account, error, "totp")
    return _security_page(request, platform, account, enrolment=enrolment)


@router.post("/security/totp/confirm")
async def totp_confirm(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    form = await _form(request)
    try:
        codes = actions.confirm_totp(
            platform,
            account.id,
            form.get("code", ""),
            ip=client_ip(request),
            user_agent=_user_agent(request),
        )
    except DomainError as error:
        return _security_error(
            request,
            platform,
            account,
            error,
            "totp",
            enrolment=_pending_enrolment(platform, account.id),
        )
    return _security_page(request, platform, account, recovery_codes=codes)


def _pending_enrolment(platform: Platform, account_id: str) -> actions.TotpEnrolment | None:
    """The enrolment already started, shown again after a wrong code (the app has scanned it)."""
    fresh = actions.get_profile(platform, account_id)
    if fresh.totp_pending_secret is None or fresh.totp_secret is not None:
        return None
    uri = otpauth_uri(fresh.totp_pending_secret, fresh.handle, platform.settings.operator_name)
    return actions.TotpEnrolment(fresh.totp_pending_secret, uri, actions.qr_svg(uri))


@router.post("/security/totp/disable")
async def totp_disable(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    form = await _form(request)
    try:
        actions.disable_totp(
            platform,
            account.id,
            form.get("password", ""),
            form.get("code", ""),
            ip=client_ip(request),
            user_agent=_user_agent(request),
        )
    except DomainError as error:
        return _security_error(request, platform, account, error, "totp")
    return redirect(
        request, "/security", gettext(account.language, "Two-factor authentication is now off.")
    )


@router.post("/security/tokens")
async def create_token(
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    form = await _form(request)
    try:
        expires_at = _end_of_day(form.get("expires_on", ""), platform)
        token, secret = actions.create_api_token(
            platform,
            account.id,
            form.get("name", ""),
            expires_at,
            ip=client_ip(request),
            user_agent=_user_agent(request),
        )
    except DomainError as error:
        if "expires_at" in error.fields:
            error.fields["expires_on"] = error.fields.pop("expires_at")
        return _security_error(request, platform, account, error, "token")
    return _security_page(request, platform, account, new_token=token, new_token_secret=secret)


def _end_of_day(value: str, platform: Platform) -> datetime | None:
    """A token chosen to expire on a day lasts until the end of that day (operator's time)."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(fields={"expires_on": DATE_INVALID}) from None
    local = datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(platform.settings.timezone))
    return local.astimezone(UTC)


@router.post("/security/tokens/{token_id}/revoke")
async def revoke_token(
    token_id: str,
    request: Request,
    account: Account = Depends(require_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    actions.revoke_api_token(
        platform, account.id, token_id, ip=client_ip(request), user_agent=_user_agent(request)
    )
    if request.headers.get("HX-Request"):
        return Response("", media_type="text/html")  # htmx removes the row
    return redirect(request, "/security", gettext(account.language, "The token was revoked."))
