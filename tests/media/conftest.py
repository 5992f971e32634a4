"""The media service in the test process (its own thread and event loop) on the test's
database, and a real Kamailio that hands it the calls for voicemail, 123 and conferences."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.switch import harness
from tests.switch.conftest import sip_folder, trunk_port, web_url
from voipdesk.media.commands import Background
from voipdesk.switch.sipp import free_port

__all__ = ["sip_folder", "trunk_port", "web_url"]


@pytest.fixture
def media(platform) -> Iterator[Background]:  # type: ignore[no-untyped-def]
    low = 20000 + (free_port() % 300) * 100  # tests in parallel use distinct RTP ranges
    platform.settings = platform.settings.model_copy(
        update={"media_port": free_port(), "media_rtp_min": low, "media_rtp_max": low + 98}
    )
    running = Background(platform).start()
    yield running
    running.stop()


@pytest.fixture
def switch(
    platform, media, sip_folder: Path, trunk_port: int, web_url: str
) -> Iterator[harness.Switch]:  # type: ignore[no-untyped-def]
    require(harness.available(), "Kamailio and SIPp", "apt-get install kamailio sip-tester")
    settings = harness.switch_settings(
        platform.settings,
        sip_folder / "switch",
        switch_trunk=f"127.0.0.1:{trunk_port}",
        switch_api_url=web_url,
        switch_media_uri=f"127.0.0.1:{media.port}",
    )
    with harness.running_switch(settings, sip_folder / "switch") as running:
        yield running
