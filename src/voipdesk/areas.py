"""The business areas, in dependency order. Each is a package with the same rooms:
rules, models, actions, api, errors (and handlers/jobs when it has side effects)."""

from __future__ import annotations

import importlib
from types import ModuleType

# Bottom up, as in the import contract (pyproject.toml): each area may use only those before it.
AREAS = (
    "accounts",
    "catalogue",
    "payments",
    "invoices",
    "validation",
    "orders",
    "subscriptions",
    "telephony",
    # telephony, number side (its own subpackages, each with the usual rooms)
    "telephony.aliases",
    "telephony.abbreviated",
    # telephony, around the line: portability, Plug & Phone and returns, diagnostics
    "telephony.portability",
    "telephony.phones",
    "telephony.diagnostics",
    "switch",
    "media",
    "consumption",
    "billing",
    "webhooks",
)


def _import_optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as missing:
        if missing.name is not None and name.startswith(missing.name):
            return None
        raise


def load_models() -> None:
    """Imports every area's models so that the metadata knows all tables."""
    importlib.import_module("voipdesk.core.outbox")
    importlib.import_module("voipdesk.core.events")
    importlib.import_module("voipdesk.core.jobs")
    for area in AREAS:
        _import_optional(f"voipdesk.{area}.models")


def load_handlers() -> None:
    """Imports outbox handlers and periodic jobs so that a worker can deliver every topic."""
    import voipdesk.core.files  # noqa: F401  (its topic: files removed after their rows)

    load_models()
    for area in AREAS:
        _import_optional(f"voipdesk.{area}.handlers")


def api_routers() -> list:
    routers = []
    for area in AREAS:
        module = _import_optional(f"voipdesk.{area}.api")
        if module is not None and hasattr(module, "router"):
            routers.append(module.router)
    return routers
