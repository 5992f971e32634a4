"""Periodic jobs of the switch area (idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from voipdesk.core.jobs import periodic
from voipdesk.switch import actions

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


@periodic("switch.announce_calls", every=timedelta(seconds=5))
def announce_ended_calls(platform: Platform) -> None:
    """Calls the switch recorded become `switch.call_ended` events (webhooks) within seconds."""
    while True:
        with platform.transaction() as session:
            if actions.announce_ended_calls(session, platform) < actions.ANNOUNCE_BATCH:
                return
