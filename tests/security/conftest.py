"""Fixtures of the security tests: the orders tests' seeded catalogue and customers, and an API
client on the whole application."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.orders.api_harness import ApiClient, api_client
from tests.orders.conftest import customer, customer_factory, seeded  # noqa: F401
from voipdesk.core.platform import Platform


@pytest.fixture
def api(seeded: Platform) -> Iterator[ApiClient]:  # noqa: F811
    with api_client(seeded) as client:
        yield client


def problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == code, body
    return body
