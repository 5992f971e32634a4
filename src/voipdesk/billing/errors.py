"""Billing refusals, each with a stable code."""

from __future__ import annotations

from voipdesk.core.errors import Conflict, InvalidInput, NotFound


class RenewalAlreadyRunning(Conflict):
    code = "renewal-already-running"
    message = (
        "The renewal of %(period)s is already running in another process: wait for it to end "
        "(or start this one with --wait to queue behind it)."
    )


class InvoiceAlreadyPaid(Conflict):
    code = "invoice-already-paid"
    message = "Invoice %(number)s is already paid."


class InvoicePaymentInProgress(Conflict):
    code = "invoice-payment-in-progress"
    message = (
        "A payment of invoice %(number)s is already in progress (a direct debit whose result "
        "is awaited); wait for its result."
    )


class InvoicePaymentNotFound(NotFound):
    code = "invoice-payment-not-found"
    message = "No such invoice payment."


class NoDirectDebitMandate(InvalidInput):
    code = "no-direct-debit-mandate"
    message = "Add a SEPA direct-debit payment method (a mandate) before paying by direct debit."


class DirectDebitNotInThisCurrency(InvalidInput):
    code = "direct-debit-not-in-currency"
    message = (
        "A SEPA direct debit collects euros only: pay this invoice in %(currency)s by card or "
        "bank transfer."
    )


class NothingToReturn(Conflict):
    code = "no-direct-debit-to-return"
    message = "Invoice %(number)s was not paid by a direct debit that could be returned."


class NothingDue(Conflict):
    code = "invoice-credited"
    message = "Invoice %(number)s was cancelled by credit notes: nothing is due."
