"""Order rules as plain Python: the state table, expiry, totals and tax, follow-up steps."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from voipdesk.catalogue.rules import TaxComponent
from voipdesk.core.i18n import N_
from voipdesk.core.money import round_cents

# --- States and the transition table -------------------------------------------------------------
NOT_PAID = "not_paid"
VALIDATION = "validation"
DELIVERING = "delivering"
DELIVERED = "delivered"
EXPIRED = "expired"
CANCELLED = "cancelled"
STATES = (NOT_PAID, VALIDATION, DELIVERING, DELIVERED, EXPIRED, CANCELLED)

STATE_LABELS = {
    NOT_PAID: N_("Payment not received"),
    VALIDATION: N_("Validation"),
    DELIVERING: N_("Delivery in progress"),
    DELIVERED: N_("Delivered"),
    EXPIRED: N_("Expired"),
    CANCELLED: N_("Cancelled"),
}

# (from, to) -> why it happens. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (NOT_PAID, VALIDATION): "paid; a rule asks for manual checks first",
    (NOT_PAID, DELIVERING): "paid",
    (NOT_PAID, EXPIRED): "the expiry date passed without payment",
    (NOT_PAID, CANCELLED): "cancelled by the customer",
    (VALIDATION, DELIVERING): "the manual checks were approved",
    (DELIVERING, DELIVERED): "everything ordered was created",
}

FINAL_STATES = frozenset({DELIVERED, EXPIRED, CANCELLED})
# Orders that the customer sees in the list (expired ones disappear).
LISTED_STATES = (NOT_PAID, VALIDATION, DELIVERING, DELIVERED, CANCELLED)
# An order can be viewed as a printable page while awaiting payment or in delivery.
PRINTABLE_STATES = frozenset({NOT_PAID, VALIDATION, DELIVERING})
IN_PROGRESS_STATES = frozenset({NOT_PAID, VALIDATION, DELIVERING})


def can_transition(from_state: str, to_state: str) -> bool:
    return (from_state, to_state) in TRANSITIONS


def allowed_targets(from_state: str) -> frozenset[str]:
    return frozenset(to for (origin, to) in TRANSITIONS if origin == from_state)


# --- Expiry --------------------------------------------------------------------------------------
ORDER_VALIDITY = timedelta(days=15)
EXPIRY_REMINDER_BEFORE = timedelta(days=3)


def expiry_for(created_at: datetime) -> datetime:
    return created_at + ORDER_VALIDITY


def is_past_expiry(expires_at: datetime, now: datetime) -> bool:
    return now >= expires_at


def is_due_for_expiry_reminder(expires_at: datetime, now: datetime) -> bool:
    return expires_at - EXPIRY_REMINDER_BEFORE <= now < expires_at


# --- Service periods -----------------------------------------------------------------------------
def first_period(start: date) -> tuple[date, date]:
    """From the order day to the end of its month: renewals then run on the 1st (inclusive end)."""
    last_day = calendar.monthrange(start.year, start.month)[1]
    return start, date(start.year, start.month, last_day)


def prorated(monthly: Decimal, start: date, end: date) -> Decimal:
    """The price of days start..end (inclusive) of one month, rounded to the cent half up."""
    days_in_month = calendar.monthrange(start.year, start.month)[1]
    days = (end - start).days + 1
    if days >= days_in_month:
        return round_cents(monthly)
    return round_cents(monthly * days / days_in_month)


# --- Totals --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PricedLine:
    quantity: int
    unit_price_excl_tax: Decimal
    tax_components: tuple[TaxComponent, ...]
    discountable: bool = True  # deposits are not

    @property
    def amount_excl_tax(self) -> Decimal:
        return round_cents(self.unit_price_excl_tax * self.quantity)


@dataclass(frozen=True)
class Discount:
    percent: Decimal | None = None  # 10 = 10 %
    amount_excl_tax: Decimal | None = None


@dataclass(frozen=True)
class TaxGroup:
    """Lines sharing the same taxes: discount and tax are computed on the group's total."""

    components: tuple[TaxComponent, ...]
    subtotal_excl_tax: Decimal
    discount_excl_tax: Decimal
    taxes: tuple[tuple[TaxComponent, Decimal], ...]

    @property
    def net_excl_tax(self) -> Decimal:
        return self.subtotal_excl_tax - self.discount_excl_tax

    @property
    def tax(self) -> Decimal:
        return sum((amount for _, amount in self.taxes), Decimal("0"))


