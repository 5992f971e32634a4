"""Fault run: PostgreSQL goes away in the middle of API traffic (a restart: every connection cut,
nothing listening for a while), then comes back. Only the requests of the outage fail, with a 503
problem+json (never a 500 or a hang), what was written before is there, and the service resumes
by itself. The restart is played by a TCP proxy in front of the test server (the shared
PostgreSQL itself is left alone)."""

from __future__ import annotations

import socket
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from tests.accounts.factories import api_token_for, make_account
from tests.conftest import POSTGRES_URL, _truncate_all, require
from tests.conftest import test_settings as settings_for_tests
from tests.flaky_proxy import FlakyProxy
from voipdesk.core.db import make_engine, normalise_url
from voipdesk.core.platform import Platform


def test_a_database_restart_fails_only_its_own_requests(postgres_database, clock) -> None:  # type: ignore[no-untyped-def]
    require(bool(POSTGRES_URL), "PostgreSQL", "set VOIPDESK_TEST_DATABASE_URL")
    from voipdesk.app import create_app

    direct = make_url(normalise_url(postgres_database))
    proxy = FlakyProxy(direct.host or "127.0.0.1", direct.port or 5432)
    proxied = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = settings_for_tests(proxied)
    platform = Platform(settings=settings, engine=make_engine(proxied), clock=clock)
    statuses: Counter[str] = Counter()
    try:
        account = make_account(platform, language="en")
        with TestClient(create_app(platform), base_url="https://testserver") as client:
            headers = {"Authorization": f"Bearer {api_token_for(client, account)}"}
            before = client.patch("/api/v1/me", json={"city": "Grenoble"}, headers=headers)
            assert before.status_code == 200
            for _ in range(10):
                statuses["before"] += client.get("/api/v1/me", headers=headers).status_code == 200
            proxy.down()
            for method, body in [("GET", None), ("PATCH", {"city": "Nice"})] * 5:
                answer = client.request(method, "/api/v1/me", json=body, headers=headers)
                assert answer.status_code == 503, answer.text
                assert answer.headers["content-type"].startswith("application/problem+json")
                assert answer.json()["type"] == "database-unavailable"
                assert answer.headers["Retry-After"]
                statuses["outage"] += 1
            proxy.up()
            answers = [client.get("/api/v1/me", headers=headers) for _ in range(10)]
            codes = [answer.status_code for answer in answers]
            # at most the first request after the restart meets a dead pooled connection
            assert set(codes[1:]) == {200}, codes
            assert answers[-1].json()["city"] == "Grenoble"  # written before, still there
    finally:
        platform.engine.dispose()
        proxy.down()
        _truncate_all(normalise_url(postgres_database))
    assert statuses == {"before": 10, "outage": 10}


@pytest.mark.parametrize("_", [None])
def test_a_database_that_cannot_be_reached_answers_503_not_500(_, clock) -> None:  # type: ignore[no-untyped-def]
    from voipdesk.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{closed}/nothing"
    platform = Platform(settings=settings_for_tests(url), engine=make_engine(url), clock=clock)
    with TestClient(create_app(platform), base_url="https://testserver") as client:
        for answer in (
            client.get("/api/v1/me", headers={"Authorization": "Bearer vd_x"}),
            client.patch("/api/v1/me", json={}, headers={"Authorization": "Bearer vd_x"}),
            client.get("/api/v1/catalogue?country=FR"),
        ):
            assert answer.status_code == 503, answer.text
            assert answer.json()["type"] == "database-unavailable"
    platform.engine.dispose()
