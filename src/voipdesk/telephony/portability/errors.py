"""Refusals of portability requests, each with a stable code naming its rule."""

from __future__ import annotations

from voipdesk.core.errors import Conflict, InvalidInput, NotFound
from voipdesk.core.i18n import N_

COUNTRY_LABELS = {"FR": N_("France"), "BE": N_("Belgium"), "CH": N_("Switzerland")}
STEP_LABELS = {
    "form_sent": N_("Form sent"),
    "received": N_("Form received"),
    "validated": N_("Validated"),
    "sent_to_operator": N_("Request sent to the operator"),
    "acknowledged": N_("Acknowledged by the operator"),
    "final_report": N_("Final report"),
    "activated": N_("Number activated"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}


class PortabilityNotFound(NotFound):
    code = "portability-not-found"
    message = "No such portability request."


class PortabilityCountryNotServed(InvalidInput):
    code = "portability-country-not-served"
    message = "Numbers are ported in from France, Belgium and Switzerland only, not %(country)s."


class PortabilityNoNumbers(InvalidInput):
    code = "portability-no-numbers"
    message = "Give the numbers to port: from 1 to %(maximum)s."


class PortabilityNumberInvalid(InvalidInput):
    code = "portability-number-invalid"
    message = "%(number)s is not a valid number of %(country)s."
    labels = {"country": COUNTRY_LABELS}


class PortabilityNumberRepeated(InvalidInput):
    code = "portability-number-repeated"
    message = "%(number)s is given twice."


class PortabilityNumberAlreadyOurs(Conflict):
    code = "portability-number-already-ours"
    message = (
        "%(number)s is already one of our numbers (in the inventory or held by a service): there "
        "is nothing to port."
    )


class PortabilityNumberAlreadyPorting(Conflict):
    code = "portability-number-already-porting"
    message = "%(number)s is already being ported (request %(reference)s)."


class RioMalformed(InvalidInput):
    code = "rio-malformed"
    message = (
        "%(rio)s is not a RIO: 12 characters, the operator code (2), P or E, the contract "
        "reference (6) and the key (3). Dial 3179 from the line to get it."
    )


class RioChecksumWrong(InvalidInput):
    code = "rio-checksum-wrong"
    message = (
        "The RIO %(rio)s does not belong to %(number)s (its key does not match): check it by "
        "dialling 3179 from that line."
    )


class RioRequired(InvalidInput):
    code = "rio-required"
    message = "A portability from France needs the RIO of the line (dial 3179 from it)."


class DonorReferenceRequired(InvalidInput):
    code = "donor-reference-required"
    message = (
        "A portability from %(country)s needs the customer number at the current operator (it "
        "is on its invoices)."
    )
    labels = {"country": COUNTRY_LABELS}


class OperatorRequired(InvalidInput):
    code = "current-operator-required"
    message = "Name the current operator of these numbers."


class HolderNameRequired(InvalidInput):
    code = "portability-holder-required"
    message = "Give the name of the holder of the line at the current operator."


class HolderKindInvalid(InvalidInput):
    code = "portability-holder-kind-invalid"
    message = "The holder is an individual or a company."


class RegistrationNumberInvalid(InvalidInput):
    code = "registration-number-invalid"
    message = "%(value)s is not a valid %(kind)s (%(country)s)."
    labels = {"country": COUNTRY_LABELS}


class PortabilityDateInPast(InvalidInput):
    code = "portability-date-in-past"
    message = "%(date)s is in the past: choose a date from %(earliest)s, or as soon as possible."


class PortabilityDateTooSoon(InvalidInput):
    code = "portability-date-too-soon"
    message = (
        "%(date)s is too soon: a portability from %(country)s takes %(days)s business days, so "
        "the earliest date is %(earliest)s."
    )
    labels = {"country": COUNTRY_LABELS}


class PortabilityDateTooLate(InvalidInput):
    code = "portability-date-too-late"
    message = "%(date)s is too far: choose a date before %(latest)s."


class PortabilityDateNotBusinessDay(InvalidInput):
    code = "portability-date-not-business-day"
    message = "%(date)s is not a business day: numbers are ported on business days only."


class PortabilityDestinationInvalid(InvalidInput):
    code = "portability-destination-invalid"
    message = "%(number)s is not a line of this billing group."


class PortabilityConfigurationInvalid(InvalidInput):
    code = "portability-configuration-invalid"
    message = "%(number)s is not a configured alias number of this billing group."


class PortabilityTwoDestinations(InvalidInput):
    code = "portability-two-destinations"
    message = "Choose a line or an alias number configuration for the numbers, not both."


class PortabilityStepNotAllowed(Conflict):
    code = "portability-step-not-allowed"
    message = "A portability at the step “%(step)s” cannot go to “%(to)s”."
    labels = {"step": STEP_LABELS, "to": STEP_LABELS}


class PortabilityNotChangeable(Conflict):
    code = "portability-not-changeable"
    message = (
        "The request was sent to the operator (step “%(step)s”): it can no longer be cancelled "
        "nor its date changed."
    )
    labels = {"step": STEP_LABELS}


class PortabilityFailureReasonInvalid(InvalidInput):
    code = "portability-failure-reason-invalid"
    message = "Choose the reason of the failure from the list."
