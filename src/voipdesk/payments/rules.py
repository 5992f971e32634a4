"""Payment states (pure): what a payment attempt can be, and which states are still open."""

from __future__ import annotations

from voipdesk.payments.provider import (
    CANCELLED,
    FAILED,
    PENDING,
    REFUNDED,
    REQUIRES_CONFIRMATION,
    SUCCEEDED,
)

AWAITING_TRANSFER = "awaiting_transfer"
PAYMENT_CANCELLED = CANCELLED
PAYMENT_REFUNDED = REFUNDED
# A payment in one of these states may still bring money for its order.
OPEN_PAYMENT_STATES = (PENDING, REQUIRES_CONFIRMATION, AWAITING_TRANSFER)
# A payment in one of these states is final for its order: it is never applied again.
SETTLED_STATES = (SUCCEEDED, REFUNDED)

__all__ = [
    "AWAITING_TRANSFER",
    "FAILED",
    "OPEN_PAYMENT_STATES",
    "PAYMENT_CANCELLED",
    "PAYMENT_REFUNDED",
    "PENDING",
    "REQUIRES_CONFIRMATION",
    "SETTLED_STATES",
    "SUCCEEDED",
]
