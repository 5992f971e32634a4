"""Routes added flat keep their path, dependencies, schema visibility and tags."""

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from voipdesk.core.routing import include_flat

calls: list[str] = []


def outer_dependency(request: Request) -> None:
    calls.append("outer")


def route_dependency() -> None:
    calls.append("route")


def build_app() -> FastAPI:
    inner = APIRouter(tags=["inner"])

    @inner.get("/items/{item_id}", dependencies=[Depends(route_dependency)])
    def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    hidden = APIRouter()

    @hidden.get("/hidden")
    def read_hidden() -> dict[str, bool]:
        return {"hidden": True}

    area = APIRouter()
    include_flat(area, inner, prefix="/area")
    app = FastAPI()
    include_flat(app.router, area, prefix="/api", dependencies=[Depends(outer_dependency)])
    include_flat(app.router, hidden, include_in_schema=False)
    return app


def test_a_nested_route_answers_under_both_prefixes_with_both_dependencies_in_order() -> None:
    calls.clear()
    client = TestClient(build_app())
    response = client.get("/api/area/items/7")
    assert response.status_code == 200
    assert response.json() == {"item_id": 7}
    assert calls == ["outer", "route"]


def test_the_routes_are_plain_routes_of_the_application_not_routers() -> None:
    app = build_app()
    paths = [getattr(route, "path", None) for route in app.router.routes]
    assert "/api/area/items/{item_id}" in paths
    assert "/hidden" in paths


def test_schema_keeps_tags_and_leaves_out_what_was_hidden() -> None:
    schema = TestClient(build_app()).get("/openapi.json").json()
    assert schema["paths"]["/api/area/items/{item_id}"]["get"]["tags"] == ["inner"]
    assert "/hidden" not in schema["paths"]
    assert TestClient(build_app()).get("/hidden").json() == {"hidden": True}


def test_a_plain_route_under_a_prefix_is_refused_rather_than_added_without_it() -> None:
    router = APIRouter()
    router.routes.append(Route("/plain", endpoint=lambda request: None))
    with pytest.raises(TypeError, match="cannot add"):
        include_flat(APIRouter(), router, prefix="/api")
    mounted = APIRouter()
    mounted.routes.append(Mount("/static", routes=[]))
    target = APIRouter()
    include_flat(target, mounted)
    assert target.routes[-1] is mounted.routes[0]
