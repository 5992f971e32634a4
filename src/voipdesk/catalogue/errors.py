"""Catalogue refusals, each with a stable code."""

from __future__ import annotations

from voipdesk.catalogue.rules import CUSTOMER_KIND_LABELS, OFFER_LABELS, PAYMENT_METHOD_LABELS
from voipdesk.core.errors import Conflict, InvalidInput, NotFound


class UnknownOffer(InvalidInput):
    code = "unknown-offer"
    message = "The offer %(offer)s does not exist."


class OfferNotSoldInCountry(InvalidInput):
    code = "offer-not-sold-in-country"
    message = "The offer %(offer)s is not sold in %(country)s."
    labels = {"offer": OFFER_LABELS}


class UnknownCountry(InvalidInput):
    code = "unknown-country"
    message = "The country %(country)s is not served; choose FR, BE, CH or CA-QC."


class PriceMissing(Conflict):
    code = "price-missing"
    message = "The offer %(offer)s has no price on %(on)s."
    labels = {"offer": OFFER_LABELS}


class InvalidPhoneNumber(InvalidInput):
    code = "invalid-phone-number"
    message = "%(number)s is not a valid phone number of %(country)s."


class NumberNotAvailable(Conflict):
    code = "number-not-available"
    message = "The number %(number)s is not free to order."


class InvalidAreaPrefix(InvalidInput):
    code = "invalid-prefix"
    message = (
        "The number prefix %(prefix)s is not valid: give digits, in E.164 (+331) or national "
        "(01) form."
    )


class NotEnoughNumbers(Conflict):
    code = "not-enough-numbers"
    message = (
        "Only %(available)s free numbers are left in the area %(area)s; %(wanted)s were asked."
    )


class UnknownPromotionCode(InvalidInput):
    code = "unknown-promotion-code"
    message = "The promotion code %(promotion)s does not exist or is no longer valid."


class PaymentMethodNotAllowed(InvalidInput):
    code = "payment-method-not-allowed"
    message = (
        "Payment by %(method)s is not offered to this account (country %(country)s, %(kind)s)."
    )
    labels = {"method": PAYMENT_METHOD_LABELS, "kind": CUSTOMER_KIND_LABELS}


class CatalogueItemNotFound(NotFound):
    code = "not-found"


class PromotionCodeTaken(Conflict):
    code = "promotion-code-taken"
    message = "The promotion code %(promotion)s already exists."


class PriceInThePast(InvalidInput):
    code = "price-in-the-past"
    message = "A new price starts today or later: invoices already made keep their prices."


class SpendingCapPolicyInvalid(InvalidInput):
    code = "spending-cap-policy-invalid"
    message = (
        "These spending cap limits do not hold: each default is between the minimum and its "
        "maximum, and new customers never get more than the others."
    )


class SpendingCapPolicyInThePast(InvalidInput):
    code = "spending-cap-policy-in-the-past"
    message = "New spending cap limits start today or later."
