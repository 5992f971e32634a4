"""The payments area's public interface for the areas above it (orders, subscriptions, billing):
plain functions, dataclasses and the registries that invert the calls payments must not make.

- `register_removal_guard(fn)`: `fn(session, account_id) -> bool` says that something of the
  account (services on automatic renewal) needs its default payment method; filled by
  subscriptions' handlers module.
- `register_settlement_target(SettlementTarget(lock, payable, apply))`: how a successful payment
  reaches what it pays (a purchase order); filled by orders' handlers module.
- `register_provider_event_listener(fn)`: provider events about charges that are not order
  payments (invoices paid or collected by billing) reach `fn`; filled by billing's handlers.
- `SETTLED` (`payments.settled`): the domain event written when a payment succeeds.
"""

from __future__ import annotations

from voipdesk.payments.methods import (
    CardInput,
    SepaInput,
    add_bank_transfer,
    add_card,
    add_sepa_debit,
    adopt_signed_mandate,
    auto_renewal_depends_on_default_method,
    default_payment_method,
    get_payment_method,
    list_payment_methods,
    register_removal_guard,
    remove_payment_method,
    set_default_payment_method,
    validate_iban_bic,
)
from voipdesk.payments.provider import (
    SIGNATURE_HEADER,
    TEST_CARD_DECLINED,
    TEST_CARD_NEEDS_CONFIRMATION,
    TEST_CARD_SUCCEEDS,
    get_provider,
)
from voipdesk.payments.rules import (
    AWAITING_TRANSFER,
    FAILED,
    OPEN_PAYMENT_STATES,
    PAYMENT_CANCELLED,
    PAYMENT_REFUNDED,
    PENDING,
    REQUIRES_CONFIRMATION,
    SUCCEEDED,
)
from voipdesk.payments.settlement import (
    SETTLED,
    PayableOrder,
    PaymentRequest,
    SettledPayment,
    SettlementTarget,
    cancel_open_payments,
    handle_provider_event,
    has_payment_in_flight,
    payments_of,
    record_bank_transfer,
    register_provider_event_listener,
    register_settlement_target,
    settle_payment_success,
    start_payment,
)

__all__ = [
    "AWAITING_TRANSFER",
    "FAILED",
    "OPEN_PAYMENT_STATES",
    "PAYMENT_CANCELLED",
    "PAYMENT_REFUNDED",
    "PENDING",
    "REQUIRES_CONFIRMATION",
    "SETTLED",
    "SIGNATURE_HEADER",
    "SUCCEEDED",
    "TEST_CARD_DECLINED",
    "TEST_CARD_NEEDS_CONFIRMATION",
    "TEST_CARD_SUCCEEDS",
    "CardInput",
    "PayableOrder",
    "PaymentRequest",
    "SepaInput",
    "SettledPayment",
    "SettlementTarget",
    "add_bank_transfer",
    "add_card",
    "add_sepa_debit",
    "adopt_signed_mandate",
    "auto_renewal_depends_on_default_method",
    "cancel_open_payments",
    "default_payment_method",
    "get_payment_method",
    "get_provider",
    "handle_provider_event",
    "has_payment_in_flight",
    "list_payment_methods",
    "payments_of",
    "record_bank_transfer",
    "register_provider_event_listener",
    "register_removal_guard",
    "register_settlement_target",
    "remove_payment_method",
    "set_default_payment_method",
    "settle_payment_success",
    "start_payment",
    "validate_iban_bic",
]
