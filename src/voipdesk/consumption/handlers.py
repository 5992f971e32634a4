"""Periodic jobs of the consumption area (idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from voipdesk.consumption import actions, services
from voipdesk.core.jobs import periodic

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


@periodic("consumption.rate", every=timedelta(seconds=5))
def rate_new_calls(platform: Platform) -> None:
    """New call records (from the switch or an import) rated within seconds; the spending caps
    of their groups checked at once. A new month releases the caps reached in the last one."""
    with platform.transaction() as session:
        actions.release_past_months(session, platform)
    services.rate_everything_pending(platform)
