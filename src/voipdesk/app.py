"""The web application: the REST API under /api/v1 and the customer space pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from voipdesk.areas import api_routers, load_handlers
from voipdesk.core.api_docs import install as install_docs
from voipdesk.core.async_reads import start_pool
from voipdesk.core.errors import DomainError
from voipdesk.core.headers import SecurityHeaders
from voipdesk.core.http import (
    domain_error_response,
    problem,
    request_language,
    validation_error_response,
)
from voipdesk.core.i18n import N_, gettext
from voipdesk.core.limits import RequestGuard, database_unavailable, too_large_response
from voipdesk.core.openapi import install as install_openapi
from voipdesk.core.openapi import operation_id
from voipdesk.core.openapi_errors import document_errors
from voipdesk.core.platform import Platform
from voipdesk.core.routing import include_flat

API_PREFIX = "/api/v1"

REQUEST_REFUSED = N_("The request was refused.")
# Framework refusals with a stable code, in the caller's language (never the framework's text,
# which could echo what was sent).
HTTP_ERRORS: dict[int, tuple[str, str, str]] = {
    400: (
        "malformed-body",
        N_("The request body could not be read"),
        N_("Send a body in the format this operation expects (JSON unless it says otherwise)."),
    ),
    405: (
        "method-not-allowed",
        N_("Method not allowed"),
        N_("This address does not accept this method."),
    ),
    406: ("not-acceptable", N_("Not acceptable"), N_("This format cannot be answered here.")),
    415: (
        "unsupported-media-type",
        N_("Unsupported media type"),
        N_("Send a body in the format this operation expects (JSON unless it says otherwise)."),
    ),
}


def create_app(platform: Platform) -> FastAPI:
    load_handlers()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The hottest reads run on this event loop's own connections (core.async_reads).
        platform.read_pool = start_pool(platform.engine)
        try:
            yield
        finally:
            pool, platform.read_pool = platform.read_pool, None
            if pool is not None:
                await pool.close()

    app = FastAPI(
        lifespan=lifespan,
        title="voipdesk",
        version="0.1.0",
        description=(
            "The voipdesk REST API: accounts, catalogue, orders, validation, services and billing."
        ),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by core.api_docs, from local files
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.platform = platform
    app.add_middleware(RequestGuard)
    app.add_middleware(SecurityHeaders)  # outermost: every answer gets the headers

    for router in api_routers():
        include_flat(app.router, router, prefix=API_PREFIX)
    install_openapi(app)
    install_docs(app, app.openapi_url or "")

    document_errors(app)  # every operation's error answers, as problem+json

    from voipdesk.web import install as install_web

    install_web(app)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, error: DomainError):  # type: ignore[no-untyped-def]
        if request.url.path.startswith("/api/"):
            return domain_error_response(request, error)
        from voipdesk.web.rendering import error_page

        return error_page(request, error)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(request: Request, error: Exception):  # type: ignore[no-untyped-def]
        return database_unavailable(request)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError):  # type: ignore[no-untyped-def]
        return validation_error_response(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException):  # type: ignore[no-untyped-def]
        language = request_language(request)
        if error.status_code == 404:
            return problem(
                404,
                "not-found",
                gettext(language, "Not found"),
                gettext(language, "Nothing was found at this address."),
            )
        if error.status_code == 413:
            return too_large_response(request, platform.settings.max_body_bytes)
        code, title, detail = HTTP_ERRORS.get(
            error.status_code, ("http-error", REQUEST_REFUSED, REQUEST_REFUSED)
        )
        return problem(error.status_code, code, gettext(language, title), gettext(language, detail))

    return app
