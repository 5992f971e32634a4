"""Consumption rules as plain Python: the destination of a number, the price plan of a line
(rates by destination, inclusions consumed in order), the rating of a line's month of calls, the
month a call belongs to (Europe/Paris) and the spending-cap thresholds. No I/O.

Amounts are Decimal: a call's price has four decimals (rounded half up), a month's total is
rounded to the cent half up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from operator import attrgetter
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType

from voipdesk.catalogue.rules import SpendingCapPolicy
from voipdesk.core.i18n import N_

TIMEZONE = ZoneInfo("Europe/Paris")
PRICE_QUANTUM = Decimal("0.0001")
CENT = Decimal("0.01")
ZERO = Decimal("0")
ZERO_PRICE = ZERO.quantize(PRICE_QUANTUM)

# --- Destinations ---------------------------------------------------------------------------------
DEST_INTERNAL = "internal"  # another line or number of the platform
DEST_INCOMING = "incoming"  # a call received
DEST_FIXED = "fixed"  # geographic or fixed-line number of the line's own country
DEST_MOBILE = "mobile"
DEST_TOLL_FREE = "toll_free"
DEST_SPECIAL = "special"  # premium rate, shared cost, personal, universal access numbers
DEST_EUROPE = "international_europe"
DEST_NORTH_AMERICA = "international_north_america"
DEST_WORLD = "international_world"
DEST_OTHER = "other"  # a number phonenumbers cannot read (priced as the rest of the world)
DESTINATIONS = (
    DEST_INTERNAL,
    DEST_INCOMING,
    DEST_FIXED,
    DEST_MOBILE,
    DEST_TOLL_FREE,
    DEST_SPECIAL,
    DEST_EUROPE,
    DEST_NORTH_AMERICA,
    DEST_WORLD,
    DEST_OTHER,
)
DESTINATION_LABELS = {
    DEST_INTERNAL: N_("Internal"),
    DEST_INCOMING: N_("Incoming"),
    DEST_FIXED: N_("Fixed"),
    DEST_MOBILE: N_("Mobile"),
    DEST_TOLL_FREE: N_("Toll-free"),
    DEST_SPECIAL: N_("Special rate"),
    DEST_EUROPE: N_("International (Europe)"),
    DEST_NORTH_AMERICA: N_("International (North America)"),
    DEST_WORLD: N_("International (rest of the world)"),
    DEST_OTHER: N_("Other"),
}
DIRECTION_LABELS = {
    "outgoing": N_("Outgoing"),
    "incoming": N_("Incoming"),
    "internal": N_("Internal"),
}

# Countries of the "Europe" zone (EU, EEA, Switzerland, United Kingdom and neighbours).
EUROPE = frozenset(
    [
        "AD",
        "AT",
        "BE",
        "BG",
        "CH",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GB",
        "GI",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MC",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "SM",
        "VA",
        "GP",
        "MQ",
        "GF",
        "RE",
        "YT",
        "PM",
        "BL",
        "MF",
    ]
)
NORTH_AMERICA = frozenset({"US", "CA"})

_SPECIAL_TYPES = {
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.UAN,
    PhoneNumberType.PAGER,
    PhoneNumberType.VOICEMAIL,
}


def zone_of(region: str) -> str:
    if region in EUROPE:
        return DEST_EUROPE
    if region in NORTH_AMERICA:
        return DEST_NORTH_AMERICA
    return DEST_WORLD


@lru_cache(maxsize=8)
def region_of(number: str) -> str | None:
    """The numbering region of a line's own number ("FR"), None if unreadable."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return None


