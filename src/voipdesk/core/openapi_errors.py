"""The errors each API operation can answer, in the OpenAPI description.

Every error of the API is `application/problem+json` (RFC 9457, see core.http); this module adds
them to the description FastAPI generates, operation by operation, from what the operation is:

- 401 and 403: it needs a bearer token (its `security` names one);
- 404: it has path parameters, or a body naming other objects (an object of another customer
  answers 404 exactly as one that does not exist);
- 400, 409, 413: it changes something (POST, PUT, PATCH, DELETE): a body that cannot be read,
  a conflict with the current state, a body over the size limit;
- 422: it takes parameters or a body (FastAPI's own 422 schema is replaced by the problem);
- 429: it checks a password or a code (logins, re-authentication), which is throttled;
- 503: it pays through the payment provider, which may not be configured.

`document_errors(app)` wraps `app.openapi`, so it composes with any other customisation of the
description (names, operation ids) made before or after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from voipdesk.core.http import PROBLEM_JSON

PROBLEM_SCHEMA = "Problem"
WRITE_METHODS = {"post", "put", "patch", "delete"}
# Operations that check a password or a second factor: their failures are throttled (429).
THROTTLED = {
    ("post", "/api/v1/auth/tokens"),
    ("post", "/api/v1/me/password"),
    ("post", "/api/v1/me/closure"),
    ("delete", "/api/v1/me/totp"),
}
DESCRIPTIONS = {
    "400": "The body cannot be read (or, for a webhook, its signature is wrong)",
    "401": "No valid bearer token",
    "403": "The token's account may not do this",
    "404": "Not found (or not the caller's)",
    "409": "Conflicts with the current state",
    "413": "The body is over the size limit",
    "422": "Invalid input: `errors` lists each bad field",
    "429": "Too many failed tries: wait `retry_after` seconds",
    "503": "The payment provider is not available",
}


def problem_schema() -> dict[str, Any]:
    return {
        "title": PROBLEM_SCHEMA,
        "type": "object",
        "description": "A problem (RFC 9457): `type` is a stable code, `title` and `detail` "
        "are in the caller's language.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "description": "Stable error code"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "The bad fields, for 422 answers",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {
                        "field": {"type": "string"},
                        "type": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
            "retry_after": {"type": "integer", "description": "Seconds to wait (429)"},
        },
        "additionalProperties": True,
    }


def _problem_response(code: str) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[code],
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}}},
    }


def errors_of(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses this operation can answer (see the module's docstring)."""
    codes: set[str] = set()
    secured = bool(operation.get("security"))
    has_body = "requestBody" in operation
    parameters = operation.get("parameters", [])
    if secured:
        codes |= {"401", "403"}
    if any(p.get("in") == "path" for p in parameters) or has_body:
        codes.add("404")
    if method in WRITE_METHODS:
        codes |= {"400", "409", "413"}
    if parameters or has_body or method in WRITE_METHODS:
        codes.add("422")
    if (method, path) in THROTTLED:
        codes.add("429")
    if method == "post" and ("/payments" in path or "/payment-methods" in path):
        codes.add("503")
    return sorted(codes)


def add_error_responses(spec: dict[str, Any]) -> dict[str, Any]:
    """Adds the problem schema and each operation's error answers to an OpenAPI description."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM_SCHEMA] = problem_schema()
    for path, item in spec.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code in errors_of(method, path, operation):
                documented = responses.get(code)
                if documented is None or PROBLEM_JSON not in documented.get("content", {}):
                    responses[code] = _problem_response(code)
    # FastAPI's own validation-error schemas, once nothing refers to them any more.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas_left = {name: schema for name, schema in schemas.items() if name != unused}
        if f"#/components/schemas/{unused}" not in json.dumps([spec.get("paths"), schemas_left]):
            schemas.pop(unused, None)
    return spec


def document_errors(app: FastAPI) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_error_responses(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
