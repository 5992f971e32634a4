"""Shared fixtures: a migrated database on SQLite and PostgreSQL, a movable clock, an API client.

Every test that takes `platform` runs once per database backend. PostgreSQL runs when
VOIPDESK_TEST_DATABASE_URL is set (CI sets it); otherwise those runs skip, saying what to set.
With VOIPDESK_TEST_REQUIRE_ALL=1 (CI), a missing component fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from voipdesk.areas import load_handlers
from voipdesk.core.clock import MovableClock
from voipdesk.core.db import Base, make_engine, normalise_url
from voipdesk.core.migrate import upgrade
from voipdesk.core.platform import Platform
from voipdesk.core.settings import Settings

REQUIRE_ALL = os.environ.get("VOIPDESK_TEST_REQUIRE_ALL") == "1"
POSTGRES_URL = os.environ.get("VOIPDESK_TEST_DATABASE_URL")
# The audio files of every test of this run (each pytest worker its own folder).
TEST_MEDIA_DIR = Path(tempfile.mkdtemp(prefix="voipdesk-test-media-"))
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def require(available: bool, what: str, how: str) -> None:
    """Skips (locally) or fails (CI) a test whose component is missing."""
    if available:
        return
    message = f"{what} is not available: {how}"
    if REQUIRE_ALL:
        pytest.fail(message)
    pytest.skip(message)


def test_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "base_url": "https://testserver",
        "secret_key": "test-secret-key-0123456789abcdef",
        "payment_provider": "sandbox",
        "payment_webhook_secret": "test-webhook-secret-fedcba9876543210",
        "smtp_host": None,
        # Most tests order with accounts made by the factories; the web tests of e-mail
        # verification turn the rule on.
        "require_verified_email": False,
        # The webhook tests' receivers listen on 127.0.0.1; the address checks' own tests turn
        # the rule back on.
        "webhooks_allow_private_addresses": True,
        "media_dir": str(TEST_MEDIA_DIR),  # keys are unique: every test can share it
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per test session; each test gets a copy."""
    load_handlers()
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test session (and xdist worker), dropped at the end."""
    if not POSTGRES_URL:
        yield None
        return
    load_handlers()
    server = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"voipdesk_test_{uuid.uuid4().hex[:10]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = normalise_url(POSTGRES_URL).rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "voipdesk.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    require(
        bool(POSTGRES_URL),
        "PostgreSQL",
        "set VOIPDESK_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test",
    )
    url = request.getfixturevalue("postgres_database")
    yield url
    _truncate_all(url)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return test_settings(database_url)


@pytest.fixture
def platform(settings: Settings, clock: MovableClock) -> Iterator[Platform]:
    platform = Platform(settings=settings, engine=make_engine(settings.database_url), clock=clock)
    yield platform
    platform.engine.dispose()


@pytest.fixture
def client(platform: Platform):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from voipdesk.app import create_app

    with TestClient(create_app(platform), base_url="https://testserver") as test_client:
        yield test_client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI nothing may be skipped: a skip there means a component was not installed."""
    shutil.rmtree(TEST_MEDIA_DIR, ignore_errors=True)
    if not REQUIRE_ALL:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and session.exitstatus == 0:
        session.exitstatus = 1
        if reporter is not None:
            reporter.write_line(
                f"{len(skipped)} test(s) were skipped in CI: install what they name.", red=True
            )
