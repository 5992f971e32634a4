"""The switch tests run a real Kamailio on the test's own database (SQLite copy or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.switch import harness


@pytest.fixture
def sip_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sip"
    folder.mkdir()
    return folder


@pytest.fixture
def trunk_port() -> int:
    return harness.free_port()


@pytest.fixture
def switch(platform, sip_folder: Path, trunk_port: int) -> Iterator[harness.Switch]:  # type: ignore[no-untyped-def]
    require(harness.available(), "Kamailio and SIPp", "apt-get install kamailio sip-tester")
    settings = harness.switch_settings(
        platform.settings, sip_folder / "switch", switch_trunk=f"127.0.0.1:{trunk_port}"
    )
    with harness.running_switch(settings, sip_folder / "switch") as running:
        yield running
