"""Rules of portability (port-in), no I/O.

- Countries: France, Belgium, Switzerland; every number is a valid number of that country.
- France: the RIO (relevé d'identité opérateur, given by dialling 3179 from the line) is 12
  characters: operator code (2), P (individual) or E (company), contract reference (6) and a key
  (3) computed from the first 9 characters and the line's 10-digit national number (ARCEP): each
  character's rank in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+" is folded into three sums modulo 37
  with weights 1, 2 and 4.
- Belgium and Switzerland have no RIO: the customer number at the current operator is asked.
- A company gives its registration number: SIREN (France), enterprise number (Belgium), UID
  (Switzerland), checked by python-stdnum.
- The date: as soon as possible, or a business day at least LEAD_BUSINESS_DAYS of the country
  ahead and at most MAX_DAYS_AHEAD days ahead.
- The timeline: TRANSITIONS (a table). Cancel or change the date while CHANGEABLE_STEPS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import phonenumbers
from stdnum.be import vat as be_vat
from stdnum.ch import uid as ch_uid
from stdnum.exceptions import ValidationError
from stdnum.fr import siren as fr_siren

from voipdesk.core.i18n import N_
from voipdesk.telephony.portability import errors

COUNTRIES = ("FR", "BE", "CH")
MAX_NUMBERS = 100
LEAD_BUSINESS_DAYS = {"FR": 7, "BE": 7, "CH": 10}
MAX_DAYS_AHEAD = 120

INDIVIDUAL = "individual"
COMPANY = "company"
HOLDER_KINDS = (INDIVIDUAL, COMPANY)

# --- Timeline ------------------------------------------------------------------------------------
FORM_SENT = "form_sent"
RECEIVED = "received"
VALIDATED = "validated"
SENT_TO_OPERATOR = "sent_to_operator"
ACKNOWLEDGED = "acknowledged"
FINAL_REPORT = "final_report"
ACTIVATED = "activated"
FAILED = "failed"
CANCELLED = "cancelled"
STEPS = (FORM_SENT, RECEIVED, VALIDATED, SENT_TO_OPERATOR, ACKNOWLEDGED, FINAL_REPORT, ACTIVATED)
STEP_LABELS = errors.STEP_LABELS
FINAL_STEPS = frozenset({ACTIVATED, CANCELLED})
ONGOING_STEPS = tuple(s for s in (*STEPS, FAILED) if s not in FINAL_STEPS)

# Each step goes to the next one or fails; a failed request resumes at "received" once the
# customer sent what was missing; the customer cancels until the request goes to the operator.
TRANSITIONS: dict[str, frozenset[str]] = {
    FORM_SENT: frozenset({RECEIVED, FAILED, CANCELLED}),
    RECEIVED: frozenset({VALIDATED, FAILED, CANCELLED}),
    VALIDATED: frozenset({SENT_TO_OPERATOR, FAILED, CANCELLED}),
    SENT_TO_OPERATOR: frozenset({ACKNOWLEDGED, FAILED}),
    ACKNOWLEDGED: frozenset({FINAL_REPORT, FAILED}),
    FINAL_REPORT: frozenset({ACTIVATED, FAILED}),
    FAILED: frozenset({RECEIVED, CANCELLED}),
    ACTIVATED: frozenset(),
    CANCELLED: frozenset(),
}
# Where staff may move a request by hand (cancelling is the customer's).
STAFF_TARGETS = frozenset({RECEIVED, VALIDATED, SENT_TO_OPERATOR, ACKNOWLEDGED, FINAL_REPORT})
CHANGEABLE_STEPS = frozenset({FORM_SENT, RECEIVED, VALIDATED, FAILED})


def can_move(step: str, to: str) -> bool:
    return to in TRANSITIONS.get(step, frozenset())


def check_move(step: str, to: str) -> None:
    if not can_move(step, to):
        raise errors.PortabilityStepNotAllowed(step=step, to=to)


def is_changeable(step: str) -> bool:
    return step in CHANGEABLE_STEPS


def check_changeable(step: str) -> None:
    if not is_changeable(step):
        raise errors.PortabilityNotChangeable(step=step)


# --- Failures: the reason, and what the customer does about it -----------------------------------
@dataclass(frozen=True)
class FailureReason:
    code: str
    label: str  # English msgid
    what_to_do: str  # English msgid


FAILURE_REASONS: dict[str, FailureReason] = {
    r.code: r
    for r in (
        FailureReason(
            "rio_mismatch",
            N_("The RIO does not match the line at the current operator."),
            N_(
                "Dial 3179 from the line to hear its RIO, then send us the corrected form "
                "(reply to this e-mail)."
            ),
        ),
        FailureReason(
            "holder_mismatch",
            N_("The holder's name or registration number is not the one the operator knows."),
            N_(
                "Send us the holder's name and registration number exactly as they appear on "
                "the current operator's invoice."
            ),
        ),
        FailureReason(
            "line_terminated",
            N_("The line is already terminated at the current operator."),
            N_(
                "A terminated number cannot be ported: keep your line open at the current "
                "operator until the portability is done, or order a new number."
            ),
        ),
        FailureReason(
            "number_not_portable",
            N_("The current operator says this number cannot be ported."),
            N_("Ask the current operator why, then contact our support with its answer."),
        ),
        FailureReason(
            "missing_documents",
            N_("The signed form or a supporting document is missing."),
            N_("Send us the signed form and the documents listed in it (reply to this e-mail)."),
        ),
        FailureReason(
            "other",
            N_("The current operator refused the request."),
            N_("Contact our support: we will tell you what the operator answered."),
        ),
    )
}


def failure_reason(code: str) -> FailureReason:
    if code not in FAILURE_REASONS:
        raise errors.PortabilityFailureReasonInvalid(fields={"reason": "Choose from the list."})
    return FAILURE_REASONS[code]


# --- RIO -----------------------------------------------------------------------------------------
RIO_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+"
RIO_PATTERN = re.compile(r"^[0-9]{2}[PE][0-9A-Z+]{6}[0-9A-Z+]{3}$")


def rio_key(prefix: str, national_number: str) -> str:
    """The 3-character key of a RIO: `prefix` its first 9 characters (operator, P/E, contract
    reference), `national_number` the 10 digits of the line (0XXXXXXXXX)."""
    a = b = c = 0
    for character in prefix + national_number:
        rank = RIO_ALPHABET.index(character)
        a = (a + rank) % 37
        b = (2 * b + rank) % 37
        c = (4 * c + rank) % 37
    return RIO_ALPHABET[a] + RIO_ALPHABET[b] + RIO_ALPHABET[c]


def national_of(number_e164: str) -> str:
    """+33123456789 -> 0123456789 (the form the RIO key is computed on)."""
    return "0" + number_e164[3:]


def normalise_rio(text: str) -> str:
    rio = re.sub(r"[\s.-]", "", text or "").upper()
    if not RIO_PATTERN.fullmatch(rio):
        raise errors.RioMalformed(rio=(text or "").strip() or "—", fields={"rio": "12 characters."})
    return rio


def rio_matches(rio: str, number_e164: str) -> bool:
    return rio_key(rio[:9], national_of(number_e164)) == rio[9:]


def check_rio(text: str, numbers: list[str]) -> str:
    """The normalised RIO when it is well formed and its key matches one of the numbers (the RIO
    of a multi-number contract is the one of its head number)."""
    rio = normalise_rio(text)
    if not any(rio_matches(rio, number) for number in numbers):
        raise errors.RioChecksumWrong(
            rio=rio, number=numbers[0] if numbers else "—", fields={"rio": "Key does not match."}
        )
    return rio


# --- Numbers and holder --------------------------------------------------------------------------
def check_country(country: str) -> str:
    code = (country or "").strip().upper()
    if code not in COUNTRIES:
        raise errors.PortabilityCountryNotServed(
            country=code or "—", fields={"country": "FR, BE or CH."}
        )
    return code


def normalise_numbers(texts: list[str], country: str) -> list[str]:
    if not texts or len(texts) > MAX_NUMBERS:
        raise errors.PortabilityNoNumbers(
            maximum=MAX_NUMBERS, fields={"numbers": "From 1 to 100 numbers."}
        )
    numbers: list[str] = []
    for text in texts:
        cleaned = (text or "").strip()
        try:
            parsed = phonenumbers.parse(cleaned, country)
        except phonenumbers.NumberParseException:
            parsed = None
        if (
            parsed is None
            or not phonenumbers.is_valid_number(parsed)
            or phonenumbers.region_code_for_number(parsed) != country
        ):
            raise errors.PortabilityNumberInvalid(
                number=cleaned or "—", country=country, fields={"numbers": "Not a valid number."}
            )
        number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if number in numbers:
            raise errors.PortabilityNumberRepeated(
                number=number, fields={"numbers": "Each number once."}
            )
        numbers.append(number)
    return numbers


REGISTRATION_KINDS = {
    "FR": N_("SIREN number"),
    "BE": N_("enterprise number"),
    "CH": N_("UID number"),
}


def normalise_registration(country: str, value: str) -> str:
    """A company's registration number in its compact form, checked for its country."""
    module = {"FR": fr_siren, "BE": be_vat, "CH": ch_uid}[country]
    try:
        return str(module.validate(value or ""))
    except ValidationError:
        raise errors.RegistrationNumberInvalid(
            value=(value or "").strip() or "—",
            kind=REGISTRATION_KINDS[country],
            country=country,
            fields={"registration_number": "Not a valid registration number."},
        ) from None


