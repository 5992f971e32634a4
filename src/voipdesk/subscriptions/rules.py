"""Services lifecycle rules: kinds, states and their allowed transitions, pending changes, dates.

Plain Python, no I/O. Offer rules (which offer a line may move to, simultaneous calls) live in
`voipdesk.catalogue.rules`; this module only says how services live and change.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from voipdesk.core.i18n import N_


# --- SIP credentials -----------------------------------------------------------------------------
def digest_ha1(username: str, realm: str, password: str) -> str:
    """What SIP digest authentication needs instead of the password (RFC 2617/8760 MD5 HA1):
    md5("username:realm:password"). Only this is stored."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


# --- Kinds of service ----------------------------------------------------------------------------
KIND_SIP_LINE = "sip_line"
KIND_SIP_TRUNK = "sip_trunk"
KIND_ALIAS_NUMBER = "alias_number"
KIND_FAX_LINE = "fax_line"
KIND_OPTION = "option"
KINDS = (KIND_SIP_LINE, KIND_SIP_TRUNK, KIND_ALIAS_NUMBER, KIND_FAX_LINE, KIND_OPTION)
LINE_KINDS = (KIND_SIP_LINE, KIND_SIP_TRUNK)

# --- Renewal modes -------------------------------------------------------------------------------
AUTOMATIC = "automatic"
MANUAL = "manual"
RENEWAL_MODES = (AUTOMATIC, MANUAL)

# --- Service states and allowed transitions ------------------------------------------------------
ACTIVE = "active"
TO_RENEW = "to_renew"  # manual renewal: waiting for the customer to pay the next month
SUSPENDED = "suspended"  # not paid: calls stop, deleted after the grace period
TERMINATED = "terminated"
DELETED = "deleted"
STATES = (ACTIVE, TO_RENEW, SUSPENDED, TERMINATED, DELETED)

SERVICE_TRANSITIONS: dict[str, frozenset[str]] = {
    ACTIVE: frozenset({TO_RENEW, SUSPENDED, TERMINATED, DELETED}),
    TO_RENEW: frozenset({ACTIVE, SUSPENDED, TERMINATED, DELETED}),
    SUSPENDED: frozenset({ACTIVE, DELETED, TERMINATED}),
    TERMINATED: frozenset({DELETED}),
    DELETED: frozenset(),
}
LIVE_STATES = (ACTIVE, TO_RENEW, SUSPENDED)
STATE_LABELS = {
    ACTIVE: N_("Active"),
    TO_RENEW: N_("Waiting for the renewal payment"),
    SUSPENDED: N_("Suspended"),
    TERMINATED: N_("Terminated"),
    DELETED: N_("Deleted"),
    "applied": N_("Already applied"),
}


def can_transition(current: str, target: str) -> bool:
    return target in SERVICE_TRANSITIONS.get(current, frozenset())


# --- Pending changes -----------------------------------------------------------------------------
CHANGE_OFFER = "offer_change"
CHANGE_CALLS_DECREASE = "simultaneous_calls_decrease"
CHANGE_TO_ALIAS = "line_to_alias"
CHANGE_TO_LINE = "alias_to_line"
CHANGE_TERMINATION = "termination"
CHANGE_GROUP_TERMINATION = "group_termination"
CHANGE_KINDS = (
    CHANGE_OFFER,
    CHANGE_CALLS_DECREASE,
    CHANGE_TO_ALIAS,
    CHANGE_TO_LINE,
    CHANGE_TERMINATION,
    CHANGE_GROUP_TERMINATION,
)
CHANGE_LABELS = {
    CHANGE_OFFER: N_("Change of offer"),
    CHANGE_CALLS_DECREASE: N_("Fewer simultaneous calls"),
    CHANGE_TO_ALIAS: N_("Conversion of the line to an alias number"),
    CHANGE_TO_LINE: N_("Conversion of the number to a SIP line"),
    CHANGE_TERMINATION: N_("Termination"),
    CHANGE_GROUP_TERMINATION: N_("Termination of the billing group"),
}
# Changes of one service that exclude each other: a newer one replaces the pending one.
EXCLUSIVE_CHANGES = frozenset({CHANGE_OFFER, CHANGE_TO_ALIAS, CHANGE_TO_LINE, CHANGE_TERMINATION})
# Order of application at a renewal: conversions, offer changes, then terminations.
APPLY_ORDER = (
    CHANGE_TO_ALIAS,
    CHANGE_TO_LINE,
    CHANGE_OFFER,
    CHANGE_CALLS_DECREASE,
    CHANGE_TERMINATION,
    CHANGE_GROUP_TERMINATION,
)

PENDING = "pending"
APPLIED = "applied"
CANCELLED = "cancelled"

