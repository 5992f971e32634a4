"""Reading the catalogue: offers with their prices on a date, free numbers, payment-method rules,
promotion codes. Other areas (orders, subscriptions, billing) read prices through `price_for`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from voipdesk.catalogue import rules
from voipdesk.catalogue.errors import (
    InvalidPhoneNumber,
    OfferNotSoldInCountry,
    PriceMissing,
    UnknownCountry,
    UnknownOffer,
    UnknownPromotionCode,
)
from voipdesk.catalogue.models import (
    NUMBER_FREE,
    NUMBER_RESERVED,
    InventoryNumber,
    Offer,
    PaymentMethodRule,
    Price,
    PromotionCode,
    SpendingCapPolicy,
)


def check_country(country: str) -> str:
    if country not in rules.COUNTRIES:
        raise UnknownCountry(country=country, fields={"country": "Choose FR, BE, CH or CA-QC."})
    return country


def _price_rows(session: Session, offer_code: str, country: str, on: date) -> list[Price]:
    rows = session.scalars(
        select(Price).where(
            Price.offer_code == offer_code,
            Price.country.in_((country, "*")),
            Price.valid_from <= on,
            or_(Price.valid_until.is_(None), Price.valid_until > on),
        )
    ).all()
    rows = [row for row in rows if rules.price_applies(row.country, row.currency, country)]
    # A country's own price wins over the "*" one; among equals, the latest valid_from.
    return sorted(rows, key=lambda row: (row.country == "*", -row.valid_from.toordinal()))


def price_for(
    session: Session,
    offer_code: str,
    component: str,
    country: str,
    on: date,
    *,
    required: bool = True,
) -> Decimal | None:
    """The excl.-tax price of one component of an offer in force on `on` for `country`."""
    for row in _price_rows(session, offer_code, country, on):
        if row.component == component:
            return row.amount
    if required:
        raise PriceMissing(offer=offer_code, on=on.isoformat())
    return None


def prices_on(session: Session, offer_code: str, country: str, on: date) -> dict[str, Decimal]:
    prices: dict[str, Decimal] = {}
    for row in _price_rows(session, offer_code, country, on):
        prices.setdefault(row.component, row.amount)
    return prices


def get_offer(session: Session, offer_code: str) -> Offer:
    offer = session.get(Offer, offer_code)
    if offer is None or not offer.active:
        raise UnknownOffer(offer=offer_code, fields={"offer": "Choose an offer of the catalogue."})
    return offer


def offer_for_country(session: Session, offer_code: str, country: str) -> Offer:
    offer = get_offer(session, offer_code)
    if country not in offer.countries:
        raise OfferNotSoldInCountry(
            offer=offer_code,
            country=country,
            fields={"offer": "This offer is not sold in your country."},
        )
    return offer


@dataclass(frozen=True)
class OfferView:
    code: str
    kind: str
    label: str
    description: str
    prices: dict[str, Decimal]
    calls: rules.CallRange | None
    allowed_changes: frozenset[str] = field(default_factory=frozenset)


def offers_for_country(session: Session, country: str, on: date, language: str) -> list[OfferView]:
    check_country(country)
    offers = session.scalars(
        select(Offer).where(Offer.active.is_(True)).order_by(Offer.sort_order, Offer.code)
    ).all()
    views = []
    for offer in offers:
        if country not in offer.countries:
            continue
        prices = prices_on(session, offer.code, country, on)
        if not prices:
            continue  # not priced yet on that date: not for sale
        views.append(
            OfferView(
                code=offer.code,
                kind=offer.kind,
                label=offer.label(language),
                description=offer.description(language),
                prices=prices,
                calls=rules.simultaneous_calls_range(offer.code),
                allowed_changes=rules.allowed_offer_changes(offer.code),
            )
        )
    return views


# --- Numbers -------------------------------------------------------------------------------------
def numbering_region(country: str) -> str:
    return rules.NUMBERING_REGION[check_country(country)]


def normalise_number(number: str, country: str) -> str:
    """A valid number of the country's numbering plan, in E.164; refused otherwise."""
    region = numbering_region(country)
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(number=number, country=country) from None
    if (
        not phonenumbers.is_valid_number(parsed)
        or phonenumbers.region_code_for_number(parsed) != region
    ):
        raise InvalidPhoneNumber(number=number, country=country)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_area_prefix(prefix: str, country: str) -> str:
    """An area prefix as E.164 digits: "+331", "01" and "1" all mean Paris for FR. A prefix
    that is not digits is refused (422), never ignored."""
    if not rules.is_area_prefix_well_formed(prefix):
        from voipdesk.catalogue.errors import InvalidAreaPrefix

        raise InvalidAreaPrefix(prefix=prefix, fields={"prefix": "Give digits only."})
    region = numbering_region(country)
    digits = prefix.strip().replace(" ", "")
    if digits.startswith("+"):
        return "+" + "".join(ch for ch in digits[1:] if ch.isdigit())
    digits = "".join(ch for ch in digits if ch.isdigit())
    calling_code = phonenumbers.country_code_for_region(region)
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0"):
        digits = digits[1:]
    return f"+{calling_code}{digits}"


