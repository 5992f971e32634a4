"""Refusals of the subscriptions area, each with a stable code."""

from __future__ import annotations

from voipdesk.catalogue.rules import OFFER_LABELS
from voipdesk.core.errors import Conflict, InvalidInput, NotFound
from voipdesk.subscriptions.rules import STATE_LABELS


class BillingGroupNotFound(NotFound):
    code = "billing-group-not-found"
    message = "No such billing group."


class ServiceNotFound(NotFound):
    code = "service-not-found"
    message = "No such line or number in this billing group."


class PendingChangeNotFound(NotFound):
    code = "pending-change-not-found"
    message = "No such pending change."


class OfferChangeNotAllowed(Conflict):
    code = "offer-change-not-allowed"
    message = (
        "The line %(number)s cannot move from %(current)s to %(target)s: "
        "this change of offer is not available for it."
    )
    labels = {"current": OFFER_LABELS, "target": OFFER_LABELS}


class EntrepriseNeverDecouverte(OfferChangeNotAllowed):
    message = (
        "The line %(number)s cannot move from Entreprise to Découverte: "
        "an Entreprise offer can never become a Découverte offer."
    )


class SimultaneousCallsFixed(Conflict):
    code = "simultaneous-calls-fixed"
    message = (
        "A %(offer)s line is limited to %(calls)s simultaneous call(s). To have more, change its "
        "offer to Entreprise first (Change of offer)."
    )


class SimultaneousCallsOutOfRange(InvalidInput):
    code = "simultaneous-calls-out-of-range"
    message = "This line allows %(minimum)s to %(maximum)s simultaneous calls, not %(calls)s."


class SimultaneousCallsUnchanged(InvalidInput):
    code = "simultaneous-calls-unchanged"
    message = "The line already has %(calls)s simultaneous call(s)."


class TermsNotAccepted(InvalidInput):
    code = "terms-not-accepted"
    message = "Accept the telephony terms and conditions to continue."


class OrderingUnavailable(Conflict):
    code = "ordering-unavailable"
    message = "Purchase orders for this change cannot be made at the moment."


class WrongServiceKind(Conflict):
    code = "wrong-service-kind"
    message = "This action is for %(expected)s, and %(number)s is not one."


class PoolNumberConversion(Conflict):
    code = "pool-number-conversion"
    message = "The number %(number)s belongs to a pool of numbers and cannot become a SIP line."


class PoolTerminationNeedsConfirmation(Conflict):
    code = "pool-termination-needs-confirmation"
    message = (
        "The number %(number)s belongs to a pool: terminating it terminates the whole pool "
        "(%(count)s numbers). Confirm to go on."
    )


class InvalidTerminationReason(InvalidInput):
    code = "invalid-termination-reason"
    message = "The termination reason is not valid."


class ServiceNotLive(Conflict):
    code = "service-not-live"
    message = "This service is %(state)s: it cannot be changed any more."
    labels = {"state": STATE_LABELS}


class DeletionLinkInvalid(NotFound):
    code = "deletion-link-invalid"
    message = "This confirmation link is not valid, was already used or has expired."


class LoanNotFound(NotFound):
    code = "hardware-loan-not-found"
    message = "No such hardware loan."


class LoanNotReturnable(Conflict):
    code = "hardware-loan-not-returnable"
    message = "This hardware has no return opened."


class BillingContactUnknown(InvalidInput):
    code = "billing-contact-unknown"
    message = "No customer account has the handle or e-mail %(contact)s."


class BillingContactUnchanged(InvalidInput):
    code = "billing-contact-unchanged"
    message = "%(contact)s is already the billing contact of this billing group."


class BillingContactChangeWaiting(Conflict):
    code = "billing-contact-change-waiting"
    message = (
        "A change of billing contact to %(contact)s is already under way. Cancel it first to "
        "choose another contact."
    )


class BillingContactChangeNotFound(NotFound):
    code = "billing-contact-change-not-found"
    message = "This billing group has no change of billing contact waiting."


class BillingContactRequestNotFound(NotFound):
    code = "billing-contact-request-not-found"
    message = "No such request to become billing contact is waiting for your answer."


class DefaultPaymentMethodRequired(Conflict):
    code = "default-payment-method-required"
    message = (
        "Automatic renewal needs a default card or SEPA direct-debit payment method: add one "
        "in Payment methods first, or keep the manual renewal (you will get reminders to pay)."
    )
