"""`voipdesk serve --workers N`: several web processes on PostgreSQL only, one outbox worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from voipdesk import cli
from voipdesk.core.outbox import Worker
from voipdesk.core.settings import get_settings


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    """Records what `serve` hands to uvicorn instead of serving; no migration, no worker thread."""
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    monkeypatch.setattr(cli, "upgrade", lambda engine: None)
    monkeypatch.setattr(Worker, "start_thread", lambda self: calls.append(("outbox", {})))
    monkeypatch.setattr(Worker, "stop", lambda self: None)
    monkeypatch.delenv("VOIPDESK_DATABASE_URL", raising=False)
    monkeypatch.delenv("VOIPDESK_BASE_URL", raising=False)
    # serve refuses the public default secret key (tests/security covers that refusal)
    monkeypatch.setenv("VOIPDESK_SECRET_KEY", "a-test-secret-key-of-forty-characters-00")
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_several_workers_are_refused_on_sqlite(tmp_path: Path, started: list[Any]) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = CliRunner().invoke(cli.app, ["serve", "--workers", "2", "--database-url", url])
    assert result.exit_code == 2
    assert "--workers above 1 needs PostgreSQL" in result.output
    assert started == []  # nothing started


def test_zero_workers_are_refused() -> None:
    assert cli.check_workers(0, "postgresql://db/voipdesk") == "--workers must be at least 1."


def test_several_workers_run_on_postgresql_with_one_outbox_worker(
    started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql://voipdesk@db.invalid/voipdesk"  # never connected: uvicorn.run is recorded
    result = CliRunner().invoke(cli.app, ["serve", "--workers", "3", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert [name for name, _options in started] == ["outbox", "voipdesk.cli:web_app"]
    options = started[1][1]
    assert options["workers"] == 3
    assert options["factory"] is True
    import os

    # the web processes build their platform from the environment serve prepared
    assert os.environ["VOIPDESK_DATABASE_URL"] == url


def test_one_worker_serves_in_process_on_sqlite(tmp_path: Path, started: list[Any]) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = CliRunner().invoke(cli.app, ["serve", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert started[0] == ("outbox", {})
    app, options = started[1]
    assert not isinstance(app, str)  # the application object itself, no worker processes
    assert "workers" not in options
    assert options["access_log"] is False