def classify(callee: str, home_region: str | None) -> str:
    """The destination of a number dialled from a line of `home_region`, by phonenumbers."""
    try:
        parsed = phonenumbers.parse(callee, None)
    except phonenumbers.NumberParseException:
        return DEST_OTHER
    region = phonenumbers.region_code_for_number(parsed)
    if region is None:
        return DEST_OTHER
    if region != home_region:
        return zone_of(region)
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.MOBILE:
        return DEST_MOBILE
    if kind == PhoneNumberType.TOLL_FREE:
        return DEST_TOLL_FREE
    if kind in _SPECIAL_TYPES:
        return DEST_SPECIAL
    if kind == PhoneNumberType.UNKNOWN:
        return DEST_OTHER
    return DEST_FIXED  # fixed line, fixed line or mobile, VoIP (09 in France)


class DestinationCache:
    """`classify` with a cache per block of 10,000 numbers (numbering plans allocate blocks at
    least that large, so every number of a block has the same type): a month of calls reads the
    numbering plan once per block, not once per call."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str | None], str] = {}

    def __call__(self, callee: str, home_region: str | None) -> str:
        key = (callee[:-4] if len(callee) > 8 else callee, home_region)
        found = self._known.get(key)
        if found is None:
            found = classify(callee, home_region)
            self._known[key] = found
        return found


# --- Price plans ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rate:
    """The price of a destination: a connection fee per charged call, a price per minute, the
    first increment charged (60 = the first minute is charged whole) and the next increments
    (1 = per second after it)."""

    per_minute: Decimal
    connection_fee: Decimal = ZERO
    first_increment: int = 60
    next_increment: int = 1

    def __post_init__(self) -> None:
        if self.first_increment < 1 or self.next_increment < 1:
            raise ValueError("increments are at least one second")
        if self.per_minute < 0 or self.connection_fee < 0:
            raise ValueError("prices are not negative")


@dataclass(frozen=True)
class Inclusion:
    """Calls a plan includes: to these destinations, up to `seconds` a month (None = no limit).
    A line's inclusions are consumed in their order (the offer's first, then its options')."""

    name: str
    destinations: frozenset[str]
    seconds: int | None = None


FREE = Rate(per_minute=ZERO, connection_fee=ZERO, first_increment=1, next_increment=1)

# The built-in rate table (EUR excl. tax), used for a destination the stored tables do not price.
DEFAULT_RATES: Mapping[str, Rate] = {
    DEST_INTERNAL: FREE,
    DEST_INCOMING: FREE,
    DEST_TOLL_FREE: FREE,
    DEST_FIXED: Rate(Decimal("0.0200")),
    DEST_MOBILE: Rate(Decimal("0.1000")),
    DEST_SPECIAL: Rate(Decimal("0.8000"), Decimal("0.1500"), 60, 60),
    DEST_EUROPE: Rate(Decimal("0.0500")),
    DEST_NORTH_AMERICA: Rate(Decimal("0.0500")),
    DEST_WORLD: Rate(Decimal("0.3000"), Decimal("0.1000")),
    DEST_OTHER: Rate(Decimal("0.3000"), Decimal("0.1000")),
}

# The built-in inclusions of each offer and option (seconds a month; None = no limit).
DEFAULT_INCLUSIONS: Mapping[str, tuple[Inclusion, ...]] = {
    "sip-entreprise": (Inclusion("fixed-unlimited", frozenset({DEST_FIXED})),),
    "sip-trunk": (Inclusion("fixed-unlimited", frozenset({DEST_FIXED})),),
    "option-mobile-hours-10": (Inclusion("mobile-10h", frozenset({DEST_MOBILE}), 10 * 3600),),
    "option-mobile-hours-50": (Inclusion("mobile-50h", frozenset({DEST_MOBILE}), 50 * 3600),),
}


@dataclass(frozen=True)
class Plan:
    """What prices a line's calls on one day: rates by destination and its inclusions in order."""

    rates: Mapping[str, Rate]
    inclusions: tuple[Inclusion, ...] = ()

    def rate(self, destination: str) -> Rate:
        return (
            self.rates.get(destination)
            or DEFAULT_RATES.get(destination)
            or DEFAULT_RATES[DEST_OTHER]
        )


