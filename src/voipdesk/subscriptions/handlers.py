"""Outbox handlers and periodic jobs of the subscriptions area (all idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.accounts.closure import Blocker, closure_blocker
from voipdesk.core.i18n import N_
from voipdesk.core.jobs import periodic
from voipdesk.core.outbox import handler
from voipdesk.subscriptions import actions, rules

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


@handler("subscriptions.calls_increase_paid")
def calls_increase_paid(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    actions.apply_calls_increase(
        session, platform, payload["service_id"], int(payload["simultaneous_calls"])
    )


@handler("subscriptions.refund_deposit")
def refund_deposit(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """The deposit goes back through the payment provider when it offers refunds of deposits;
    the sandbox records nothing more, so the state change made by the job is the record."""


@periodic("subscriptions.refund_deposits", every=timedelta(hours=6))
def refund_deposits(platform: Platform) -> None:
    actions.refund_due_deposits(platform)


@closure_blocker("subscriptions")
def live_services_block_closure(session: Session, account: Any) -> list[Blocker]:
    return [
        Blocker(
            "active-service",
            N_("The service %(service)s is still active."),
            {"service": actions.describe(s)},
        )
        for s in actions.list_account_services(session, account.id)
        if s.state in rules.LIVE_STATES
    ]
