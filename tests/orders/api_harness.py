"""An API client on the whole application (`create_app`), authenticated per customer with a real
bearer token from the accounts area."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from tests.accounts.factories import api_token_for
from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform


class ApiClient:
    def __init__(self, client: TestClient, platform: Platform) -> None:
        self.client = client
        self.platform = platform
        self._tokens: dict[str, str] = {}

    def headers_for(self, account: Account | None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if account is not None:
            if account.id not in self._tokens:
                self._tokens[account.id] = api_token_for(self.client, account)
            headers["Authorization"] = f"Bearer {self._tokens[account.id]}"
        return headers

    def request(
        self,
        method: str,
        path: str,
        account: Account | None = None,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ):  # type: ignore[no-untyped-def]
        return self.client.request(
            method, "/api/v1" + path, headers=self.headers_for(account, **(headers or {})), **kwargs
        )

    def get(self, path: str, account: Account | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.request("GET", path, account, **kwargs)

    def post(self, path: str, account: Account | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.request("POST", path, account, **kwargs)

    def patch(self, path: str, account: Account | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.request("PATCH", path, account, **kwargs)

    def delete(self, path: str, account: Account | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.request("DELETE", path, account, **kwargs)


@contextmanager
def api_client(platform: Platform) -> Iterator[ApiClient]:
    from voipdesk.app import create_app

    with TestClient(create_app(platform), base_url="https://testserver") as client:
        yield ApiClient(client, platform)