# --- Dates ---------------------------------------------------------------------------------------
def is_business_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in holidays.country_holidays(country, years=day.year)


def add_business_days(start: date, days: int, country: str) -> date:
    day = start
    added = 0
    while added < days:
        day += timedelta(days=1)
        if is_business_day(day, country):
            added += 1
    return day


def earliest_date(today: date, country: str) -> date:
    return add_business_days(today, LEAD_BUSINESS_DAYS[country], country)


def check_desired_date(desired: date | None, today: date, country: str) -> date | None:
    """None = as soon as possible. Refused: in the past, too soon, too far, not a business day."""
    if desired is None:
        return None
    earliest = earliest_date(today, country)
    if desired < today:
        raise errors.PortabilityDateInPast(
            date=desired.isoformat(),
            earliest=earliest.isoformat(),
            fields={"desired_date": "In the past."},
        )
    if desired < earliest:
        raise errors.PortabilityDateTooSoon(
            date=desired.isoformat(),
            country=country,
            days=LEAD_BUSINESS_DAYS[country],
            earliest=earliest.isoformat(),
            fields={"desired_date": "Too soon."},
        )
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if desired > latest:
        raise errors.PortabilityDateTooLate(
            date=desired.isoformat(),
            latest=latest.isoformat(),
            fields={"desired_date": "Too far."},
        )
    if not is_business_day(desired, country):
        raise errors.PortabilityDateNotBusinessDay(
            date=desired.isoformat(), fields={"desired_date": "Not a business day."}
        )
    return desired
