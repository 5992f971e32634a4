"""Refusals of the validation area, each with a stable code."""

from __future__ import annotations

from voipdesk.core.errors import Conflict, InvalidInput, NotFound


class ProcedureNotFound(NotFound):
    pass


class ProcedureNotAvailable(InvalidInput):
    code = "procedure-not-available"
    message = "The VoIP validation procedure exists for France, Belgium and Switzerland only."


class ProcedureTransitionRefused(Conflict):
    code = "procedure-transition-refused"
    message = "A procedure that is %(state)s cannot be %(action)s."


class ProcedureAlreadyDecided(Conflict):
    code = "procedure-already-decided"
    message = "This procedure was already %(state)s."


class DocumentsIncomplete(Conflict):
    code = "procedure-documents-incomplete"
    message = (
        "The procedure cannot be approved: these documents are not recorded as valid: %(missing)s."
    )


class UnknownDocument(InvalidInput):
    code = "unknown-procedure-document"
    message = "%(document)s is not one of the documents this procedure asks for."


class RejectionReasonMissing(InvalidInput):
    code = "rejection-reason-missing"
    message = "Say what is missing or wrong: the customer receives it by e-mail."


class PaymentMethodNotUsable(InvalidInput):
    code = "payment-method-not-sepa"
    message = "Only a SEPA direct-debit payment method of yours can be used for the procedure."
