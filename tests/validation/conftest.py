"""Fixtures of the validation tests: customers of each type and country, staff, and a client of
the real application that authenticates each account with its own API token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.accounts.factories import api_token_for
from tests.accounts.factories import make_account as real_make_account
from voipdesk.accounts.models import Account
from voipdesk.app import create_app
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.platform import Platform

PASSWORD = "Correct-Horse-Battery-42!"


def make_account(platform: Platform, **overrides: Any) -> Account:
    return real_make_account(platform, **overrides)


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
class ApiClient:
    """The real application, called with each account's own API token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def headers_for(self, account: Account | None, language: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if language:
            headers["Accept-Language"] = language
        if account is None:
            return headers
        if account.id not in self._tokens:
            self._tokens[account.id] = api_token_for(self.client, account)
        headers["Authorization"] = f"Bearer {self._tokens[account.id]}"
        return headers

    def get(self, path: str, account: Account | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.get("/api/v1" + path, headers=self.headers_for(account), **kwargs)

    def post(self, path: str, account: Account | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.post("/api/v1" + path, headers=self.headers_for(account), **kwargs)


@contextmanager
def api_client(platform: Platform) -> Iterator[ApiClient]:
    with TestClient(create_app(platform), base_url="https://testserver") as client:
        yield ApiClient(client)


@pytest.fixture
def api(seeded: Platform) -> Iterator[ApiClient]:
    with api_client(seeded) as client:
        yield client
