"""Order refusals, each with a stable code (payment refusals are in `payments.errors`, re-exported
here for the orders area's callers)."""

from __future__ import annotations

from voipdesk.catalogue.rules import OFFER_LABELS
from voipdesk.core.errors import Conflict, InvalidInput, NotFound
from voipdesk.orders.rules import STATE_LABELS
from voipdesk.payments.errors import (  # noqa: F401 (re-exported)
    DefaultPaymentMethodInUse,
    IbanNotSepa,
    InvalidBic,
    InvalidCard,
    InvalidIban,
    MandateNotAccepted,
    PaymentInProgress,
    PaymentMethodMissing,
    PaymentMethodNotFound,
    WebhookSignatureInvalid,
)


class OrderNotFound(NotFound):
    pass


class TermsNotAccepted(InvalidInput):
    code = "terms-not-accepted"
    message = (
        "Read and accept the current terms of sale and telephony terms of service before the "
        "purchase order is made."
    )


class EmptyCart(InvalidInput):
    code = "empty-cart"
    message = "The order has no lines."


class QuantityOutOfRange(InvalidInput):
    code = "quantity-out-of-range"
    message = "The quantity %(quantity)s is not allowed for %(offer)s: %(allowed)s."
    labels = {"offer": OFFER_LABELS}


class SimultaneousCallsOutOfRange(InvalidInput):
    code = "simultaneous-calls-out-of-range"
    message = "%(offer)s allows %(minimum)s to %(maximum)s simultaneous calls, not %(calls)s."
    labels = {"offer": OFFER_LABELS}


class OfferKindMismatch(InvalidInput):
    """Raised with a specific message: an option outside a SIP line, a phone that is not one."""

    code = "offer-kind-mismatch"
    message = "%(offer)s cannot be ordered this way."
    labels = {"offer": OFFER_LABELS}


class NumbersMismatch(InvalidInput):
    code = "numbers-mismatch"
    message = "%(count)s numbers were chosen for a quantity of %(quantity)s."


class TooManyAliasNumbers(InvalidInput):
    code = "too-many-alias-numbers"
    message = "An order holds at most %(maximum)s alias numbers."


class InvalidTransition(Conflict):
    code = "invalid-order-transition"
    message = "An order in state %(from_state)s cannot become %(to_state)s."
    labels = {"from_state": STATE_LABELS, "to_state": STATE_LABELS}


class OrderExpired(Conflict):
    code = "order-expired"
    message = "This order expired on %(expired)s; make a new one."


class OrderNotPayable(Conflict):
    code = "order-not-payable"
    message = "This order cannot be paid: it is %(state)s."
    labels = {"state": STATE_LABELS}


class OrderNotCancellable(Conflict):
    code = "order-not-cancellable"
    message = "Only an order awaiting payment can be cancelled; this one is %(state)s."
    labels = {"state": STATE_LABELS}


class OrderNotPrintable(Conflict):
    code = "order-not-printable"
    message = "The purchase order can be viewed while awaiting payment or in delivery only."


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency-key-reused"
    message = "This Idempotency-Key was already used for a different request."


class BillingGroupNotFound(NotFound):
    pass


class TooManyReservedNumbers(Conflict):
    code = "too-many-reserved-numbers"
    message = "Your unpaid orders already hold %(held)s numbers; at most %(maximum)s can be held at once. Pay or cancel an order first."  # noqa: E501


class OrderNumbersGone(Conflict):
    code = "order-numbers-gone"
    message = "The hold on this order's numbers lapsed and these were taken meanwhile: %(numbers)s. Cancel this order and order again."  # noqa: E501