def default_plan(offer: str, options: Iterable[str] = ()) -> Plan:
    inclusions = list(DEFAULT_INCLUSIONS.get(offer, ()))
    for option in sorted(options):
        inclusions.extend(DEFAULT_INCLUSIONS.get(option, ()))
    return Plan(DEFAULT_RATES, tuple(inclusions))


def billed_seconds(duration: int, rate: Rate) -> int:
    """The seconds charged for an answered call of `duration` seconds: the first increment
    whole, then whole next increments."""
    if duration <= 0:
        return 0
    if duration <= rate.first_increment:
        return rate.first_increment
    rest = duration - rate.first_increment
    steps = -(-rest // rate.next_increment)
    return rate.first_increment + steps * rate.next_increment


def price_of(seconds: int, rate: Rate) -> Decimal:
    """Connection fee plus `seconds` at the rate per minute, rounded half up to 4 decimals."""
    if seconds <= 0:
        return ZERO_PRICE
    amount = rate.connection_fee + rate.per_minute * seconds / 60
    return amount.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)


# --- Months (Europe/Paris) -----------------------------------------------------------------------
def month_of(instant: datetime) -> date:
    """The month (its 1st) a call belongs to: the month of its start in Paris time (a call across
    midnight on the last day of a month belongs wholly to the month it started in)."""
    local = instant.astimezone(TIMEZONE)
    return date(local.year, local.month, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of a month in Paris time, as UTC instants."""
    start = datetime.combine(month, time(), TIMEZONE)
    end = datetime.combine(next_month(month), time(), TIMEZONE)
    return start.astimezone(UTC), end.astimezone(UTC)


def parse_month(text: str) -> date | None:
    """ "2026-03" -> date(2026, 3, 1); None when malformed."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            return None
        return date(int(year), int(month), 1)
    except ValueError:
        return None


# --- Rating ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CallFacts:
    """What rating needs of one call."""

    call_key: str
    started_at: datetime
    direction: str  # outgoing | incoming | internal
    callee: str
    duration_seconds: int
    answered: bool


@dataclass(frozen=True)
class RatedCall:
    call_key: str
    month: date
    destination: str
    billed_seconds: int
    included_seconds: int
    price: Decimal  # excl. tax, 4 decimals; 0 for included, free and unanswered calls

    @property
    def beyond_plan(self) -> bool:
        return self.price > 0


@dataclass
class _Allowance:
    inclusion: Inclusion
    left: int | None  # None = no limit


def destination_of(
    call: CallFacts, home_region: str | None, classifier: Callable[[str, str | None], str]
) -> str:
    if call.direction == "incoming":
        return DEST_INCOMING
    if call.direction == "internal":
        return DEST_INTERNAL
    return classifier(call.callee, home_region)


def rate_month(
    calls: Sequence[CallFacts],
    home_region: str | None,
    plan_on: Callable[[date], Plan],
    classifier: Callable[[str, str | None], str] = classify,
) -> list[RatedCall]:
    """Rates one line's calls, oldest first (by start, then key): each month's inclusions start
    whole and are consumed in order, call after call; what they do not cover is charged."""
    ordered = sorted(calls, key=attrgetter("started_at", "call_key"))
    rated: list[RatedCall] = []
    allowances: dict[date, list[_Allowance]] = {}
    plans: dict[date, Plan] = {}
    for call in ordered:
        day = call.started_at.astimezone(TIMEZONE).date()
        month = day.replace(day=1)  # month_of(call.started_at), from the same Paris day
        plan = plans.get(day)
        if plan is None:
            plan = plans[day] = plan_on(day)
        if month not in allowances:
            allowances[month] = [_Allowance(i, i.seconds) for i in plan.inclusions]
        destination = destination_of(call, home_region, classifier)
        rate = plan.rate(destination)
        billed = billed_seconds(call.duration_seconds, rate) if call.answered else 0
        included = 0
        if billed:
            for allowance in allowances[month]:
                if destination not in allowance.inclusion.destinations:
                    continue
                if allowance.left is None:
                    included = billed
                    break
                take = min(allowance.left, billed - included)
                allowance.left -= take
                included += take
                if included == billed:
                    break
        charged = billed - included
        price = price_of(charged, rate) if charged else ZERO_PRICE
        rated.append(RatedCall(call.call_key, month, destination, billed, included, price))
    return rated


def month_total(prices: Iterable[Decimal]) -> Decimal:
    """A month's amount: the calls' prices added, rounded to the cent half up."""
    return sum(prices, ZERO).quantize(CENT, rounding=ROUND_HALF_UP)


# --- Spending cap --------------------------------------------------------------------------------
WARNING_THRESHOLDS = (50, 80, 90)
BLOCK_THRESHOLD = 100
THRESHOLDS = (*WARNING_THRESHOLDS, BLOCK_THRESHOLD)
# The defaults and limits are catalogue data (`catalogue.rules.SpendingCapPolicy`, effective-dated).


@dataclass(frozen=True)
class CapLimits:
    default: Decimal
    minimum: Decimal
    maximum: Decimal
    new_customer: bool = False


def is_new_customer(account_created: datetime | None, now: datetime, days: int) -> bool:
    """An account younger than `days` days (or of unknown age) is a new customer."""
    return account_created is None or now - account_created < timedelta(days=days)


def cap_limits(
    policy: SpendingCapPolicy, account_created: datetime | None, now: datetime
) -> CapLimits:
    """The default cap and the range a customer may choose, by the catalogue's policy of the
    day: lower for new customers."""
    if is_new_customer(account_created, now, policy.new_customer_days):
        return CapLimits(
            policy.new_customer_default, policy.minimum, policy.new_customer_maximum, True
        )
    return CapLimits(policy.default, policy.minimum, policy.maximum, False)


@dataclass(frozen=True)
class Refusal(Exception):
    code: str
    field: str
    values: Mapping[str, object] = dataclass_field(default_factory=dict)


def check_cap(amount: Decimal, limits: CapLimits, spent: Decimal) -> Decimal:
    """A cap the customer asks for, or a Refusal naming the rule."""
    if amount != amount.quantize(CENT):
        raise Refusal("spending-cap-precision", "amount")
    if amount < limits.minimum or amount > limits.maximum:
        raise Refusal(
            "spending-cap-out-of-range",
            "amount",
            {"minimum": limits.minimum, "maximum": limits.maximum},
        )
    if amount <= spent:
        raise Refusal("spending-cap-below-spent", "amount", {"spent": spent})
    return amount


def thresholds_reached(spent: Decimal, cap: Decimal) -> tuple[int, ...]:
    """The thresholds (percent of the cap) the month's beyond-plan amount has reached."""
    if cap <= 0:
        return THRESHOLDS
    return tuple(t for t in THRESHOLDS if spent * 100 >= cap * t)


def cap_reached(spent: Decimal, cap: Decimal) -> bool:
    return BLOCK_THRESHOLD in thresholds_reached(spent, cap)


@dataclass(frozen=True)
class CapWarnings:
    send: tuple[int, ...]  # thresholds to e-mail now
    warned: tuple[int, ...]  # thresholds warned and still reached, after this check


def cap_warnings(warned: Iterable[int], spent: Decimal, cap: Decimal) -> CapWarnings:
    """Each threshold is e-mailed once per arming: once sent it stays silent while the month's
    amount is at or above it; when the amount falls below it relative to the cap (the cap
    raised, or a re-rating lowered the amount) it is armed again, and sent again when reached."""
    reached = thresholds_reached(spent, cap)
    kept = {t for t in warned if t in reached}
    send = tuple(t for t in reached if t not in kept)
    return CapWarnings(send, tuple(sorted(kept | set(send))))
