"""The web customer space and back office: server-rendered pages (Jinja2 + htmx).

`install(app)` mounts /static and includes the router of every module in `voipdesk.web.pages`,
each behind the CSRF check, so that no page POST can skip it. Unknown non-API paths answer an
HTML 404 page.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from voipdesk.core.errors import NotFound
from voipdesk.core.routing import include_flat
from voipdesk.web.csrf import verify_csrf

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"


def page_routers() -> list[APIRouter]:
    from voipdesk.web import pages

    routers = []
    for module_info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda info: info.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{pages.__name__}.{module_info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in page_routers():
        include_flat(
            app.router, router, include_in_schema=False, dependencies=[Depends(verify_csrf)]
        )
    # Last route: any other page path is a 404 page; API paths keep their problem+json 404.
    fallback = APIRouter(include_in_schema=False)

    @fallback.get("/{path:path}")
    async def not_found(request: Request, path: str) -> None:
        if request.url.path.startswith("/api/"):
            raise StarletteHTTPException(404)
        raise NotFound()

    include_flat(app.router, fallback)
