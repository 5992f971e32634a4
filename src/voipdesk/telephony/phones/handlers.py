"""Periodic job of Plug & Phone: returns opened by the renewal (a terminated or converted line)
are told to the customer by e-mail like the others (idempotent: once per return)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from voipdesk.core.jobs import periodic
from voipdesk.telephony.phones import actions

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


@periodic("telephony.phones.return_notices", every=timedelta(minutes=15))
def return_notices(platform: Platform) -> None:
    with platform.transaction() as session:
        actions.send_return_notices(session, platform)
