"""Routes added flat: one list of plain routes in the application, not routers inside routers.

FastAPI (0.16x) keeps an included router as one lazy entry that is matched again at each level
on every request: with the API router inside the application and the areas' routers inside it,
finding `GET /api/v1/telephony/{group}/lines` took a third of that request's CPU. `include_flat`
adds each route of a router (and of the routers it includes) to the target itself, as
`include_router` did in earlier FastAPI versions, so a request is matched once against plain
routes. The routes, their OpenAPI description and their dependencies stay what they were.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.params import Depends
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

# Every option of `add_api_route` that an APIRoute keeps under the same name.
_ROUTE_OPTIONS = tuple(
    name
    for name in inspect.signature(APIRouter.add_api_route).parameters
    if name not in {"self", "path", "endpoint", "route_class_override", "tags", "dependencies"}
)


def include_flat(
    target: APIRouter,
    router: APIRouter,
    *,
    prefix: str = "",
    dependencies: Sequence[Depends] = (),
    include_in_schema: bool = True,
) -> None:
    """Adds every route of `router` to `target` under `prefix` (the target's own prefix, tags and
    dependencies apply as for a route declared on it; `dependencies` run before the route's)."""
    for route in router.routes:
        _add(target, route, prefix, list(dependencies), include_in_schema)


def _add(
    target: APIRouter,
    route: BaseRoute,
    prefix: str,
    dependencies: list[Depends],
    include_in_schema: bool,
) -> None:
    if isinstance(route, APIRoute):
        options: dict[str, Any] = {name: getattr(route, name) for name in _ROUTE_OPTIONS}
        options["include_in_schema"] = route.include_in_schema and include_in_schema
        target.add_api_route(
            prefix + route.path,
            route.endpoint,
            # The target adds its own tags again: keep only the route's others.
            tags=[tag for tag in route.tags if tag not in (target.tags or [])],
            dependencies=[*dependencies, *route.dependencies],
            **options,
        )
    elif isinstance(route, (Route, Mount)) and not prefix and not dependencies:
        target.routes.append(route)
    else:
        raise TypeError(
            f"cannot add {route!r} flat: include routers with include_flat, "
            "and plain Starlette routes only without a prefix or dependencies"
        )
