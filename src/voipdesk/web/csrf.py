"""CSRF protection for every page POST.

A logged-in (or 2FA-pending) browser uses its session's random token. An anonymous browser gets a
random nonce in a cookie, and its forms carry an HMAC of that nonce keyed with the platform's secret
(a signed double-submit cookie): a third-party page can neither read the nonce nor forge the HMAC.
Forms send the token as the `csrf_token` field, htmx requests as the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response
from markupsafe import Markup, escape

from voipdesk.core.errors import Forbidden
from voipdesk.core.http import platform_of
from voipdesk.web.sessions import load_session

FIELD_NAME = "csrf_token"
HEADER_NAME = "X-CSRF-Token"
ANONYMOUS_COOKIE = "voipdesk_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfTokenMissing(Forbidden):
    code = "csrf-token-missing"
    message = (
        "This form has no security token, so it was refused and nothing was changed. "
        "Please reload the page and try again."
    )


class CsrfTokenInvalid(Forbidden):
    code = "csrf-token-invalid"
    message = (
        "The security token of this form is not valid (it may have expired), so it was refused "
        "and nothing was changed. Please reload the page and try again."
    )


def _signed(request: Request, nonce: str) -> str:
    key = platform_of(request).settings.secret_key.encode()
    return hmac.new(key, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token this request's forms must send back."""
    current = load_session(request)
    if current is not None:
        return current.row.csrf_token
    nonce = request.cookies.get(ANONYMOUS_COOKIE) or getattr(request.state, "csrf_nonce", None)
    if not nonce or len(nonce) > 100:
        nonce = secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce
    return _signed(request, nonce)


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Sets the anonymous nonce cookie when a page created one."""
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce and request.cookies.get(ANONYMOUS_COOKIE) != nonce:
        response.set_cookie(
            ANONYMOUS_COOKIE,
            nonce,
            path="/",
            secure=platform_of(request).settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )


def csrf_field(request: Request) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD_NAME, escape(csrf_token(request))
    )


async def verify_csrf(request: Request) -> None:
    """Dependency of every page route: refuses an unsafe request without the right token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(HEADER_NAME)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(FIELD_NAME)
            sent = value if isinstance(value, str) else None
    if not sent:
        raise CsrfTokenMissing()
    current = load_session(request)
    if current is not None:
        expected = current.row.csrf_token
    else:
        nonce = request.cookies.get(ANONYMOUS_COOKIE)
        if not nonce:
            raise CsrfTokenInvalid()
        expected = _signed(request, nonce)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfTokenInvalid()