@dataclass(frozen=True)
class Totals:
    groups: tuple[TaxGroup, ...]

    @property
    def subtotal_excl_tax(self) -> Decimal:
        return sum((group.subtotal_excl_tax for group in self.groups), Decimal("0.00"))

    @property
    def discount_excl_tax(self) -> Decimal:
        return sum((group.discount_excl_tax for group in self.groups), Decimal("0.00"))

    @property
    def excl_tax(self) -> Decimal:
        return self.subtotal_excl_tax - self.discount_excl_tax

    @property
    def tax(self) -> Decimal:
        return sum((group.tax for group in self.groups), Decimal("0.00"))

    @property
    def incl_tax(self) -> Decimal:
        return self.excl_tax + self.tax

    def tax_by_label(self) -> list[tuple[TaxComponent, Decimal, Decimal]]:
        """(component, base excl. tax, tax) per component and rate, in first-seen order."""
        merged: dict[TaxComponent, list[Decimal]] = {}
        for group in self.groups:
            for component, amount in group.taxes:
                entry = merged.setdefault(component, [Decimal("0.00"), Decimal("0.00")])
                entry[0] += group.net_excl_tax
                entry[1] += amount
        return [(component, base, tax) for component, (base, tax) in merged.items()]


def _round_down_cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def _allocate(amount: Decimal, bases: Sequence[Decimal]) -> list[Decimal]:
    """Splits `amount` over `bases` in proportion, in cents, the rounding remainders going to the
    largest fractions (so the parts add up to exactly `amount`)."""
    total = sum(bases, Decimal("0"))
    if total <= 0 or amount <= 0:
        return [Decimal("0.00") for _ in bases]
    exact = [amount * base / total for base in bases]
    parts = [_round_down_cents(value) for value in exact]
    remainder_cents = int((amount - sum(parts, Decimal("0"))) / Decimal("0.01"))
    order = sorted(range(len(bases)), key=lambda index: exact[index] - parts[index], reverse=True)
    for index in order[:remainder_cents]:
        parts[index] += Decimal("0.01")
    return parts


