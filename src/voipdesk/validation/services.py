"""What other areas ask the validation area: plain functions, ids and booleans in and out.

- orders: `needs_validation` (does a paid order wait for the VoIP procedure?),
  `hold_order_for_validation` (opens or reuses the billing account's procedure for it), and
  `register_waiting_orders` (tells validation which orders wait, since validation never imports
  orders); orders releases them on the `validation.approved` event.
- subscriptions: `request_for_billing_contact_change`; it applies the waiting changes on
  `validation.approved`.
- tests and demo data of other areas: `mark_validated`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from voipdesk.accounts.models import Account
from voipdesk.core.platform import Platform
from voipdesk.validation import actions, rules

APPROVED = actions.APPROVED
register_waiting_orders = actions.register_waiting_orders

__all__ = [
    "APPROVED",
    "hold_order_for_validation",
    "is_validated",
    "mark_validated",
    "needs_validation",
    "register_waiting_orders",
    "request_for_billing_contact_change",
]


def is_validated(session: Session, account_id: str) -> bool:
    """Whether this billing account was validated for VoIP (its procedure approved)."""
    return actions.is_validated(session, account_id)


def needs_validation(session: Session, kinds: Iterable[str], billing_account_id: str) -> bool:
    """True when services of these kinds (catalogue kinds of an order's lines) wait for the VoIP
    procedure of this billing account: they hold VoIP, the account's country has the procedure
    and the account is not validated yet. Reads only."""
    if not rules.contains_voip(kinds):
        return False
    account = session.get(Account, billing_account_id)
    if account is None or not rules.procedure_applies(account.country):
        return False
    return not actions.is_validated(session, account.id)


def hold_order_for_validation(
    session: Session, billing_account_id: str, order_id: str, paid_at: datetime
) -> str:
    """A paid order waits for its billing account's procedure: opens one (or reuses the open one),
    notes the order in it, and queues the e-mail with its PDF. Idempotent. Returns its id."""
    account = session.get(Account, billing_account_id)
    assert account is not None
    procedure, created = actions.open_or_reuse(
        session,
        account,
        rules.REASON_FIRST_ORDER,
        paid_at,
        "system",
        context={"order_ids": [order_id]},
    )
    if not created:
        known = list(procedure.context.get("order_ids", []))
        if order_id not in known:
            procedure.context = {**procedure.context, "order_ids": [*known, order_id]}
    if procedure.sent_at is None:
        actions.enqueue_sending(session, procedure, paid_at)
    return procedure.id


def request_for_billing_contact_change(
    session: Session, platform: Platform, account_id: str, billing_groups: list[str] | None = None
) -> str | None:
    """A billing-contact change of VoIP services to `account_id` waits for that account's
    validation: returns the id of its procedure (opened and e-mailed if needed), or None when
    nothing is to wait for (validated, or no procedure in its country)."""
    procedure = actions.request_for_billing_contact_change(
        session, platform, account_id, billing_groups
    )
    return None if procedure is None else procedure.id


def mark_validated(
    session: Session, platform: Platform, account_id: str, actor: str = "system"
) -> None:
    """Records an account as validated without a procedure (operator's decision, demo data,
    other areas' tests). Idempotent."""
    actions.mark_validated(session, platform, account_id, actor)
