"""The API reference at `/api/docs`, served entirely by the application: Swagger UI's files come
from the `swagger-ui-py` package (PyPI) and are answered from `/api/docs/assets/`, the page has no
inline script (so a strict Content-Security-Policy can hold), and the validator badge that would
call a third-party site is turned off. It renders with the network cut."""

from __future__ import annotations

import html
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response

from voipdesk.core.errors import NotFound
from voipdesk.core.routing import include_flat

DOCS_PATH = "/api/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
# The only files served, with their media types.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def swagger_ui_folder() -> Path:
    return Path(str(files("swagger_ui") / "static"))


@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> bytes:
    return (swagger_ui_folder() / name).read_bytes()


def docs_page(title: str) -> str:
    title = html.escape(title)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} — API reference</title>
  <link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
  <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script src="{DOCS_PATH}/init.js"></script>
</body>
</html>
"""


def init_script(openapi_url: str) -> str:
    return f"""window.ui = SwaggerUIBundle({{
  url: {openapi_url!r},
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  displayOperationId: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
}});
"""


def install(app: FastAPI, openapi_url: str) -> None:
    """Adds the reference's routes (the app is made with `docs_url=None`)."""
    router = APIRouter(include_in_schema=False)
    page = docs_page(app.title)
    script = init_script(openapi_url)
    cache = {"Cache-Control": "public, max-age=86400"}

    @router.get(DOCS_PATH)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(page)

    @router.get(f"{DOCS_PATH}/init.js")
    async def api_docs_init() -> Response:
        return Response(script, media_type="text/javascript; charset=utf-8", headers=cache)

    @router.get(f"{ASSETS_PATH}/{{name}}")
    async def api_docs_asset(name: str) -> Response:
        if name not in ASSETS:
            raise NotFound()
        return Response(_asset(name), media_type=ASSETS[name], headers=cache)

    include_flat(app.router, router)
