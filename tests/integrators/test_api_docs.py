"""The API reference at /api/docs is served by the application itself: every asset it names is
same-origin and answered, no script is inline, the validator badge (a third-party call) is off,
and in Chromium with every other host cut off it renders the whole reference."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.conftest import require
from tests.integrators.conftest import serving
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS
from voipdesk.core.platform import Platform


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)
        self._in_script = tag == "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def test_the_reference_names_only_same_origin_assets(bare_platform: Platform) -> None:
    with serving(bare_platform) as url, httpx.Client(base_url=url) as http:
        page = http.get("/api/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        references = _References()
        references.feed(page.text)
        assert references.inline_scripts == 0
        assert len(references.urls) == 4  # icon, stylesheet, Swagger UI, its settings
        for reference in references.urls:
            absolute = urljoin(f"{url}/api/docs", reference)
            assert urlsplit(absolute).netloc == urlsplit(url).netloc, reference
            assert http.get(absolute).status_code == 200, reference
        settings = http.get("/api/docs/init.js").text
        assert "validatorUrl: null" in settings
        assert "'/api/v1/openapi.json'" in settings
        assert not re.search(r"https?://", page.text + settings)
        assert http.get("/api/docs/assets/swagger-editor-bundle.js").status_code == 404
        assert http.get("/api/docs/assets/..%2F..%2F__init__.py").status_code == 404


@pytest.mark.browser
def test_the_reference_renders_with_the_network_cut(bare_platform: Platform) -> None:
    require(os.path.exists(CHROMIUM), "Chromium", "apt-get install chromium")
    from playwright.sync_api import Route, sync_playwright

    elsewhere: list[str] = []
    with serving(bare_platform) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()

            def cut(route: Route) -> None:
                if route.request.url.startswith(url + "/"):
                    route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    route.abort()

            page.route("**/*", cut)
            page.goto(f"{url}/api/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=20000)
            assert "voipdesk" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector("#operations-services-list_lines")
            tags = page.locator(".opblock-tag").all_inner_texts()
            assert {"accounts", "orders", "services", "webhooks"} <= {
                tag.split("\n")[0].strip() for tag in tags
            }
        finally:
            browser.close()
    assert elsewhere == []
