"""REST API of billing groups, lines, numbers, fax lines, pending changes and service management.

One `router` (loaded by `voipdesk.areas` as `subscriptions.api.router`) made of one module per
resource; the bodies are in `schemas`, the shared helpers in `common`.
"""

from fastapi import APIRouter

from voipdesk.core.routing import include_flat
from voipdesk.subscriptions.api import groups, hardware, lines, numbers, services

router = APIRouter(tags=["telephony"])
for _module in (groups, lines, numbers, services, hardware):
    include_flat(router, _module.router)

__all__ = ["router"]
