"""Fixtures of the validation tests: customers of each type and country, staff, an API client.

Until the accounts area ships its factories, token authentication and e-mails (and the web package
the full application needs), stand-ins are used: accounts made directly, an `X-Test-Account`
header, and the orders tests' stand-in e-mail module.
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient

from tests.orders import fakes
from voipdesk.accounts.models import Account
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.db import new_id
from voipdesk.core.errors import DomainError, Forbidden, NotAuthenticated
from voipdesk.core.platform import Platform
from voipdesk.http import domain_error_response, validation_error_response


def _real(module: str) -> bool:
    try:
        loaded = importlib.import_module(module)
    except ImportError:
        return False
    return getattr(loaded, "__file__", None) is not None


REAL_EMAILS = _real("voipdesk.accounts.emails")
fakes.install()

PASSWORD = "Correct-Horse-Battery-42!"


def make_account(platform: Platform, **overrides: Any) -> Account:
    try:
        from tests.accounts.factories import make_account as real_make_account
    except ImportError:
        real_make_account = None
    if real_make_account is not None:
        return real_make_account(platform, **overrides)
    handle = f"t{secrets.token_hex(3)}-vd"
    values: dict[str, Any] = dict(
        id=new_id(),
        handle=handle,
        kind="individual",
        country="FR",
        language="fr",
        first_name="Camille",
        last_name="Martin",
        organisation_name=None,
        address_line1="12 rue des Lilas",
        postal_code="69003",
        city="Lyon",
        email=f"{handle}@example.org",
        password_hash="x",
        is_staff=False,
        created_at=platform.now(),
    )
    values.update(overrides)
    with platform.transaction() as session:
        account = Account(**values)
        session.add(account)
    return account


@pytest.fixture
def seeded(platform: Platform) -> Platform:
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    return platform


@pytest.fixture
def customer_factory(seeded: Platform) -> Callable[..., Account]:
    def build(**overrides: Any) -> Account:
        if overrides.get("kind") in ("company", "association"):
            overrides.setdefault("organisation_name", "Bernard Plomberie SARL")
        return make_account(seeded, **overrides)

    return build


@pytest.fixture
def customer(customer_factory: Callable[..., Account]) -> Account:
    return customer_factory()


@pytest.fixture
def staff(seeded: Platform) -> Account:
    account = make_account(seeded, first_name="Sam", last_name="Operator")
    with seeded.transaction() as session:
        row = session.get(Account, account.id)
        assert row is not None
        row.is_staff = True
    account.is_staff = True
    return account


# --- API client ----------------------------------------------------------------------------------
def real_app_available() -> bool:
    return (
        all(
            _real(name)
            for name in ("voipdesk.accounts.api_auth", "voipdesk.web", "tests.accounts.factories")
        )
        and REAL_EMAILS
    )


class ApiClient:
    def __init__(self, client: TestClient, real: bool) -> None:
        self.client = client
        self.real = real
        self._tokens: dict[str, str] = {}

    def headers_for(self, account: Account | None, language: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if language:
            headers["Accept-Language"] = language
        if account is None:
            return headers
        if self.real:
            if account.id not in self._tokens:
                from tests.accounts.factories import api_token_for

                self._tokens[account.id] = api_token_for(self.client, account)
            headers["Authorization"] = f"Bearer {self._tokens[account.id]}"
        else:
            headers["X-Test-Account"] = account.id
        return headers

    def get(self, path: str, account: Account | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.get("/api/v1" + path, headers=self.headers_for(account), **kwargs)

    def post(self, path: str, account: Account | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.post("/api/v1" + path, headers=self.headers_for(account), **kwargs)


def _stand_in_app(platform: Platform) -> FastAPI:
    from voipdesk.orders import api as orders_api
    from voipdesk.validation import api as validation_api

    app = FastAPI()
    app.state.platform = platform

    def account_from_header(request: Request, x_test_account: str | None = Header(None)) -> Account:
        if not x_test_account:
            raise NotAuthenticated()
        with platform.session() as session:
            account = session.get(Account, x_test_account)
        if account is None:
            raise NotAuthenticated()
        request.state.account = account
        return account

    def staff_from_header(request: Request, x_test_account: str | None = Header(None)) -> Account:
        account = account_from_header(request, x_test_account)
        if not account.is_staff:
            raise Forbidden()
        return account

    for module in (orders_api, validation_api):
        app.dependency_overrides[module.current_account] = account_from_header
        app.dependency_overrides[module.current_staff] = staff_from_header
    api = APIRouter(prefix="/api/v1")
    api.include_router(validation_api.router)
    api.include_router(orders_api.router)
    app.include_router(api)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError):  # type: ignore[no-untyped-def]
        return domain_error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError):  # type: ignore[no-untyped-def]
        return validation_error_response(request, error)

    return app


@contextmanager
def api_client(platform: Platform) -> Iterator[ApiClient]:
    real = real_app_available()
    app: FastAPI | None = None
    if real:
        try:
            from voipdesk.app import create_app

            app = create_app(platform)
        except ImportError:  # the web package is still being built
            real = False
    if app is None:
        app = _stand_in_app(platform)
    with TestClient(app, base_url="https://testserver") as client:
        yield ApiClient(client, real)


@pytest.fixture
def api(seeded: Platform) -> Iterator[ApiClient]:
    with api_client(seeded) as client:
        yield client
