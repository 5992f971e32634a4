"""The orders area's actions, one module per use case; this package re-exports them for the
orders area's own API, handlers and the web pages (other areas use `orders.services`).

- `cart`: cart lines checked against the catalogue and priced, order totals;
- `ordering`: creating orders (from a cart, `create_custom_order`), reading them, the follow-up;
- `transitions`: the state machine (`transition`) and cancellation;
- `paying`: paying an order and what a settled payment does to it (the payment itself settles in
  `voipdesk.payments.settlement`);
- `invoicing`: the invoice of a paid order (delivery is the subscriptions area's, on the event
  `orders.ready_for_delivery`; it answers through `orders.services.mark_delivered`);
- `expiry`: expiry and reminders of unpaid orders; `mail`: the order e-mails.

Functions taking a `session` compose into the caller's transaction (the API wraps them with
idempotency keys); the others open one transaction each.
"""

from __future__ import annotations

from voipdesk.orders.actions.cart import (
    Cart,
    CartLine,
    billing_contact_of,
    order_totals,
    priced_lines,
    tax_components_of,
)
from voipdesk.orders.actions.expiry import expire_due_orders, remind_expiring_orders
from voipdesk.orders.actions.invoicing import invoice_lines_of, issue_order_invoice
from voipdesk.orders.actions.ordering import (
    CUSTOM_KIND,
    create_custom_order,
    create_order,
    decode_cursor,
    encode_cursor,
    follow_up_of,
    get_order,
    list_orders,
    payments_of,
    reached_states,
    requires_validation,
)
from voipdesk.orders.actions.paying import (
    READY_FOR_DELIVERY,
    SETTLEMENT_TARGET,
    PaymentRequest,
    apply_settled_payment,
    order_ids_in_validation,
    pay_order,
    record_bank_transfer,
    release_order_after_validation,
)
from voipdesk.orders.actions.transitions import cancel_order, transition

# What the orders API and pages show of payments, from the payments area's public interface.
from voipdesk.payments.services import (
    AWAITING_TRANSFER,
    CardInput,
    SepaInput,
    add_bank_transfer,
    add_card,
    add_sepa_debit,
    get_payment_method,
    handle_provider_event,
    list_payment_methods,
    remove_payment_method,
    set_default_payment_method,
)

__all__ = [
    "AWAITING_TRANSFER",
    "CUSTOM_KIND",
    "READY_FOR_DELIVERY",
    "SETTLEMENT_TARGET",
    "CardInput",
    "Cart",
    "CartLine",
    "PaymentRequest",
    "SepaInput",
    "add_bank_transfer",
    "add_card",
    "add_sepa_debit",
    "apply_settled_payment",
    "billing_contact_of",
    "cancel_order",
    "create_custom_order",
    "create_order",
    "decode_cursor",
    "encode_cursor",
    "expire_due_orders",
    "follow_up_of",
    "get_order",
    "get_payment_method",
    "handle_provider_event",
    "invoice_lines_of",
    "issue_order_invoice",
    "list_orders",
    "list_payment_methods",
    "order_ids_in_validation",
    "order_totals",
    "pay_order",
    "payments_of",
    "priced_lines",
    "reached_states",
    "record_bank_transfer",
    "release_order_after_validation",
    "remind_expiring_orders",
    "remove_payment_method",
    "requires_validation",
    "set_default_payment_method",
    "tax_components_of",
    "transition",
]
