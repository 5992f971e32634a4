"""Fixtures of the accounts tests: the API client (the whole application when the web package
is there, else the API alone with the same error handlers), customers, SMTP peers."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from starlette.exceptions import HTTPException as StarletteHTTPException

from voipdesk.areas import api_routers, load_handlers
from voipdesk.core.errors import DomainError
from voipdesk.core.http import domain_error_response, problem, validation_error_response
from voipdesk.core.platform import Platform


def _api_only_app(platform: Platform) -> FastAPI:
    load_handlers()
    app = FastAPI()
    app.state.platform = platform
    api = APIRouter(prefix="/api/v1")
    for router in api_routers():
        api.include_router(router)
    app.include_router(api)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError):  # type: ignore[no-untyped-def]
        return domain_error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError):  # type: ignore[no-untyped-def]
        return validation_error_response(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException):  # type: ignore[no-untyped-def]
        return problem(error.status_code, "not-found", "Not found", str(error.detail))

    return app


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    if importlib.util.find_spec("voipdesk.web") is not None:
        from voipdesk.app import create_app

        app = create_app(platform)
    else:
        app = _api_only_app(platform)
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client
