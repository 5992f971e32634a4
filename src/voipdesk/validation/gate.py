"""What the orders area asks when an order is paid: does it wait for the VoIP procedure?

A customer's first order of VoIP services (France, Belgium, Switzerland) waits in `validation`
until staff approve the procedure. Tests of other areas whose customers should go straight to
delivery record them as validated: `voipdesk.validation.actions.mark_validated(session, platform,
account_id)`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.validation import rules
from voipdesk.validation.actions import (
    enqueue_sending,
    is_validated,
    open_or_reuse,
    request_for_billing_contact_change,
)

# For the subscriptions area: is the new billing contact validated, and if not, ask for it.
__all__ = [
    "is_validated",
    "needs_validation",
    "request_for_billing_contact_change",
    "requires_validation",
]


def billing_account_id(order: Any) -> str:
    """The account invoiced and debited for the order (its billing contact)."""
    contact = getattr(order, "billing_contact", None) or {}
    return str(contact.get("account_id") or order.account_id)


def needs_validation(session: Session, order: Any) -> bool:
    """True when the order holds VoIP services and its billing account is not validated yet
    (in a country where the procedure exists). Reads only."""
    if not rules.contains_voip(line.kind for line in order.lines):
        return False
    account = session.get(Account, billing_account_id(order))
    if account is None or not rules.procedure_applies(account.country):
        return False
    return not is_validated(session, account.id)


def requires_validation(session: Session, order: Any) -> bool:
    """Asked by the orders area. Once the order is paid (`paid_at` set), a True answer also opens
    the billing account's procedure (or reuses the open one) in this same session, and queues the
    e-mail with its PDF. Before payment (a follow-up page) it only answers."""
    if not needs_validation(session, order):
        return False
    if order.paid_at is None:
        return True
    account = session.get(Account, billing_account_id(order))
    assert account is not None
    procedure, created = open_or_reuse(
        session,
        account,
        rules.REASON_FIRST_ORDER,
        order.paid_at,
        "system",
        context={"order_ids": [order.id]},
    )
    if not created:
        known = list(procedure.context.get("order_ids", []))
        if order.id not in known:
            procedure.context = {**procedure.context, "order_ids": [*known, order.id]}
    if procedure.sent_at is None:
        enqueue_sending(session, procedure, order.paid_at)
    return True
