"""REST API of the accounts area: sign-up, profile, password, tokens, 2FA, security, e-mails."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from voipdesk.accounts import actions
from voipdesk.accounts.actions import ProfileUpdate, SignUpData
from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.errors import SecondFactorRequired
from voipdesk.accounts.models import Account, ApiToken, EmailAttachment, SecurityEvent, ServiceEmail
from voipdesk.accounts.rules import sha256_hex
from voipdesk.core.http import (
    client_ip,
    get_platform,
    platform_of,
    register_caller_language,
    request_language,
)
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.pagination import PageParams, page_params, paginate
from voipdesk.core.platform import Platform

router = APIRouter(tags=["accounts"])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
RESET_REQUESTED = N_(
    "If an account matches, a link to choose a new password was sent to its e-mail address."
)


# --- schemas ----------------------------------------------------------------------------------
class AccountOut(BaseModel):
    """A customer's profile. `handle` is the customer's login, like `ab12345-vd`."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    handle: str
    kind: str
    country: str
    language: str
    first_name: str
    last_name: str
    organisation_name: str | None
    registration_number: str | None
    address_line1: str
    address_line2: str | None
    postal_code: str
    city: str
    email: str
    backup_email: str | None
    mobile: str | None = Field(description="E.164, like +33612345678")
    totp_enabled: bool
    is_staff: bool
    created_at: datetime


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(max_length=1000)
    revoke_tokens: bool = Field(
        False,
        description="Also revoke every other API token (the one making the call stays valid).",
    )


class PasswordResetRequest(BaseModel):
    login: str = Field(
        description="The handle or the e-mail address of the account.", max_length=320
    )


class PasswordResetConfirm(BaseModel):
    new_password: str = Field(max_length=1000)


class MessageOut(BaseModel):
    detail: str


class TokenCreate(BaseModel):
    login: str = Field(
        description="The handle or the e-mail address of the account.", max_length=320
    )
    password: str = Field(max_length=1000)
    totp_code: str | None = Field(
        None, description="6 digits from the authenticator app.", max_length=40
    )
    recovery_code: str | None = Field(
        None, description="One unused recovery code, like k7m2p-x9q4r.", max_length=40
    )
    name: str = Field("API", max_length=100, description="To recognise the token in the list.")
    expires_at: datetime | None = Field(None, description="Never expires when absent.")


class TokenOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class CreatedTokenOut(TokenOut):
    token: str = Field(
        description="The secret, shown this once: send it as `Authorization: Bearer`."
    )


class TokenList(BaseModel):
    items: list[TokenOut]
    next_cursor: str | None = None


class TotpEnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code, an inline SVG document.")


class TotpCode(BaseModel):
    code: str = Field(description="6 digits from the authenticator app.", max_length=40)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="Each logs in once; shown this once.")


class TotpDisable(BaseModel):
    password: str = Field(max_length=1000)
    code: str = Field(
        description="A current 6-digit code, or an unused recovery code.", max_length=40
    )


class SecurityEventOut(BaseModel):
    id: int
    kind: str
    at: datetime
    ip: str | None
    user_agent: str | None
    details: dict[str, Any]


class SecurityEventPage(BaseModel):
    items: list[SecurityEventOut]
    next_cursor: str | None


class AttachmentSummary(BaseModel):
    number: int = Field(description="From 1, in the order of the e-mail.")
    filename: str
    content_type: str
    download_url: str


class AttachmentOut(AttachmentSummary):
    size: int
    content: str = Field(description="The file, base64-encoded.")


class ServiceEmailSummary(BaseModel):
    id: str
    kind: str
    subject: str
    to_address: str
    language: str
    status: str = Field(description="stored (kept here only), queued or sent")
    created_at: datetime
    sent_at: datetime | None
    attachments: list[AttachmentSummary]


class ServiceEmailPage(BaseModel):
    items: list[ServiceEmailSummary]
    next_cursor: str | None


class ServiceEmailOut(ServiceEmailSummary):
    body_text: str
    body_html: str
    attachments: list[AttachmentOut]  # type: ignore[assignment]


