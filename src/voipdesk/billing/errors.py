"""Billing refusals, each with a stable code."""

from __future__ import annotations

from voipdesk.core.errors import Conflict


class RenewalAlreadyRunning(Conflict):
    code = "renewal-already-running"
    message = (
        "The renewal of %(period)s is already running in another process: wait for it to end "
        "(or start this one with --wait to queue behind it)."
    )
