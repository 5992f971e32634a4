"""Questions other areas ask about services (kept for callers not yet on `services`)."""

from __future__ import annotations

from voipdesk.subscriptions.services import has_auto_renewing_services, live_services_count

__all__ = ["has_auto_renewing_services", "live_services_count"]