def compute_totals(lines: Iterable[PricedLine], discount: Discount | None = None) -> Totals:
    """Groups lines by their taxes; a discount applies to discountable amounts, split over the
    groups in proportion; each tax is rounded to the cent (half up) on its group's net total."""
    grouped: dict[tuple[TaxComponent, ...], list[Decimal]] = {}
    for line in lines:
        entry = grouped.setdefault(line.tax_components, [Decimal("0.00"), Decimal("0.00")])
        entry[0] += line.amount_excl_tax
        if line.discountable:
            entry[1] += line.amount_excl_tax
    keys = list(grouped)
    discountable = [grouped[key][1] for key in keys]
    discount_total = Decimal("0.00")
    if discount is not None:
        base = sum(discountable, Decimal("0"))
        if discount.percent is not None:
            discount_total = round_cents(base * discount.percent / 100)
        elif discount.amount_excl_tax is not None:
            discount_total = round_cents(discount.amount_excl_tax)
        discount_total = min(max(discount_total, Decimal("0.00")), base)
    shares = _allocate(discount_total, discountable)
    groups = []
    for key, share in zip(keys, shares, strict=True):
        subtotal = grouped[key][0]
        net = subtotal - share
        taxes = tuple(
            (component, (net * component.rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
            for component in key
        )
        groups.append(TaxGroup(key, subtotal, share, taxes))
    return Totals(tuple(groups))


# --- Follow-up -----------------------------------------------------------------------------------
STEP_DONE = "done"
STEP_CURRENT = "current"
STEP_TODO = "todo"
STEP_SKIPPED = "skipped"


@dataclass(frozen=True)
class FollowUpStep:
    code: str
    label: str  # English msgid
    status: str
    at: datetime | None
    action_needed: str | None  # English msgid saying what the customer must do, if anything


def follow_up(
    state: str,
    created_at: datetime,
    expires_at: datetime,
    reached: dict[str, datetime],
    validation_required: bool,
) -> list[FollowUpStep]:
    """The order's steps in order. `reached` maps a state to when the order entered it."""
    steps = [FollowUpStep("created", N_("Purchase order created"), STEP_DONE, created_at, None)]
    paid_at = reached.get(VALIDATION) or reached.get(DELIVERING)
    if state == NOT_PAID:
        steps.append(
            FollowUpStep(
                "payment", N_("Payment"), STEP_CURRENT, None, N_("Pay the order before it expires.")
            )
        )
    elif state in (EXPIRED, CANCELLED):
        steps.append(FollowUpStep("payment", N_("Payment"), STEP_SKIPPED, None, None))
        label = N_("Order expired") if state == EXPIRED else N_("Order cancelled")
        steps.append(FollowUpStep(state, label, STEP_DONE, reached.get(state), None))
        return steps
    else:
        steps.append(FollowUpStep("payment", N_("Payment"), STEP_DONE, paid_at, None))
    went_through_validation = (
        VALIDATION in reached or state == VALIDATION or (state == NOT_PAID and validation_required)
    )
    if went_through_validation:
        if state == VALIDATION:
            steps.append(
                FollowUpStep(
                    "validation",
                    N_("Manual checks (business days)"),
                    STEP_CURRENT,
                    reached.get(VALIDATION),
                    N_("Send the VoIP validation procedure and the documents it lists."),
                )
            )
        elif state == NOT_PAID:
            steps.append(
                FollowUpStep(
                    "validation", N_("Manual checks (business days)"), STEP_TODO, None, None
                )
            )
        else:
            steps.append(
                FollowUpStep(
                    "validation",
                    N_("Manual checks (business days)"),
                    STEP_DONE,
                    reached.get(DELIVERING),
                    None,
                )
            )
    delivery_status = {DELIVERING: STEP_CURRENT, DELIVERED: STEP_DONE}.get(state, STEP_TODO)
    steps.append(
        FollowUpStep(
            "delivery", N_("Delivery in progress"), delivery_status, reached.get(DELIVERING), None
        )
    )
    steps.append(
        FollowUpStep(
            "delivered",
            N_("Delivered: access details sent by e-mail"),
            STEP_DONE if state == DELIVERED else STEP_TODO,
            reached.get(DELIVERED),
            None,
        )
    )
    return steps


# --- Cart limits ---------------------------------------------------------------------------------
MAX_UNITS_PER_LINE = 50  # SIP lines, fax lines or phones on one cart line
QUANTITY_RANGE_TEXT = "1 to 50"

# Idempotency keys are replayed for this long, then forgotten.
IDEMPOTENCY_KEY_LIFETIME = timedelta(days=30)


# --- Terms the customer accepts before a purchase order exists ---------------------------------
@dataclass(frozen=True)
class TermsDocument:
    code: str
    title: str  # English msgid
    version: str  # the date it took effect: a new text gets a new version


TERMS_OF_SALE = TermsDocument("terms_of_sale", N_("Terms of sale"), "2026-01-01")
TELEPHONY_TERMS = TermsDocument("telephony_terms", N_("Telephony terms of service"), "2026-01-01")
TERMS = {t.code: t for t in (TERMS_OF_SALE, TELEPHONY_TERMS)}


def terms_acceptance(accepted: dict[str, str], at: str) -> dict[str, str]:
    """What is kept on the order: each document's accepted version, and when."""
    return {**{code: accepted[code] for code in TERMS}, "accepted_at": at}


def outdated_terms(accepted: dict[str, str]) -> list[str]:
    """The documents whose accepted version is missing or not the current one."""
    return [code for code, terms in TERMS.items() if accepted.get(code) != terms.version]
