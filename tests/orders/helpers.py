"""Small helpers shared by the orders tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voipdesk.accounts.models import Account, ServiceEmail
from voipdesk.core.outbox import drain
from voipdesk.core.platform import Platform
from voipdesk.orders import actions
from voipdesk.orders.actions import CardInput, Cart, CartLine, PaymentRequest
from voipdesk.orders.models import PurchaseOrder
from voipdesk.payments.models import Payment
from voipdesk.payments.provider import (
    TEST_CARD_DECLINED,
    TEST_CARD_NEEDS_CONFIRMATION,
    TEST_CARD_SUCCEEDS,
)

GOOD_CARD = CardInput(TEST_CARD_SUCCEEDS, 12, 2030, "123")
DECLINED_CARD = CardInput(TEST_CARD_DECLINED, 12, 2030, "123")
CONFIRM_CARD = CardInput(TEST_CARD_NEEDS_CONFIRMATION, 12, 2030, "123")

TWO_LINES_TEN_ALIASES = Cart(
    lines=[
        CartLine(offer="sip-decouverte", quantity=2, area="+331"),
        CartLine(offer="alias-number", quantity=10, area="+331"),
    ]
)


def create(
    platform: Platform, account: Account, cart: Cart = TWO_LINES_TEN_ALIASES
) -> PurchaseOrder:
    with platform.transaction() as session:
        owner = session.get(Account, account.id)
        assert owner is not None
        return actions.create_order(session, platform, owner, cart)


def pay(
    platform: Platform, account: Account, order_id: str, request: PaymentRequest | None = None
) -> Payment:
    with platform.transaction() as session:
        owner = session.get(Account, account.id)
        assert owner is not None
        return actions.pay_order(
            session, platform, owner, order_id, request or PaymentRequest(card=GOOD_CARD)
        )


def load(platform: Platform, order_id: str) -> PurchaseOrder:
    with platform.session() as session:
        return actions.get_order(session, None, order_id)


def emails(platform: Platform, account: Account) -> list[ServiceEmail]:
    """The order e-mails sent to this customer (not the welcome e-mail of the sign-up)."""
    with platform.session() as session:
        return list(
            session.scalars(
                select(ServiceEmail)
                .options(selectinload(ServiceEmail.attachments))
                .where(
                    ServiceEmail.account_id == account.id, ServiceEmail.kind.startswith("order-")
                )
                .order_by(ServiceEmail.created_at)
            )
        )


def email_kinds(platform: Platform, account: Account) -> list[str]:
    return [email.kind for email in emails(platform, account)]


def run_outbox(platform: Platform) -> int:
    return drain(platform)


def accepted_terms() -> dict[str, str]:
    """The current versions of the terms, as a customer accepts them on the review page."""
    from voipdesk.orders.rules import TERMS

    return {code: terms.version for code, terms in TERMS.items()}


def with_terms(body: dict[str, Any]) -> dict[str, Any]:
    """An order body with the terms accepted (the API makes no order without them)."""
    return {**body, "accepted_terms": accepted_terms()}
