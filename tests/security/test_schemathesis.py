"""Finding 8: the OpenAPI description tells the truth. Schemathesis generates requests for every
operation from the description (a bounded number of examples, seeded) and checks each answer:
no server error, the documented status codes and content types, bodies matching their schema.
Runs on SQLite and PostgreSQL, as the customer of a seeded catalogue (staff for the back office).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.asgi import ASGI_TRANSPORT
from schemathesis.transport.requests import binary_serializer

from tests.accounts.factories import make_account
from tests.conftest import POSTGRES_URL, _truncate_all, require
from tests.conftest import test_settings as make_settings
from voipdesk.accounts.actions import create_api_token
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.core.clock import MovableClock
from voipdesk.core.db import make_engine
from voipdesk.core.platform import Platform

EXAMPLES = 4  # per operation: bounded, so the whole run stays within a couple of minutes
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _application() -> Any:
    """One application for the whole module: its platform (database) is set per backend by the
    `fuzzed` fixture; the description does not depend on it."""
    from voipdesk.app import create_app

    placeholder = make_settings("sqlite://")
    return create_app(Platform(settings=placeholder, engine=make_engine("sqlite://")))


APP = _application()
# The fuzzing phase only (EXAMPLES per operation, seeded): the coverage phase, which tries every
# boundary case the description defines, takes several minutes on two shared cores.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
# Audio uploads (voicemail greetings) are sent as the file's bytes, like application/octet-stream.
ASGI_TRANSPORT.serializer("audio/wav", "audio/mpeg")(binary_serializer)

schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP, config=CONFIG)


ANSWERED: dict[int, set[str]] = {}  # status -> operations that answered it (for the report)


class Fuzzed:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        with platform.transaction() as session:
            seed_catalogue(session, platform)
        customer = make_account(platform, language="en")
        staff = make_account(platform, is_staff=True)
        self.customer = create_api_token(platform, customer.id, "fuzz", None)[1]
        self.staff = create_api_token(platform, staff.id, "fuzz", None)[1]
        APP.state.platform = platform

    def headers(self, path: str) -> dict[str, str]:
        token = self.staff if path.startswith("/api/v1/backoffice") else self.customer
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzzed]:
    from datetime import UTC, datetime

    if request.param == "sqlite":
        import shutil

        path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        require(bool(POSTGRES_URL), "PostgreSQL", "set VOIPDESK_TEST_DATABASE_URL")
        url = request.getfixturevalue("postgres_database")
    settings_ = make_settings(url)
    platform = Platform(
        settings=settings_,
        engine=make_engine(url),
        clock=MovableClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
    )
    try:
        yield Fuzzed(platform)
    finally:
        platform.engine.dispose()
        if request.param == "postgresql":
            _truncate_all(url)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,  # seeded: the same examples every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_description_says(case: Any, fuzzed: Fuzzed) -> None:
    response = case.call_and_validate(headers=fuzzed.headers(case.path), checks=CHECKS)
    ANSWERED.setdefault(response.status_code, set()).add(f"{case.method} {case.path}")


def test_the_fuzzing_reached_the_operations() -> None:
    """Run after the fuzzing above: most operations answered something other than 401 (the
    bearer tokens work) and many answered a success."""
    if not ANSWERED:
        pytest.skip("the fuzzing test did not run in this session")
    succeeded = set().union(*(ops for status, ops in ANSWERED.items() if status < 300))
    assert len(succeeded) >= 15, sorted(ANSWERED)


def test_every_operation_documents_its_errors_as_problems() -> None:
    spec = APP.openapi()
    assert "Problem" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            for code, response in errors.items():
                assert list(response["content"]) == ["application/problem+json"], (path, code)
            if operation.get("security"):
                assert {"401", "403"} <= set(errors), (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert {"409", "413", "422"} <= set(errors), (method, path)
    tokens = spec["paths"]["/api/v1/auth/tokens"]["post"]["responses"]
    assert "429" in tokens
