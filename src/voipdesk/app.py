"""The web application: the REST API under /api/v1 and the customer space pages."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from voipdesk.areas import api_routers, load_handlers
from voipdesk.core.api_docs import install as install_docs
from voipdesk.core.errors import DomainError
from voipdesk.core.http import (
    domain_error_response,
    problem,
    request_language,
    validation_error_response,
)
from voipdesk.core.i18n import gettext
from voipdesk.core.openapi import install as install_openapi
from voipdesk.core.openapi import operation_id
from voipdesk.core.platform import Platform

API_PREFIX = "/api/v1"


def create_app(platform: Platform) -> FastAPI:
    load_handlers()
    app = FastAPI(
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

    api = APIRouter(prefix=API_PREFIX)
    for router in api_routers():
        api.include_router(router)
    app.include_router(api)
    install_openapi(app)
    install_docs(app, app.openapi_url or "")

    from voipdesk.web import install as install_web

    install_web(app)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, error: DomainError):  # type: ignore[no-untyped-def]
        if request.url.path.startswith("/api/"):
            return domain_error_response(request, error)
        from voipdesk.web.rendering import error_page

        return error_page(request, error)

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
        return problem(error.status_code, "http-error", str(error.detail), str(error.detail))

    return app