# --- helpers ----------------------------------------------------------------------------------
def _bearer_language(request: Request) -> str | None:
    """The profile language of the bearer token's account, for answers given before the route's
    dependencies ran (a body that is not JSON): see the language rule in core.http."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    account = actions.authenticate_token(platform_of(request), secret.strip())
    return account.language if account is not None else None


register_caller_language(_bearer_language)


def _user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


def _account_out(account: Account) -> AccountOut:
    return AccountOut.model_validate(account)


def _token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


def _attachment_url(email_id: str, number: int) -> str:
    return f"/api/v1/me/service-emails/{email_id}/attachments/{number}"


def _email_summary(email: ServiceEmail) -> dict[str, Any]:
    return {
        "id": email.id,
        "kind": email.kind,
        "subject": email.subject,
        "to_address": email.to_address,
        "language": email.language,
        "status": email.status,
        "created_at": email.created_at,
        "sent_at": email.sent_at,
    }


def _attachment_summary(email_id: str, number: int, item: EmailAttachment) -> dict[str, Any]:
    return {
        "number": number,
        "filename": item.filename,
        "content_type": item.content_type,
        "download_url": _attachment_url(email_id, number),
    }


def _event_out(event: SecurityEvent) -> SecurityEventOut:
    return SecurityEventOut(
        id=event.id,
        kind=event.kind,
        at=event.at,
        ip=event.ip,
        user_agent=event.user_agent,
        details=event.details or {},
    )


# --- sign-up and profile ----------------------------------------------------------------------
@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountOut,
    responses={409: PROBLEM, 422: PROBLEM},
    summary="Sign up: creates a customer account and answers with its handle",
)
def sign_up(
    data: SignUpData, request: Request, platform: Platform = Depends(get_platform)
) -> AccountOut:
    account = actions.sign_up(
        platform, data, ip=client_ip(request), user_agent=_user_agent(request)
    )
    return _account_out(account)


@router.get("/me", response_model=AccountOut, summary="The caller's profile")
async def get_me(account: Account = Depends(current_account)) -> AccountOut:
    return _account_out(account)


@router.patch(
    "/me",
    response_model=AccountOut,
    responses={409: PROBLEM, 422: PROBLEM},
    summary="Changes the fields given (same checks as at sign-up)",
)
def update_me(
    changes: ProfileUpdate,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> AccountOut:
    updated = actions.update_profile(
        platform, account.id, changes, ip=client_ip(request), user_agent=_user_agent(request)
    )
    request.state.account = updated
    return _account_out(updated)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={422: PROBLEM},
    summary="Changes the password (the current one is required); ends the web sessions",
)
def change_password(
    body: PasswordChange,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    _scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    actions.change_password(
        platform,
        account.id,
        body.current_password,
        body.new_password,
        ip=client_ip(request),
        user_agent=_user_agent(request),
        revoke_tokens=body.revoke_tokens,
        keep_token_hash=sha256_hex(secret.strip()),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- password reset ---------------------------------------------------------------------------
@router.post(
    "/auth/password-resets",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    summary="E-mails a reset link (answers the same whether or not the account exists)",
)
def request_password_reset(
    body: PasswordResetRequest, request: Request, platform: Platform = Depends(get_platform)
) -> MessageOut:
    actions.request_password_reset(platform, body.login, ip=client_ip(request))
    return MessageOut(
        detail=gettext(
            request_language(request),
            RESET_REQUESTED,
        )
    )


@router.post(
    "/auth/password-resets/{token}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: PROBLEM, 410: PROBLEM, 422: PROBLEM},
    summary="Sets a new password with the link's token; ends the web sessions",
)
def reset_password(
    token: str,
    body: PasswordResetConfirm,
    request: Request,
    platform: Platform = Depends(get_platform),
) -> Response:
    actions.reset_password(platform, token, body.new_password, ip=client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- API tokens -------------------------------------------------------------------------------
@router.post(
    "/auth/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedTokenOut,
    responses={401: PROBLEM, 429: PROBLEM},
    summary="Logs in and creates an API token (the secret is shown once)",
)
def create_token(
    body: TokenCreate, request: Request, platform: Platform = Depends(get_platform)
) -> CreatedTokenOut:
    ip, user_agent = client_ip(request), _user_agent(request)
    account = actions.check_credentials(
        platform, body.login, body.password, ip=ip, user_agent=user_agent
    )
    if account.totp_enabled:
        code = body.totp_code or body.recovery_code
        if not code:
            raise SecondFactorRequired()
        actions.verify_second_factor(platform, account.id, code, ip=ip, user_agent=user_agent)
    actions.record_login(platform, account.id, ip=ip, user_agent=user_agent, device_id=None)
    token, secret = actions.create_api_token(
        platform, account.id, body.name, body.expires_at, ip=ip, user_agent=user_agent
    )
    return CreatedTokenOut(**_token_out(token).model_dump(), token=secret)


@router.get(
    "/auth/tokens", response_model=TokenList, summary="The caller's API tokens, newest first"
)
def list_tokens(
    page: PageParams = Depends(page_params),
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> TokenList:
    tokens, next_cursor = paginate(
        actions.list_api_tokens(platform, account.id),
        key=lambda t: (t.created_at, t.id),
        page=page,
        descending=True,
    )
    return TokenList(items=[_token_out(t) for t in tokens], next_cursor=next_cursor)


@router.delete(
    "/auth/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: PROBLEM},
    summary="Revokes one of the caller's tokens",
)
def revoke_token(
    token_id: str,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    actions.revoke_api_token(
        platform, account.id, token_id, ip=client_ip(request), user_agent=_user_agent(request)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- two-factor authentication ----------------------------------------------------------------
@router.post(
    "/me/totp",
    status_code=status.HTTP_201_CREATED,
    response_model=TotpEnrolmentOut,
    responses={409: PROBLEM},
    summary="Starts 2FA enrolment: a secret and its otpauth URI to scan",
)
def start_totp(
    account: Account = Depends(current_account), platform: Platform = Depends(get_platform)
) -> TotpEnrolmentOut:
    enrolment = actions.start_totp(platform, account.id)
    return TotpEnrolmentOut(
        secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_svg=enrolment.qr_svg
    )


@router.post(
    "/me/totp/confirm",
    response_model=RecoveryCodesOut,
    responses={409: PROBLEM, 422: PROBLEM},
    summary="Turns 2FA on with a code from the app; returns the recovery codes once",
)
def confirm_totp(
    body: TotpCode,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> RecoveryCodesOut:
    codes = actions.confirm_totp(
        platform, account.id, body.code, ip=client_ip(request), user_agent=_user_agent(request)
    )
    return RecoveryCodesOut(recovery_codes=codes)


@router.delete(
    "/me/totp",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: PROBLEM, 422: PROBLEM},
    summary="Turns 2FA off (password and a code required)",
)
def disable_totp(
    body: TotpDisable,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    actions.disable_totp(
        platform,
        account.id,
        body.password,
        body.code,
        ip=client_ip(request),
        user_agent=_user_agent(request),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- security events and service e-mails ------------------------------------------------------
@router.get(
    "/me/security-events",
    response_model=SecurityEventPage,
    summary="Logins, password and 2FA changes, tokens: newest first",
)
def list_security_events(
    page_in: PageParams = Depends(page_params),
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> SecurityEventPage:
    page = actions.list_security_events(platform, account.id, page_in.limit, page_in.cursor)
    return SecurityEventPage(
        items=[_event_out(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/me/service-emails",
    response_model=ServiceEmailPage,
    summary="Every e-mail the platform sent to the caller, newest first",
)
def list_service_emails(
    page_in: PageParams = Depends(page_params),
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> ServiceEmailPage:
    page = actions.list_service_emails(platform, account.id, page_in.limit, page_in.cursor)
    items = [
        ServiceEmailSummary(
            **_email_summary(email),
            attachments=[
                AttachmentSummary(**_attachment_summary(email.id, number, item))
                for number, item in enumerate(email.attachments, start=1)
            ],
        )
        for email in page.items
    ]
    return ServiceEmailPage(items=items, next_cursor=page.next_cursor)


@router.get(
    "/me/service-emails/{email_id}",
    response_model=ServiceEmailOut,
    responses={404: PROBLEM},
    summary="One service e-mail with its bodies and attachments",
)
def get_service_email(
    email_id: str,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> ServiceEmailOut:
    email = actions.get_service_email(platform, account.id, email_id)
    return ServiceEmailOut(
        **_email_summary(email),
        body_text=email.body_text,
        body_html=email.body_html,
        attachments=[
            AttachmentOut(
                **_attachment_summary(email.id, number, item),
                size=len(item.data),
                content=base64.b64encode(item.data).decode(),
            )
            for number, item in enumerate(email.attachments, start=1)
        ],
    )


@router.get(
    "/me/service-emails/{email_id}/attachments/{number}",
    responses={200: {"content": {"application/octet-stream": {}}}, 404: PROBLEM},
    response_class=Response,
    summary="Downloads one attachment of a service e-mail",
)
def download_attachment(
    email_id: str,
    number: int,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> Response:
    attachment = actions.get_email_attachment(platform, account.id, email_id, number)
    ascii_name = (
        "".join(c for c in attachment.filename if 32 <= ord(c) < 127 and c not in '"\\')
        or "attachment"
    )
    disposition = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(attachment.filename)}"
    )
    return Response(
        content=attachment.data,
        media_type=attachment.content_type,
        headers={"Content-Disposition": disposition},
    )


# --- closure ----------------------------------------------------------------------------------
class ClosureRequest(BaseModel):
    password: str = Field(description="The account's password, to confirm.", max_length=1000)


class ClosureRequestedOut(BaseModel):
    status: str = Field("confirmation_sent", description="Always `confirmation_sent`.")
    sent_to: str = Field(description="Where the confirmation link was e-mailed.")
    expires_at: datetime = Field(description="Until when the link can be followed.")


@router.post(
    "/me/closure",
    response_model=ClosureRequestedOut,
    status_code=202,
    responses={409: PROBLEM, 422: PROBLEM},
    summary="Asks to close the account: e-mails a confirmation link, or is refused with every "
    "blocking reason listed in `reasons` (code, message, link to resolve it)",
)
def request_closure(
    body: ClosureRequest,
    request: Request,
    account: Account = Depends(current_account),
    platform: Platform = Depends(get_platform),
) -> ClosureRequestedOut:
    asked = actions.request_closure(
        platform, account.id, body.password, ip=client_ip(request), user_agent=_user_agent(request)
    )
    return ClosureRequestedOut(sent_to=asked.sent_to, expires_at=asked.expires_at)


@router.post(
    "/me/closure/{token}",
    response_model=AccountOut,
    responses={404: PROBLEM, 409: PROBLEM},
    summary="Confirms the closure with the token of the e-mailed link: the account is closed "
    "for good (refused, with the reasons, if something blocks it again)",
)
def confirm_closure(token: str, platform: Platform = Depends(get_platform)) -> AccountOut:
    return _account_out(actions.confirm_closure(platform, token))
