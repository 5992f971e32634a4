"""HTTP plumbing shared by every area's API: the platform, the caller's language, problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from voipdesk.core.errors import DomainError
from voipdesk.core.i18n import gettext, language_from_accept, normalise_language
from voipdesk.core.platform import Platform

PROBLEM_JSON = "application/problem+json"


def get_platform(request: Request) -> Platform:
    return request.app.state.platform


def request_language(request: Request) -> str:
    """The profile's language when someone is logged in, else Accept-Language."""
    account = getattr(request.state, "account", None)
    if account is not None:
        return normalise_language(account.language)
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
    language = request_language(request)
    fields = []
    for item in error.errors():
        location = [
            str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")
        ]
        fields.append(
            {"field": ".".join(location) or "body", "message": item.get("msg", "invalid")}
        )
    return problem(
        422,
        "invalid-input",
        gettext(language, "Some fields are not valid."),
        gettext(language, "Please correct the fields listed in errors."),
        {"errors": fields},
    )
