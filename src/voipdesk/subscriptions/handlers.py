"""Outbox handlers and periodic jobs of the subscriptions area (all idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from voipdesk.accounts.closure import Blocker, closure_blocker
from voipdesk.core.events import subscribe
from voipdesk.core.i18n import N_
from voipdesk.core.jobs import periodic
from voipdesk.core.outbox import handler
from voipdesk.orders.services import register_billing_group_check
from voipdesk.payments.services import register_removal_guard
from voipdesk.subscriptions import actions, rules
from voipdesk.subscriptions.delivery import READY_FOR_DELIVERY, deliver
from voipdesk.subscriptions.models import BillingGroup
from voipdesk.validation.services import APPROVED

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform


# Payments (below) asks before removing a default payment method: renewals need it.
register_removal_guard(actions.has_auto_renewing_services)


@register_billing_group_check
def billing_group_takes_orders(session: Session, account_id: str, group_id: str) -> bool:
    """Orders (below) asks whether an order may name this billing group: the account's, open."""
    group = session.get(BillingGroup, group_id)
    return group is not None and group.account_id == account_id and group.state != "terminated"


@handler("subscriptions.calls_increase_paid")
def calls_increase_paid(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    actions.apply_calls_increase(
        session, platform, payload["service_id"], int(payload["simultaneous_calls"])
    )


@subscribe(READY_FOR_DELIVERY)
def deliver_order(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """A paid (and, where needed, validated) order: its services are created, then orders is told
    (`orders.services.mark_delivered`); a repeated event finds it delivered."""
    deliver(platform, session, payload["order_id"])


@subscribe(APPROVED)
def apply_billing_contact_changes(
    platform: Platform, session: Session, payload: dict[str, Any]
) -> None:
    """The account is validated for VoIP: the billing-contact changes waiting for it apply
    (idempotent: an applied change no longer waits)."""
    actions.release_billing_contact_changes(session, platform, payload["account_id"])


@handler("subscriptions.refund_deposit")
def refund_deposit(platform: Platform, session: Session, payload: dict[str, Any]) -> None:
    """The deposit goes back through the payment provider, against the payment of the order that
    lent the phone (idempotent: the provider refunds once per loan, a refunded loan stays)."""
    from voipdesk.subscriptions import loans

    loans.refund_deposit(session, platform, payload["loan_id"])


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
            link="/services",
        )
        for s in actions.list_account_services(session, account.id)
        if s.state in rules.LIVE_STATES
    ]
