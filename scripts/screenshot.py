"""Takes docs/screenshot-dashboard.png: a demo customer's dashboard, in Chromium.

Usage: uv run python scripts/screenshot.py [--chromium /usr/bin/chromium] [--page /security]
Runs the application on a temporary SQLite database; nothing else is touched.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from voipdesk.accounts.actions import SignUpData, sign_up
from voipdesk.app import create_app
from voipdesk.areas import load_handlers
from voipdesk.core.db import make_engine
from voipdesk.core.migrate import upgrade
from voipdesk.core.platform import Platform
from voipdesk.core.settings import Settings, new_secret

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Correct-Horse-Battery-42!"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--page", default="/", help="the page to capture (default: the dashboard)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "screenshot-dashboard.png"))
    parser.add_argument("--width", type=int, default=1280)
    arguments = parser.parse_args()

    load_handlers()
    folder = Path(tempfile.mkdtemp())
    database_url = f"sqlite:///{folder / 'screenshot.sqlite3'}"
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        base_url=url,
        payment_provider="sandbox",
        payment_webhook_secret=new_secret(),
    )
    platform = Platform.from_settings(settings)
    account = sign_up(
        platform,
        SignUpData(
            kind="individual",
            country="FR",
            language="fr",
            first_name="Camille",
            last_name="Martin",
            address_line1="12 rue des Lilas",
            postal_code="69003",
            city="Lyon",
            email="camille@example.org",
            mobile="+33612345678",
            password=PASSWORD,
        ),
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=arguments.chromium,
                args=[
                    "--no-sandbox",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-gpu",
                ],
            )
            page = browser.new_page(
                base_url=url, locale="fr-FR", viewport={"width": arguments.width, "height": 800}
            )
            page.goto("/login")
            page.get_by_label("Identifiant client ou e-mail").fill(account.handle)
            page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_url(f"{url}/")
            if arguments.page != "/":
                page.goto(arguments.page)
            Path(arguments.output).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=arguments.output, full_page=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    print(arguments.output)


if __name__ == "__main__":
    main()
