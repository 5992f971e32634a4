"""Finding 7: security headers — a CSP on pages that they really run under, nosniff, HSTS over
https, no server banner."""

from __future__ import annotations

import threading
import time

from tests.web.conftest import (  # noqa: F401 (fixtures)
    browser_page,
    live_server,
)
from tests.web.test_browser import FRENCH, fill_sign_up


def test_pages_have_a_content_security_policy_and_every_answer_nosniff(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split(";")[1]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    api = client.get("/api/v1/catalogue?country=FR")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in api.headers  # JSON is no page
    assert client.get("/static/app.css").headers["x-content-type-options"] == "nosniff"


def test_hsts_only_over_https(client, platform) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    assert "max-age=" in client.get("/login").headers["strict-transport-security"]
    plain = TestClient(client.app, base_url="http://testserver")
    assert "strict-transport-security" not in plain.get("/login").headers


def test_the_templates_carry_no_inline_script() -> None:
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "src" / "voipdesk" / "web" / "templates"
    for path in templates.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, (path, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), path  # no onclick= and the like
        assert "javascript:" not in text, path


def test_serve_sends_no_server_banner(live_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import socket

    import httpx
    import uvicorn

    from voipdesk.app import create_app
    from voipdesk.cli import SERVER_SETTINGS

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(live_server.platform),
            host="127.0.0.1",
            port=port,
            **SERVER_SETTINGS,  # type: ignore[arg-type]
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            time.sleep(0.05)
        answer = httpx.get(f"http://127.0.0.1:{port}/login")
        assert answer.status_code == 200
        assert "server" not in answer.headers
        assert "strict-transport-security" not in answer.headers  # plain http
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_pages_work_under_their_policy_in_a_browser(browser_page, live_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page = browser_page
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto("/signup")
    # htmx (a static script) still runs: the strength of the password is checked as one types
    page.get_by_label(FRENCH["password"], exact=True).fill("short")
    page.locator("#password-strength").get_by_text("10").wait_for()
    fill_sign_up(
        page,
        first_name="Camille",
        last_name="Martin",
        email="camille.csp@example.org",
        language_label="Français",
        labels=FRENCH,
    )
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("navigation").get_by_role("link", name="E-mails de service").click()
    page.get_by_role("link", name=__import__("re").compile("Bienvenue chez")).click()
    page.frame_locator("iframe.email-body").get_by_text(
        "Votre compte client VoIPdesk Telecom est prêt."
    ).wait_for()
    assert refused == []
