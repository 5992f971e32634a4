"""Rules of the VoIP validation procedure (validation-procedure.md) as plain Python.

The supporting documents per customer type and country, where the procedure is sent, the state
table, which order lines are VoIP services, and the age of a procedure in business days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from voipdesk.core.i18n import N_

# --- Customer types and countries ----------------------------------------------------------------
INDIVIDUAL = "individual"
COMPANY = "company"
ASSOCIATION = "association"
CUSTOMER_KINDS = (INDIVIDUAL, COMPANY, ASSOCIATION)

KIND_LABELS = {
    INDIVIDUAL: N_("Individual customer"),
    COMPANY: N_("Company"),
    ASSOCIATION: N_("Association"),
}

FRANCE = "FR"
BELGIUM = "BE"
SWITZERLAND = "CH"
# The guide describes the procedure for these countries only; elsewhere (Québec) no SEPA mandate
# can be signed, so the procedure is not asked for.
PROCEDURE_COUNTRIES = (FRANCE, BELGIUM, SWITZERLAND)


def procedure_applies(country: str) -> bool:
    return country in PROCEDURE_COUNTRIES


# --- Supporting documents ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Document:
    code: str  # stable, used by staff to record what was received
    text: str  # English msgid; the French catalogue holds the guide's exact wording


# France (sent by post, originals). The guide's punctuation differs slightly between types (a
# comma before "émise" for individuals only); the English msgids keep the difference so that each
# French text is exactly the guide's.
SIGNED_MANDATE = Document("signed_mandate", N_("Date and sign the direct-debit authorisation."))
CANCELLED_CHEQUE_INDIVIDUAL = Document(
    "cancelled_cheque",
    N_(
        "Enclose an original cancelled cheque (if you do not have a cancelled cheque, you can "
        "enclose a certificate that the bank account to be debited is in good standing, issued by "
        "your bank adviser)."
    ),
)
CANCELLED_CHEQUE_ORGANISATION = Document(
    "cancelled_cheque",
    N_(
        "Enclose an original cancelled cheque (if you do not have a cancelled cheque, you can "
        "enclose a certificate that the bank account to be debited is in good standing issued by "
        "your bank adviser)."
    ),
)
FR_ID_INDIVIDUAL = Document(
    "identity_document", N_("Front and back photocopy of your identity document.")
)
FR_ID_COMPANY = Document(
    "identity_document",
    N_(
        "Front and back photocopy of the identity document of the company's manager or of one of "
        "its directors."
    ),
)
FR_LETTERHEAD = Document(
    "letterhead_authorisation",
    N_(
        "A letter on the company's letterhead certifying that the person submitting the file is "
        "authorised to act on behalf of the company."
    ),
)
KBIS = Document("kbis_extract", N_("A K-Bis extract less than 3 months old."))
FR_ID_PRESIDENT = Document(
    "identity_document",
    N_("Front and back photocopy of the identity document of the association's president."),
)
JOURNAL_OFFICIEL = Document(
    "journal_officiel_statutes",
    N_("Copy of the publication of the association's statutes in the Journal Officiel."),
)
PRESIDENT_STATEMENT = Document(
    "president_statement",
    N_(
        "A statement from the association's president that the person submitting the file is "
        "authorised to act on behalf of the association."
    ),
)

# Belgium and Switzerland (sent by e-mail).
BECH_ID_HOLDER = Document(
    "identity_document",
    N_(
        "Front and back photocopy of an identity document of the holder of the %(operator)s "
        "account."
    ),
)
PROOF_OF_ADDRESS = Document(
    "proof_of_address",
    N_("Proof of residence in the country (gas, water, electricity or telephone bill)."),
)
BECH_ID_COMPANY = Document(
    "identity_document",
    N_(
        "Front and back photocopy of an identity document of the company's manager or of one of "
        "its directors."
    ),
)
BECH_LETTERHEAD = Document(
    "letterhead_authorisation",
    N_(
        "A letter on the company's letterhead certifying that the person submitting the file is "
        "authorised to act on behalf of the company, or an identification document of the company."
    ),
)
BECH_ID_PRESIDENT = Document(
    "identity_document",
    N_("Front and back photocopy of an identity document of the association's president."),
)

_FRANCE_DOCUMENTS: dict[str, tuple[Document, ...]] = {
    INDIVIDUAL: (SIGNED_MANDATE, CANCELLED_CHEQUE_INDIVIDUAL, FR_ID_INDIVIDUAL),
    COMPANY: (SIGNED_MANDATE, CANCELLED_CHEQUE_ORGANISATION, FR_ID_COMPANY, FR_LETTERHEAD, KBIS),
    ASSOCIATION: (
        SIGNED_MANDATE,
        CANCELLED_CHEQUE_ORGANISATION,
        FR_ID_PRESIDENT,
        JOURNAL_OFFICIEL,
        PRESIDENT_STATEMENT,
    ),
}
_BELGIUM_SWITZERLAND_DOCUMENTS: dict[str, tuple[Document, ...]] = {
    INDIVIDUAL: (BECH_ID_HOLDER, PROOF_OF_ADDRESS),
    COMPANY: (BECH_ID_COMPANY, BECH_LETTERHEAD, PROOF_OF_ADDRESS),
    ASSOCIATION: (BECH_ID_PRESIDENT, JOURNAL_OFFICIEL, PRESIDENT_STATEMENT),
}


def required_documents(kind: str, country: str) -> tuple[Document, ...]:
    """The supporting documents the guide asks of this type of customer in this country."""
    if kind not in CUSTOMER_KINDS:
        raise ValueError(f"unknown customer type {kind!r}")
    if country == FRANCE:
        return _FRANCE_DOCUMENTS[kind]
    if country in (BELGIUM, SWITZERLAND):
        return _BELGIUM_SWITZERLAND_DOCUMENTS[kind]
    raise ValueError(f"no validation procedure for country {country!r}")


def document_codes(kind: str, country: str) -> tuple[str, ...]:
    return tuple(document.code for document in required_documents(kind, country))


# --- Where the procedure goes --------------------------------------------------------------------
BY_POST = "post"
BY_EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Destination:
    channel: str  # post | email
    address: str  # postal address or e-mail address
    originals_required: bool


def destination(country: str, *, postal_address: str, email_be: str, email_ch: str) -> Destination:
    """France: by post, originals. Belgium and Switzerland: by e-mail to their own address."""
    if country == FRANCE:
        return Destination(BY_POST, postal_address, True)
    if country == BELGIUM:
        return Destination(BY_EMAIL, email_be, False)
    if country == SWITZERLAND:
        return Destination(BY_EMAIL, email_ch, False)
    raise ValueError(f"no validation procedure for country {country!r}")


# --- Why a procedure is opened -------------------------------------------------------------------
REASON_FIRST_ORDER = "first_order"
REASON_BILLING_CONTACT_CHANGE = "billing_contact_change"
REASON_ON_DEMAND = "on_demand"
REASONS = (REASON_FIRST_ORDER, REASON_BILLING_CONTACT_CHANGE, REASON_ON_DEMAND)
REASON_LABELS = {
    REASON_FIRST_ORDER: N_("First order of VoIP services"),
    REASON_BILLING_CONTACT_CHANGE: N_("Change of the billing contact of VoIP services"),
    REASON_ON_DEMAND: N_("Validation in advance"),
}

# --- States and the transition table -------------------------------------------------------------
TODO = "todo"
WAITING_FOR_CUSTOMER = "waiting_for_customer"
DOING = "doing"
DONE = "done"
CANCELLED = "cancelled"
STATES = (TODO, WAITING_FOR_CUSTOMER, DOING, DONE, CANCELLED)
OPEN_STATES = frozenset({TODO, WAITING_FOR_CUSTOMER, DOING})
FINAL_STATES = frozenset({DONE, CANCELLED})

STATE_LABELS = {
    TODO: N_("Being prepared"),
    WAITING_FOR_CUSTOMER: N_("Waiting for your documents"),
    DOING: N_("Documents received, under review"),
    DONE: N_("Validated"),
    CANCELLED: N_("Cancelled"),
}

# (from, to) -> why. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (TODO, WAITING_FOR_CUSTOMER): "the procedure was sent to the billing contact",
    (WAITING_FOR_CUSTOMER, DOING): "staff recorded a document as received",
    (DOING, DONE): "staff approved the procedure",
    (DOING, WAITING_FOR_CUSTOMER): "staff rejected it, saying what is missing",
    (TODO, CANCELLED): "cancelled",
    (WAITING_FOR_CUSTOMER, CANCELLED): "cancelled",
    (DOING, CANCELLED): "cancelled",
}


def can_transition(from_state: str, to_state: str) -> bool:
    return (from_state, to_state) in TRANSITIONS


def allowed_targets(from_state: str) -> frozenset[str]:
    return frozenset(to for (origin, to) in TRANSITIONS if origin == from_state)


# What the history says of each action.
ACTION_LABELS = {
    "created": N_("Procedure created"),
    "sent": N_("Procedure e-mailed to the billing contact"),
    "details_completed": N_("Bank details completed"),
    "document_recorded": N_("Document recorded"),
    "approved": N_("Approved"),
    "orders_released": N_("Waiting orders released"),
    "rejected": N_("Sent back to the customer"),
    "cancelled": N_("Cancelled"),
}

# What a refused step was (ProcedureTransitionRefused names it inside its sentence).
STEP_LABELS = {
    "sent": N_("sent"),
    "reviewed": N_("reviewed"),
    "approved": N_("approved"),
    "rejected": N_("sent back"),
    "cancelled": N_("cancelled"),
    "details_completed": N_("completed"),
    "document_recorded": N_("reviewed"),
}

# The documents as a sentence names them (DocumentsIncomplete lists the missing ones).
DOCUMENT_LABELS = {
    "signed_mandate": N_("the signed direct-debit authorisation"),
    "cancelled_cheque": N_("the cancelled cheque"),
    "identity_document": N_("the identity document"),
    "proof_of_address": N_("the proof of address"),
    "letterhead_authorisation": N_("the authorisation on letterhead"),
    "kbis_extract": N_("the Kbis extract"),
    "journal_officiel_statutes": N_("the statutes or the Journal officiel notice"),
    "president_statement": N_("the president's statement"),
}

# --- Documents as staff record them --------------------------------------------------------------
RECEIVED = "received"
VALID = "valid"
INVALID = "invalid"
DOCUMENT_STATUSES = (RECEIVED, VALID, INVALID)
DOCUMENT_STATUS_LABELS = {
    RECEIVED: N_("Received, not checked yet"),
    VALID: N_("Valid"),
    INVALID: N_("Invalid"),
}


def missing_for_approval(required: Iterable[str], recorded: dict[str, str]) -> list[str]:
    """The required document codes not yet recorded as valid (in the guide's order)."""
    return [code for code in required if recorded.get(code) != VALID]


# --- What makes an order need the procedure ------------------------------------------------------
# Telephone services; hardware or options alone do not make a first VoIP order.
VOIP_LINE_KINDS = frozenset({"sip_line", "alias_number", "fax_line"})


def contains_voip(line_kinds: Iterable[str]) -> bool:
    return any(kind in VOIP_LINE_KINDS for kind in line_kinds)


# --- Business days -------------------------------------------------------------------------------
def business_days_between(start: date, end: date, public_holidays: Iterable[date] | object) -> int:
    """Working days (Monday to Friday, not a public holiday) after `start` up to `end` included:
    a procedure received on a Friday is 1 business day old on Monday."""
    if end <= start:
        return 0
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        if day.weekday() < 5 and day not in public_holidays:  # type: ignore[operator]
            count += 1
        day += timedelta(days=1)
    return count


# --- Input limits --------------------------------------------------------------------------------
HOLDER_NAME_MAX = 140
HOLDER_ADDRESS_MAX = 300
REJECTION_REASON_MAX = 1000
DOCUMENT_NOTE_MAX = 500


def mandate_complete(holder_name: str | None, iban: str | None) -> bool:
    """A procedure is approved only with a debtor and an IBAN on its SEPA mandate."""
    return bool((holder_name or "").strip()) and bool((iban or "").strip())
