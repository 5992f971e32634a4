"""The switch tests run a real Kamailio on the test's own database (SQLite copy or PostgreSQL),
beside voipdesk's web application (the switch asks it to apply star codes)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import require
from tests.switch import harness
from voipdesk.app import create_app


@pytest.fixture
def sip_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sip"
    folder.mkdir()
    return folder


@pytest.fixture
def trunk_port() -> int:
    return harness.free_port()


@pytest.fixture
def web_url(platform) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = harness.free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def switch(platform, sip_folder: Path, trunk_port: int, web_url: str) -> Iterator[harness.Switch]:  # type: ignore[no-untyped-def]
    require(harness.available(), "Kamailio and SIPp", "apt-get install kamailio sip-tester")
    settings = harness.switch_settings(
        platform.settings,
        sip_folder / "switch",
        switch_trunk=f"127.0.0.1:{trunk_port}",
        switch_api_url=web_url,
    )
    with harness.running_switch(settings, sip_folder / "switch") as running:
        yield running
