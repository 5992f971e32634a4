"""Order and payment refusals, each with a stable code."""

from __future__ import annotations

from voipdesk.core.errors import Conflict, DomainError, InvalidInput, NotFound


class OrderNotFound(NotFound):
    pass


class PaymentMethodNotFound(NotFound):
    pass


class EmptyCart(InvalidInput):
    code = "empty-cart"
    message = "The order has no lines."


class QuantityOutOfRange(InvalidInput):
    code = "quantity-out-of-range"
    message = "The quantity %(quantity)s is not allowed for %(offer)s: %(allowed)s."


class SimultaneousCallsOutOfRange(InvalidInput):
    code = "simultaneous-calls-out-of-range"
    message = "%(offer)s allows %(minimum)s to %(maximum)s simultaneous calls, not %(calls)s."


class OfferKindMismatch(InvalidInput):
    """Raised with a specific message: an option outside a SIP line, a phone that is not one."""

    code = "offer-kind-mismatch"
    message = "%(offer)s cannot be ordered this way."


class NumbersMismatch(InvalidInput):
    code = "numbers-mismatch"
    message = "%(count)s numbers were chosen for a quantity of %(quantity)s."


class TooManyAliasNumbers(InvalidInput):
    code = "too-many-alias-numbers"
    message = "An order holds at most %(maximum)s alias numbers."


class InvalidTransition(Conflict):
    code = "invalid-order-transition"
    message = "An order in state %(from_state)s cannot become %(to_state)s."


class OrderExpired(Conflict):
    code = "order-expired"
    message = "This order expired on %(expired)s; make a new one."


class OrderNotPayable(Conflict):
    code = "order-not-payable"
    message = "This order cannot be paid: it is %(state)s."


class OrderNotCancellable(Conflict):
    code = "order-not-cancellable"
    message = "Only an order awaiting payment can be cancelled; this one is %(state)s."


class OrderNotPrintable(Conflict):
    code = "order-not-printable"
    message = "The purchase order can be viewed while awaiting payment or in delivery only."


class PaymentInProgress(Conflict):
    code = "payment-in-progress"
    message = "A payment of this order is already being processed."


class PaymentMethodMissing(InvalidInput):
    code = "payment-method-missing"
    message = "Choose a payment method or give a card."


class InvalidCard(InvalidInput):
    code = "invalid-card"
    message = "The card was refused."


class InvalidIban(InvalidInput):
    code = "invalid-iban"
    message = "The IBAN is not valid (check its length, country and check digits)."


class InvalidBic(InvalidInput):
    code = "invalid-bic"
    message = "The BIC is not valid or does not match the IBAN."


class IbanNotSepa(InvalidInput):
    code = "iban-not-sepa"
    message = "Direct debit needs an IBAN of a SEPA country; %(country)s is not one."


class MandateNotAccepted(InvalidInput):
    code = "mandate-not-accepted"
    message = "Accept the SEPA direct-debit mandate to add this account."


class DefaultPaymentMethodInUse(Conflict):
    code = "default-payment-method-in-use"
    message = "This is the default payment method and services on automatic renewal depend on it: choose another default first."  # noqa: E501


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency-key-reused"
    message = "This Idempotency-Key was already used for a different request."


class WebhookSignatureInvalid(DomainError):
    code = "webhook-signature-invalid"
    status = 400
    message = "The webhook signature is missing, wrong or too old."


class BillingGroupNotFound(NotFound):
    pass
