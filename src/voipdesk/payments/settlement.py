"""How a payment settles: a payment attempt is started (card, SEPA debit, bank transfer), the
provider answers (at once, or later by a signed webhook), and a success is applied exactly once.

The thing paid (today: a purchase order, in the orders area above) is reached through the
settlement target that its area registers (`register_settlement_target`), so that payments never
imports orders:

1. `start_payment` records a `Payment` (`order_payment` table) and asks the provider to charge a
   card token or debit a SEPA mandate; a bank transfer just waits (`awaiting_transfer`).
2. The result arrives synchronously (`SUCCEEDED`/`FAILED`/`REQUIRES_CONFIRMATION`) or as a
   webhook (`handle_provider_event`, each event id handled once); staff record bank transfers
   (`record_bank_transfer`).
3. `settle_payment_success` runs under the target's row lock: a payment already settled changes
   nothing; money for something that can no longer be paid (paid by another payment, cancelled,
   expired) is refunded; otherwise the payment succeeds, the domain event `payments.settled`
   {payment_id, order_id, account_id, amount, currency} is written in the same transaction, and
   the target applies it (the order becomes paid) in that same transaction too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.catalogue.errors import PaymentMethodNotAllowed
from voipdesk.core.db import new_id
from voipdesk.core.events import publish
from voipdesk.payments.errors import PaymentEventMismatch, PaymentMethodMissing
from voipdesk.payments.methods import (
    CardInput,
    add_card,
    default_payment_method,
    get_payment_method,
)
from voipdesk.payments.models import Payment, PaymentMethod, ProviderWebhookEvent
from voipdesk.payments.provider import get_provider
from voipdesk.payments.rules import (
    AWAITING_TRANSFER,
    FAILED,
    PAYMENT_CANCELLED,
    PAYMENT_REFUNDED,
    PENDING,
    REQUIRES_CONFIRMATION,
    SETTLED_STATES,
    SUCCEEDED,
)

if TYPE_CHECKING:
    from voipdesk.accounts.models import Account
    from voipdesk.core.platform import Platform

SETTLED = "payments.settled"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PayableOrder:
    """What payments needs to know of the order being paid (plain values, no ORM object)."""

    order_id: str
    number: str
    account_id: str
    amount: Decimal
    currency: str
    allowed_methods: tuple[str, ...]


@dataclass(frozen=True)
class SettledPayment:
    """A successful payment, as handed to the settlement target (and in `payments.settled`)."""

    payment_id: str
    order_id: str
    account_id: str
    amount: Decimal
    currency: str
    actor: str


@dataclass
class PaymentRequest:
    method: str | None = None  # card | sepa_debit | bank_transfer; default: the default method
    payment_method_id: str | None = None
    card: CardInput | None = None
    save_card: bool = False


@dataclass(frozen=True)
class SettlementTarget:
    """Registered by the area whose things are paid (orders):
    - `lock(session, order_id)`: takes the row lock of the order (racing payments serialise);
    - `payable(session, platform, order_id)`: whether it can still be paid;
    - `apply(session, platform, settled)`: applies the success (same transaction)."""

    lock: Callable[[Session, str], None]
    payable: Callable[[Session, Platform, str], bool]
    apply: Callable[[Session, Platform, SettledPayment], None]


_TARGET: list[SettlementTarget] = []

# Provider events about charges that are not order payments (an invoice paid or collected by
# billing): `fn(session, platform, event_type, reference, data) -> bool` (True: it was theirs).
ProviderEventListener = Callable[[Session, "Platform", str, str, dict[str, Any]], bool]
_EVENT_LISTENERS: list[ProviderEventListener] = []


def register_provider_event_listener(listener: ProviderEventListener) -> ProviderEventListener:
    if listener not in _EVENT_LISTENERS:
        _EVENT_LISTENERS.append(listener)
    return listener


def register_settlement_target(target: SettlementTarget) -> SettlementTarget:
    _TARGET[:] = [target]
    return target


def _target() -> SettlementTarget:
    if not _TARGET:
        raise RuntimeError("no settlement target registered (areas.load_handlers not called?)")
    return _TARGET[0]


def payments_of(session: Session, order_id: str) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.created_at)
        )
    )


def has_payment_in_flight(session: Session, order_id: str) -> bool:
    """A direct debit (or card charge) sent to the provider whose result has not come yet."""
    return any(payment.status == PENDING for payment in payments_of(session, order_id))


def cancel_open_payments(
    session: Session, platform: Platform, order_id: str, except_id: str | None = None
) -> None:
    """Cancels the attempts still waiting for a confirmation or a transfer."""
    for payment in payments_of(session, order_id):
        if payment.id == except_id or payment.status not in (
            REQUIRES_CONFIRMATION,
            AWAITING_TRANSFER,
        ):
            continue
        if payment.provider_reference:
            get_provider(platform).cancel(session, payment.provider_reference)
        payment.status = PAYMENT_CANCELLED
        payment.settled_at = platform.now()


def _chosen_method(
    session: Session, platform: Platform, account: Account, request: PaymentRequest
) -> PaymentMethod | None:
    method: PaymentMethod | None = None
    if request.payment_method_id:
        method = get_payment_method(session, account.id, request.payment_method_id)
    elif request.card is not None:
        if request.save_card:
            method = add_card(session, platform, account, request.card)
    elif request.method != catalogue_rules.PAYMENT_BANK_TRANSFER:
        method = default_payment_method(session, account.id)
        if (
            request.method is not None
            and method is not None
            and method.method_type != request.method
        ):
            method = None
    return method


def start_payment(
    session: Session,
    platform: Platform,
    account: Account,
    order: PayableOrder,
    request: PaymentRequest,
) -> Payment:
    """One payment attempt (the caller holds the order's row lock and checked it is payable).
    The provider gets the payment id as its idempotency key."""
    method = _chosen_method(session, platform, account, request)
    method_type = (
        method.method_type
        if method is not None
        else (catalogue_rules.PAYMENT_CARD if request.card is not None else request.method)
    )
    if method_type is None or (
        method is None
        and method_type != catalogue_rules.PAYMENT_BANK_TRANSFER
        and request.card is None
    ):
        raise PaymentMethodMissing(fields={"payment_method_id": "Choose a payment method."})
    if method_type not in order.allowed_methods:
        raise PaymentMethodNotAllowed(
            method=method_type,
            country=account.country,
            kind=account.kind,
            fields={"method": "Not offered for this order."},
        )

    cancel_open_payments(session, platform, order.order_id)
    payment = Payment(
        id=new_id(),
        order_id=order.order_id,
        account_id=account.id,
        method_type=method_type,
        payment_method_id=method.id if method is not None else None,
        amount=order.amount,
        currency=order.currency,
        status=PENDING,
        created_at=platform.now(),
    )
    session.add(payment)
    session.flush()
    provider = get_provider(platform)
    metadata = {"order_id": order.order_id, "payment_id": payment.id, "order_number": order.number}
    description = f"{platform.settings.operator_name} {order.number}"
    if method_type == catalogue_rules.PAYMENT_BANK_TRANSFER:
        payment.status = AWAITING_TRANSFER
        return payment
    if method_type == catalogue_rules.PAYMENT_CARD:
        if method is not None:
            token = method.provider_token
        else:
            assert request.card is not None
            token = provider.tokenize_card(
                session,
                number=request.card.number,
                exp_month=request.card.exp_month,
                exp_year=request.card.exp_year,
                cvc=request.card.cvc,
                today=platform.now(),
            ).token
        assert token is not None
        result = provider.charge_card(
            session,
            token=token,
            amount=payment.amount,
            currency=payment.currency,
            description=description,
            idempotency_key=payment.id,
            metadata=metadata,
        )
    else:
        assert method is not None and method.mandate_reference and method.iban
        result = provider.debit_sepa(
            session,
            mandate_reference=method.mandate_reference,
            iban=method.iban,
            amount=payment.amount,
            currency=payment.currency,
            description=description,
            idempotency_key=payment.id,
            metadata=metadata,
        )
    payment.provider = provider.name
    payment.provider_reference = result.reference
    payment.confirmation_url = result.confirmation_url
    if result.status == SUCCEEDED:
        settle_payment_success(session, platform, payment, actor=f"account:{account.id}")
    elif result.status == FAILED:
        payment.status = FAILED
        payment.failure_code = result.failure_code
        payment.settled_at = platform.now()
    else:
        payment.status = result.status
    session.flush()
    return payment


def settle_payment_success(
    session: Session, platform: Platform, payment: Payment, actor: str
) -> None:
    """Applies a successful payment once (the caller holds the order's row lock). Money that
    arrives for an order that can no longer be paid is refunded."""
    if payment.status in SETTLED_STATES:
        return
    now = platform.now()
    target = _target()
    if not target.payable(session, platform, payment.order_id):
        if payment.provider_reference:
            get_provider(platform).refund(session, payment.provider_reference)
        payment.status = PAYMENT_REFUNDED
        payment.settled_at = now
        return
    payment.status = SUCCEEDED
    payment.settled_at = now
    settled = SettledPayment(
        payment_id=payment.id,
        order_id=payment.order_id,
        account_id=payment.account_id,
        amount=payment.amount,
        currency=payment.currency,
        actor=actor,
    )
    publish(
        session,
        SETTLED,
        {
            "payment_id": settled.payment_id,
            "order_id": settled.order_id,
            "account_id": settled.account_id,
            "amount": f"{settled.amount:.2f}",
            "currency": settled.currency,
        },
        now=now,
        key=payment.id,
    )
    target.apply(session, platform, settled)


def record_bank_transfer(
    session: Session, platform: Platform, order: PayableOrder, actor: str
) -> Payment:
    """Staff saw the transfer arrive (the caller holds the order's lock and checked it is
    payable): the waiting transfer payment (or a new one) settles."""
    payment = next(
        (p for p in payments_of(session, order.order_id) if p.status == AWAITING_TRANSFER), None
    )
    if payment is None:
        payment = Payment(
            id=new_id(),
            order_id=order.order_id,
            account_id=order.account_id,
            method_type=catalogue_rules.PAYMENT_BANK_TRANSFER,
            amount=order.amount,
            currency=order.currency,
            status=AWAITING_TRANSFER,
            created_at=platform.now(),
        )
        session.add(payment)
        session.flush()
    settle_payment_success(session, platform, payment, actor=actor)
    return payment


def event_mismatch(payment: Payment, reference: str, data: dict[str, Any]) -> str | None:
    """What in a provider's event disagrees with the payment it names (None when all agree):
    the reference, the amount (exactly, as a decimal) and the currency must be the payment's."""
    if reference != payment.provider_reference:
        return "reference"
    try:
        amount = Decimal(str(data.get("amount")))
    except (ArithmeticError, ValueError):
        return "amount"
    if not amount.is_finite() or amount != payment.amount:
        return "amount"
    if str(data.get("currency") or "").upper() != payment.currency.upper():
        return "currency"
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and metadata.get("payment_id") not in (None, payment.id):
        return "reference"
    return None


def handle_provider_event(
    session: Session,
    platform: Platform,
    event_id: str,
    event_type: str,
    reference: str,
    data: dict[str, Any],
    provider: str = "sandbox",
) -> bool:
    """A verified webhook event. Returns False when it was already handled (a replay). An event
    whose amount, currency or reference is not the payment's settles nothing: it raises
    PaymentEventMismatch (and is not recorded, so the provider may send the right one)."""
    if session.get(ProviderWebhookEvent, event_id) is not None:
        return False
    payment = session.scalar(select(Payment).where(Payment.provider_reference == reference))
    if payment is not None:
        mismatch = event_mismatch(payment, reference, data)
        if mismatch is not None:
            log.warning(
                "payment event refused",
                event_id=event_id,
                payment_id=payment.id,
                mismatch=mismatch,
                amount=str(data.get("amount"))[:40],
                currency=str(data.get("currency"))[:10],
            )
            raise PaymentEventMismatch(extra={"mismatch": mismatch})
    session.add(
        ProviderWebhookEvent(
            event_id=event_id,
            provider=provider[:20],
            event_type=event_type,
            received_at=platform.now(),
            payload=data,
        )
    )
    session.flush()
    if payment is None:
        for listener in _EVENT_LISTENERS:
            if listener(session, platform, event_type, reference, data):
                break
        return True  # not an order payment (or not yet known): acknowledged
    _target().lock(session, payment.order_id)
    session.refresh(payment)
    if event_type == "payment.succeeded":
        settle_payment_success(session, platform, payment, actor="provider")
    elif event_type == "payment.failed" and payment.status in (PENDING, REQUIRES_CONFIRMATION):
        payment.status = FAILED
        payment.failure_code = str(data.get("failure_code") or "declined")[:60]
        payment.settled_at = platform.now()
    return True