# --- Billing-contact changes --------------------------------------------------------------------
# Nobody is invoiced without consent: the named contact first accepts (or refuses). Then the new
# billing contact of VoIP services must be validated for VoIP (validation procedure): until then
# the change waits. The owner can cancel it while it waits.
CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE = "waiting_for_acceptance"
CONTACT_CHANGE_WAITING = "waiting_for_validation"
CONTACT_CHANGE_APPLIED = "applied"
CONTACT_CHANGE_REFUSED = "refused"
CONTACT_CHANGE_CANCELLED = "cancelled"
CONTACT_CHANGE_TRANSITIONS: dict[str, frozenset[str]] = {
    CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE: frozenset(
        {
            CONTACT_CHANGE_WAITING,
            CONTACT_CHANGE_APPLIED,
            CONTACT_CHANGE_REFUSED,
            CONTACT_CHANGE_CANCELLED,
        }
    ),
    CONTACT_CHANGE_WAITING: frozenset({CONTACT_CHANGE_APPLIED, CONTACT_CHANGE_CANCELLED}),
    CONTACT_CHANGE_APPLIED: frozenset(),
    CONTACT_CHANGE_REFUSED: frozenset(),
    CONTACT_CHANGE_CANCELLED: frozenset(),
}
CONTACT_CHANGE_OPEN_STATES = frozenset(
    {CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE, CONTACT_CHANGE_WAITING}
)
CONTACT_CHANGE_LABELS = {
    CONTACT_CHANGE_WAITING_FOR_ACCEPTANCE: N_("Waiting for the new billing contact to accept"),
    CONTACT_CHANGE_WAITING: N_("Waiting for the new billing contact's VoIP validation"),
    CONTACT_CHANGE_APPLIED: N_("Done"),
    CONTACT_CHANGE_REFUSED: N_("Refused by the new billing contact"),
    CONTACT_CHANGE_CANCELLED: N_("Cancelled"),
}


def can_change_contact_state(current: str, target: str) -> bool:
    return target in CONTACT_CHANGE_TRANSITIONS.get(current, frozenset())


# --- Termination reasons -------------------------------------------------------------------------
REASON_MOVE = "move"
REASON_BILLING = "billing_difficulties"
REASON_END_OF_ACTIVITY = "end_of_activity"
REASON_MISSING_OPTIONS = "missing_options"
REASON_COMPETITOR = "competitor"
REASON_PLUG_AND_PHONE = "plug_and_phone_difficulties"
REASON_TECHNICAL = "technical_difficulties"
REASON_OTHER = "other"
TERMINATION_REASONS = {
    REASON_MOVE: N_("Move"),
    REASON_BILLING: N_("Billing difficulties"),
    REASON_END_OF_ACTIVITY: N_("End of activity"),
    REASON_MISSING_OPTIONS: N_("Missing options"),
    REASON_COMPETITOR: N_("Moving to a competitor"),
    REASON_PLUG_AND_PHONE: N_("Plug & Phone difficulties"),
    REASON_TECHNICAL: N_("Technical difficulties"),
    REASON_OTHER: N_("Other"),
}
REASONS_NEEDING_DETAILS = frozenset({REASON_OTHER, REASON_MISSING_OPTIONS})


def termination_reason_problem(reason: str, details: str | None) -> str | None:
    """None when the reason is acceptable, else the msgid saying what is wrong."""
    if reason not in TERMINATION_REASONS:
        return N_("Choose a reason from the list.")
    if reason in REASONS_NEEDING_DETAILS and not (details or "").strip():
        return N_("Tell us more: details are required for this reason.")
    return None


# --- Hardware returns ----------------------------------------------------------------------------
LOAN_LENT = "lent"
LOAN_RETURN_OPENED = "return_opened"
LOAN_RECEIVED = "received"
LOAN_REFUNDING = "refunding"  # the refund is asked of the payment provider (outbox)
LOAN_REFUNDED = "refunded"
RETURN_WITHIN_DAYS = 15
REFUND_AFTER_RECEIPT_DAYS = 10

# --- Simultaneous calls --------------------------------------------------------------------------
EXTRA_CALL_MONTHLY_PRICE = Decimal("1.00")  # excl. tax, per extra simultaneous call and month

# --- Dates ---------------------------------------------------------------------------------------
PARIS = ZoneInfo("Europe/Paris")


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def first_of_next_month(day: date) -> date:
    return end_of_month(day) + timedelta(days=1)


def local_date(instant: datetime, timezone: str = "Europe/Paris") -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def effective_on(now: datetime, timezone: str = "Europe/Paris") -> date:
    """A change requested now applies at the next renewal: the 1st of next month, operator time."""
    return first_of_next_month(local_date(now, timezone))


def month_period(first: date) -> tuple[date, date]:
    """The renewal period starting on `first` (the 1st of a month) and its last day."""
    if first.day != 1:
        raise ValueError("a renewal period starts on the 1st of a month")
    return first, end_of_month(first)


# --- Proration -----------------------------------------------------------------------------------
CENT = Decimal("0.01")


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def prorated_amount(monthly: Decimal, start: date, end: date) -> Decimal:
    """The price of the days start..end (inclusive) of one month, to the cent (half up)."""
    if start.month != end.month or start.year != end.year or end < start:
        raise ValueError("a prorated period lies within one month")
    days = (end - start).days + 1
    return (monthly * days / days_in_month(start)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Part:
    start: date
    end: date
    amount: Decimal


def split_month(monthly: Decimal, cuts: list[date]) -> list[Part]:
    """Splits one month's price at the given days (each starts a new part), so that the parts add
    up exactly to the monthly price: each part is the rounded cumulative price minus the
    previous one."""
    if not cuts:
        raise ValueError("give at least the first day")
    first = cuts[0].replace(day=1)
    last = end_of_month(first)
    starts = sorted({first, *cuts})
    parts: list[Part] = []
    previous_total = Decimal("0.00")
    for index, start in enumerate(starts):
        end = starts[index + 1] - timedelta(days=1) if index + 1 < len(starts) else last
        cumulative = prorated_amount(monthly, first, end)
        parts.append(Part(start, end, cumulative - previous_total))
        previous_total = cumulative
    return parts
