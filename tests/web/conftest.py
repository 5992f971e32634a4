"""Web fixtures: helpers for TestClient page tests, and a real uvicorn server for Playwright."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require, test_settings
from voipdesk.core.db import make_engine
from voipdesk.core.platform import Platform

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
]
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def login(client, identifier: str, password: str, next_path: str = "/"):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "csrf_token": csrf_from(page.text),
            "identifier": identifier,
            "password": password,
            "next": next_path,
        },
        follow_redirects=False,
    )


@dataclass
class LiveServer:
    url: str
    platform: Platform


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """The whole application served by uvicorn on 127.0.0.1, on a migrated SQLite copy."""
    import uvicorn

    from voipdesk.app import create_app

    database = tmp_path / "live.sqlite3"
    shutil.copy(sqlite_template, database)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = test_settings(f"sqlite:///{database}", base_url=url, cookie_secure=True)
    platform = Platform(settings=settings, engine=make_engine(settings.database_url))
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveServer(url, platform)
    server.should_exit = True
    thread.join(timeout=10)
    platform.engine.dispose()


@pytest.fixture
def browser_page(live_server: LiveServer) -> Iterator:
    """A Playwright page in Debian's Chromium, with base_url set to the live server."""
    require(os.path.exists(CHROMIUM), "Chromium", "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url, locale="fr-FR")
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
