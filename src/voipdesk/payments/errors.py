"""Payment refusals (payment methods, SEPA mandates, cards, the provider's webhooks), each with a
stable code."""

from __future__ import annotations

from voipdesk.core.errors import Conflict, DomainError, InvalidInput, NotFound


class PaymentMethodNotFound(NotFound):
    pass


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


class WebhookSignatureInvalid(DomainError):
    code = "webhook-signature-invalid"
    status = 400
    message = "The webhook signature is missing, wrong or too old."


class PaymentProviderUnavailable(DomainError):
    code = "payment-provider-unavailable"
    status = 503
    message = (
        "Card payments and direct debits are not available: no payment provider is configured."
    )


class PaymentEventMismatch(DomainError):
    code = "payment-event-mismatch"
    status = 422
    message = "The provider's event does not match the payment (amount, currency or reference): nothing was settled."  # noqa: E501
