"""HTTP plumbing shared by every area's API: the platform, the caller's language, problem+json.

The caller's language (fr or en), one rule for every answer:
- API (`/api/...`): the `Accept-Language` header when it names fr or en (it is what this caller
  asks for, request by request: a script, an integration); without one, the language of the
  authenticated account's profile; without either, French. The account's language wins over the
  header only for what is made for the account rather than for this answer — the service e-mails,
  and the documents sent to it (invoice PDFs are in the account's language, as `GET
  /me/invoices/{id}/pdf` documents).
- Pages: the profile's language when logged in (the language switch writes it), else the
  language cookie (the switch before logging in), else `Accept-Language`, else French.
- A body that is not even JSON is refused before the route's dependencies run: the bearer token is
  then looked up through `register_caller_language` (accounts fills it in), so the rule holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from voipdesk.core.errors import DomainError
from voipdesk.core.field_errors import field_errors
from voipdesk.core.i18n import (
    accepted_language,
    gettext,
    language_from_accept,
    normalise_language,
)
from voipdesk.core.platform import Platform

PROBLEM_JSON = "application/problem+json"


async def get_platform(request: Request) -> Platform:
    """The dependency `Depends(get_platform)`. Async on purpose: FastAPI runs a sync dependency
    in the thread pool, a hop per request for one attribute read. Plain code calls platform_of."""
    return request.app.state.platform


def platform_of(request: Request) -> Platform:
    """The platform serving `request`, for code that is not a FastAPI dependency."""
    return request.app.state.platform


LANGUAGE_COOKIE = "voipdesk_lang"

# Finds the caller's account language from the request alone (its bearer token), for answers
# given before the route's dependencies ran. Filled in by accounts (core does not know accounts).
_caller_language: list[Callable[[Request], str | None]] = []


def register_caller_language(lookup: Callable[[Request], str | None]) -> None:
    _caller_language[:] = [lookup]


def _account_language(request: Request) -> str | None:
    account = getattr(request.state, "account", None)
    if account is not None:
        return normalise_language(account.language)
    return None


def request_language(request: Request) -> str:
    """The caller's language: see the rule in this module's docstring."""
    if request.url.path.startswith("/api/"):
        asked = accepted_language(request.headers.get("accept-language"))
        if asked is not None:
            return asked
        account_language = _account_language(request)
        if account_language is None and _caller_language:
            found = _caller_language[0](request)
            account_language = normalise_language(found) if found else None
        return account_language or language_from_accept(None)
    # Pages: the header switch (its cookie) is the page language; the profile's language is the
    # account's e-mail language, used for pages only until the switch is used.
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in ("fr", "en"):
        return cookie
    account_language = _account_language(request)
    if account_language is not None:
        return account_language
    return language_from_accept(request.headers.get("accept-language"))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def problem(
    status: int, code: str, title: str, detail: str, extra: dict[str, Any] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"type": code, "title": title, "status": status, "detail": detail}
    body.update(extra or {})
    headers = {}
    if status == 429 and extra and "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_response(request: Request, error: DomainError) -> JSONResponse:
    language = request_language(request)
    extra: dict[str, Any] = dict(error.extra)
    if error.fields:
        extra["errors"] = error.field_errors(language)
    title = (
        gettext(language, type(error).message)
        if error.message != type(error).message
        else error.detail(language)
    )
    return problem(error.status, error.code, title, error.detail(language), extra)


def validation_error_response(request: Request, error: RequestValidationError) -> JSONResponse:
    """422 listing each bad field as `{"field", "type", "message"}`: `type` is pydantic's stable
    error type, `message` is in the caller's language (see core.field_errors)."""
    language = request_language(request)
    return problem(
        422,
        "invalid-input",
        gettext(language, "Some fields are not valid."),
        gettext(language, "Please correct the fields listed in errors."),
        {"errors": field_errors(list(error.errors()), language)},
    )
