"""REST API of telephony settings: one `router` (loaded by `voipdesk.areas`) made of one module per
resource; sub-areas (aliases, abbreviated numbers) add theirs when present."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

router = APIRouter(tags=["telephony"])

for _name in ("lines", "voicemail"):
    router.include_router(importlib.import_module(f"voipdesk.telephony.api.{_name}").router)

for _optional in ("voipdesk.telephony.aliases.api", "voipdesk.telephony.abbreviated.api"):
    try:
        _module = importlib.import_module(_optional)
    except ModuleNotFoundError as _missing:
        if _missing.name is None or not _optional.startswith(_missing.name):
            raise
    else:
        router.include_router(_module.router)

__all__ = ["router"]
