"""Bounded requests: an ASGI middleware in front of the whole application.

- A body over `max_body_bytes` (setting `VOIPDESK_MAX_BODY_BYTES`, 1 MiB by default) answers 413
  `body-too-large` (problem+json, in the caller's language) before anything parses it: at once
  when its `Content-Length` says so, else as soon as the bytes streamed in pass the limit (a
  chunked body is never held in memory beyond it).
- An API route that needs a bearer token is authenticated before its body is read: a request
  with a body and no valid token answers 401 without reading it. The account found is handed to
  the route's dependency (`authenticated_account`), so the token is looked up once.

Which operations need a bearer token is read from the OpenAPI description (their `security`);
how a token is checked is registered by the accounts area (`register_bearer_authentication`):
core knows nothing of accounts.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voipdesk.core.i18n import N_, gettext

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOO_LARGE_TITLE = N_("The request body is too large")
TOO_LARGE_DETAIL = N_("A request body may not exceed %(limit)s bytes.")
STATE_KEY = "bearer_account"


class BodyTooLarge(StarletteHTTPException):
    """Raised by the guarded `receive` when the streamed body passes the limit."""

    def __init__(self) -> None:
        super().__init__(413, "body-too-large")


_bearer: dict[str, Any] = {}


def register_bearer_authentication(
    authenticate: Callable[[Request], Awaitable[Any | None]],
) -> None:
    """`await authenticate(request)`: the account of the request's bearer token, or None."""
    _bearer["authenticate"] = authenticate


def authenticated_account(request: Request) -> Any | None:
    """The account the guard already authenticated for this request (None when it did not)."""
    return request.scope.get("state", {}).get(STATE_KEY)


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")


def _bearer_operations(app: Any) -> dict[str, tuple[list[re.Pattern[str]], list[re.Pattern[str]]]]:
    """method -> (paths that need a bearer token, paths that do not), from the OpenAPI
    description (an operation that needs one lists the bearer scheme in its `security`)."""
    cached = getattr(app.state, "_bearer_operations", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    table: dict[str, tuple[list[re.Pattern[str]], list[re.Pattern[str]]]] = {}
    for path, item in app.openapi().get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            secured, public = table.setdefault(method.upper(), ([], []))
            (secured if operation.get("security") else public).append(_template(path))
    app.state._bearer_operations = table
    return table


def _needs_bearer(app: Any, scope: Scope) -> bool:
    if "authenticate" not in _bearer:
        return False
    secured, public = _bearer_operations(app).get(scope["method"], ([], []))
    path = scope["path"]
    return any(p.match(path) for p in secured) and not any(p.match(path) for p in public)


def too_large_response(request: Request, limit: int) -> Any:
    from voipdesk.core.http import problem, request_language

    language = request_language(request)
    return problem(
        413,
        "body-too-large",
        gettext(language, TOO_LARGE_TITLE),
        gettext(language, TOO_LARGE_DETAIL, limit=limit),
        {"limit": limit},
    )


DATABASE_DOWN_TITLE = N_("The service is briefly unavailable")
DATABASE_DOWN_DETAIL = N_("The database cannot be reached right now. Please try again in a moment.")
RETRY_AFTER_SECONDS = 5


def database_unavailable(request: Request) -> Any:
    """503 problem+json while the database cannot be reached (a restart, a failover): never a
    500 with a traceback, and nothing is looked up to say it (the language comes from the
    request's own header)."""
    from voipdesk.core.http import problem
    from voipdesk.core.i18n import accepted_language, language_from_accept

    header = request.headers.get("accept-language")
    language = accepted_language(header) or language_from_accept(header)
    response = problem(
        503,
        "database-unavailable",
        gettext(language, DATABASE_DOWN_TITLE),
        gettext(language, DATABASE_DOWN_DETAIL),
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        application = scope["app"]
        settings = application.state.platform.settings
        headers = Headers(scope=scope)
        # Uploads (audio greetings and prompts, multipart or the file itself) get the larger
        # limit, and the route's own rule then names its maximum.
        content_type = headers.get("content-type", "")
        upload = content_type.startswith(("multipart/form-data", "audio/"))
        limit: int = settings.max_upload_bytes if upload else settings.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = limit + 1
            if length > limit:
                await too_large_response(Request(scope), limit)(scope, receive, send)
                return
        if (
            scope["method"] in BODY_METHODS
            and scope["path"].startswith("/api/")
            and _needs_bearer(application, scope)
        ):
            request = Request(scope)
            try:
                account = await _bearer["authenticate"](request)
            except (OperationalError, InterfaceError):
                await database_unavailable(request)(scope, receive, send)
                return
            if account is None:
                # The route's own dependency answers (401 not-authenticated or invalid-token),
                # with an empty body: what was sent is never read.
                async def nothing() -> Message:
                    return {"type": "http.request", "body": b"", "more_body": False}

                await self.app(scope, nothing, send)
                return
            scope.setdefault("state", {})[STATE_KEY] = account

        received = 0
        started = False

        async def guarded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await too_large_response(Request(scope), limit)(scope, receive, send)
