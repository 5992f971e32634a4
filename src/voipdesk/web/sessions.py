"""Browser sessions: a random cookie whose sha256 names a WebSession row.

A session opened by the password step of a 2FA account is `pending_second_factor`: it only reaches
the 2FA step. Completing a login always opens a new session (the old one is deleted), so a cookie
known before the login is worth nothing after it. A long-lived device cookie tells the accounts
actions whether a login comes from a known browser.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import delete, select

from voipdesk.accounts.models import Account, WebSession
from voipdesk.accounts.rules import sha256_hex
from voipdesk.core.http import platform_of
from voipdesk.core.platform import Platform

SESSION_COOKIE = "voipdesk_session"
DEVICE_COOKIE = "voipdesk_device"
DEVICE_COOKIE_DAYS = 400  # the longest a browser keeps a cookie


@dataclass
class CurrentSession:
    row: WebSession
    account: Account

    @property
    def pending_second_factor(self) -> bool:
        return self.row.pending_second_factor


def load_session(request: Request) -> CurrentSession | None:
    """The request's valid session (pending or not), looked up once per request."""
    if hasattr(request.state, "web_session"):
        return request.state.web_session
    current = _lookup(platform_of(request), request.cookies.get(SESSION_COOKIE))
    request.state.web_session = current
    if current is not None and not current.pending_second_factor:
        # http.request_language and the templates read the logged-in account from here.
        request.state.account = current.account
    return current


def _lookup(platform: Platform, cookie: str | None) -> CurrentSession | None:
    if not cookie or len(cookie) > 200:
        return None
    with platform.session() as session:
        row = session.get(WebSession, sha256_hex(cookie))
        if row is None or row.expires_at <= platform.now():
            return None
        account = session.scalar(
            select(Account).where(Account.id == row.account_id, Account.closed_at.is_(None))
        )
        if account is None:
            return None
        session.expunge_all()
        return CurrentSession(row, account)


def open_session(
    request: Request,
    response: Response,
    account_id: str,
    *,
    pending_second_factor: bool = False,
) -> None:
    """Starts a session for `account_id` (ending the current one) and sets its cookie."""
    platform = platform_of(request)
    secret = secrets.token_urlsafe(32)
    now = platform.now()
    old_cookie = request.cookies.get(SESSION_COOKIE)
    with platform.transaction() as session:
        if old_cookie:
            session.execute(delete(WebSession).where(WebSession.id == sha256_hex(old_cookie)))
        session.add(
            WebSession(
                id=sha256_hex(secret),
                account_id=account_id,
                csrf_token=secrets.token_urlsafe(32),
                pending_second_factor=pending_second_factor,
                device_id=device_id(request),
                created_at=now,
                expires_at=now + timedelta(days=platform.settings.session_valid_days),
            )
        )
    settings = platform.settings
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_valid_days * 86400,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    set_device_cookie(request, response)


def close_session(request: Request, response: Response) -> None:
    platform = platform_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with platform.transaction() as session:
            session.execute(delete(WebSession).where(WebSession.id == sha256_hex(cookie)))
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=platform.settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def device_id(request: Request) -> str:
    """This browser's device id: from its cookie, or a new one (set by `set_device_cookie`)."""
    if not hasattr(request.state, "device_id"):
        existing = request.cookies.get(DEVICE_COOKIE, "")
        valid = 20 <= len(existing) <= 64 and existing.replace("-", "").replace("_", "").isalnum()
        request.state.device_id = existing if valid else secrets.token_urlsafe(24)
    return request.state.device_id


def set_device_cookie(request: Request, response: Response) -> None:
    identifier = device_id(request)
    if request.cookies.get(DEVICE_COOKIE) == identifier:
        return
    response.set_cookie(
        DEVICE_COOKIE,
        identifier,
        max_age=DEVICE_COOKIE_DAYS * 86400,
        path="/",
        secure=platform_of(request).settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
