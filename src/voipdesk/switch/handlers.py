"""Periodic jobs and outbox handlers of the switch area (idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog

from voipdesk.core.jobs import periodic
from voipdesk.core.outbox import Outcome, external_handler
from voipdesk.switch import actions, notifier, rules
from voipdesk.switch.config import switch_token
from voipdesk.telephony import rules as telephony_rules
from voipdesk.telephony import services as telephony

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

log = structlog.get_logger(__name__)
# The switch's answers that mean "nothing to tell": no phone registered on the line.
NOBODY_TO_TELL = (404, 480)


@periodic("switch.announce_calls", every=timedelta(seconds=5))
def announce_ended_calls(platform: Platform) -> None:
    """Calls the switch recorded become `switch.call_ended` events (webhooks) within seconds."""
    while True:
        with platform.transaction() as session:
            if actions.announce_ended_calls(session, platform) < actions.ANNOUNCE_BATCH:
                return


@external_handler(telephony_rules.MESSAGE_WAITING_TOPIC)
def tell_the_phone(platform: Platform, payload: dict[str, Any]) -> Outcome | None:
    """The line's phone is told whether messages wait (an unsolicited NOTIFY through the
    switch). A phone not registered has nothing to be told; any other refusal is retried."""
    with platform.session() as session:
        waiting = telephony.message_waiting(session, payload["service_id"])
    if waiting is None:
        return None
    settings = platform.settings
    answer = notifier.send_message_summary(
        settings,
        switch_token(settings),
        waiting.sip_username,
        rules.WaitingMessages(new=waiting.new, saved=waiting.saved),
    )
    if answer.status >= 300 and answer.status not in NOBODY_TO_TELL:
        raise notifier.SwitchRefused(f"{answer.status} {answer.reason}")
    log.info("switch.message_summary", status=answer.status, new=waiting.new)
    return None
