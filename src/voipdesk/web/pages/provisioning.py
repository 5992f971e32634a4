"""The phones' provisioning route, `GET /provisioning/{mac}.cfg`, mounted at the root (phones
ask it at boot, outside the API); its rules are the Plug & Phone area's."""

from __future__ import annotations

from voipdesk.telephony.phones.api import provisioning_router as router

__all__ = ["router"]
