"""REST API of telephony settings: one `router` (loaded by `voipdesk.areas`) made of one module per
resource. The sub-areas (aliases, abbreviated numbers) are areas of their own in `voipdesk.areas`,
which loads their routers."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

from voipdesk.core.routing import include_flat

router = APIRouter(tags=["telephony"])

for _name in ("lines", "voicemail"):
    include_flat(router, importlib.import_module(f"voipdesk.telephony.api.{_name}").router)

__all__ = ["router"]