def national_format(number_e164: str) -> str:
    try:
        parsed = phonenumbers.parse(number_e164, None)
    except phonenumbers.NumberParseException:
        return number_e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def is_free(number: InventoryNumber, now: datetime) -> bool:
    if number.status == NUMBER_FREE:
        return True
    # An order's reservation lapses with the order, even before the expiry job has run.
    return (
        number.status == NUMBER_RESERVED
        and number.reserved_until is not None
        and number.reserved_until <= now
    )


def free_numbers_condition(now: datetime):
    return or_(
        InventoryNumber.status == NUMBER_FREE,
        (InventoryNumber.status == NUMBER_RESERVED) & (InventoryNumber.reserved_until <= now),
    )


def count_held_numbers(session: Session, order_ids: list[str], now: datetime) -> int:
    """Numbers these orders hold right now (reserved for them, hold not lapsed)."""
    if not order_ids:
        return 0
    return (
        session.scalar(
            select(func.count())
            .select_from(InventoryNumber)
            .where(
                InventoryNumber.reserved_order_id.in_(order_ids),
                InventoryNumber.status == NUMBER_RESERVED,
                InventoryNumber.reserved_until > now,
            )
        )
        or 0
    )


def count_free_numbers(session: Session, country: str, now: datetime, prefix: str | None) -> int:
    """How many numbers are free in an area (the count a refusal tells)."""
    query = (
        select(func.count())
        .select_from(InventoryNumber)
        .where(InventoryNumber.region == numbering_region(country), free_numbers_condition(now))
    )
    if prefix:
        query = query.where(InventoryNumber.number_e164.startswith(prefix))
    return int(session.scalar(query) or 0)


def free_numbers(
    session: Session,
    country: str,
    now: datetime,
    prefix: str | None = None,
    limit: int = 50,
    after: str | None = None,
) -> list[InventoryNumber]:
    query = select(InventoryNumber).where(
        InventoryNumber.region == numbering_region(country), free_numbers_condition(now)
    )
    if prefix:
        query = query.where(
            InventoryNumber.number_e164.startswith(normalise_area_prefix(prefix, country))
        )
    if after:
        query = query.where(InventoryNumber.number_e164 > after)
    return list(session.scalars(query.order_by(InventoryNumber.number_e164).limit(limit)).all())


@dataclass(frozen=True)
class Area:
    prefix: str
    name: str
    free: int


def areas(session: Session, country: str, now: datetime) -> list[Area]:
    rows = session.execute(
        select(InventoryNumber.area_prefix, InventoryNumber.area_name, func.count())
        .where(InventoryNumber.region == numbering_region(country), free_numbers_condition(now))
        .group_by(InventoryNumber.area_prefix, InventoryNumber.area_name)
        .order_by(InventoryNumber.area_prefix)
    ).all()
    return [Area(prefix, name, count) for prefix, name, count in rows]


# --- Payment methods and promotions --------------------------------------------------------------
def allowed_payment_methods(session: Session, country: str, account_kind: str) -> tuple[str, ...]:
    allowed = set(
        session.scalars(
            select(PaymentMethodRule.method_type).where(
                PaymentMethodRule.country == country,
                PaymentMethodRule.account_kind.in_((account_kind, "*")),
            )
        ).all()
    )
    return tuple(method for method in rules.PAYMENT_METHOD_TYPES if method in allowed)


def find_promotion(session: Session, code: str, on: date) -> PromotionCode:
    promotion = session.get(PromotionCode, code.strip().upper())
    if (
        promotion is None
        or not promotion.active
        or promotion.valid_from > on
        or (promotion.valid_until is not None and promotion.valid_until <= on)
        or (promotion.max_uses is not None and promotion.used_count >= promotion.max_uses)
    ):
        raise UnknownPromotionCode(
            promotion=code, fields={"promotion_code": "This promotion code cannot be used."}
        )
    return promotion


def spending_cap_policy(session: Session, on: date) -> rules.SpendingCapPolicy:
    """The spending cap's defaults and limits in force on that day (stored by staff, else the
    built-in ones)."""
    row = session.scalar(
        select(SpendingCapPolicy)
        .where(
            SpendingCapPolicy.valid_from <= on,
            or_(SpendingCapPolicy.valid_until.is_(None), SpendingCapPolicy.valid_until > on),
        )
        .order_by(SpendingCapPolicy.valid_from.desc())
        .limit(1)
    )
    if row is None:
        return rules.BUILT_IN_SPENDING_CAP_POLICY
    return policy_of(row)


def policy_of(row: SpendingCapPolicy) -> rules.SpendingCapPolicy:
    return rules.SpendingCapPolicy(
        default=Decimal(row.default_amount).quantize(Decimal("0.01")),
        maximum=Decimal(row.maximum).quantize(Decimal("0.01")),
        new_customer_default=Decimal(row.new_customer_default).quantize(Decimal("0.01")),
        new_customer_maximum=Decimal(row.new_customer_maximum).quantize(Decimal("0.01")),
        minimum=Decimal(row.minimum).quantize(Decimal("0.01")),
        new_customer_days=int(row.new_customer_days),
    )


def spending_cap_policies(session: Session) -> list[SpendingCapPolicy]:
    """Every stored spending cap policy with its dates, the newest first (history included)."""
    return list(
        session.scalars(select(SpendingCapPolicy).order_by(SpendingCapPolicy.valid_from.desc()))
    )
