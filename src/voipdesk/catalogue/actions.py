"""Catalogue changes: number reservations for orders, and the operator's price and spending
cap policy changes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from voipdesk.catalogue import rules
from voipdesk.catalogue.errors import (
    NotEnoughNumbers,
    NumberNotAvailable,
    PromotionCodeTaken,
    SpendingCapPolicyInvalid,
    UnknownCountry,
    UnknownOffer,
)
from voipdesk.catalogue.models import (
    NUMBER_ASSIGNED,
    NUMBER_FREE,
    NUMBER_RESERVED,
    PRICE_COMPONENTS,
    InventoryNumber,
    Offer,
    Price,
    PromotionCode,
    SpendingCapPolicy,
)
from voipdesk.catalogue.queries import (
    count_free_numbers,
    free_numbers_condition,
    get_offer,
    normalise_area_prefix,
    numbering_region,
)
from voipdesk.core.errors import InvalidInput


def reserve_numbers(
    session: Session, numbers: list[str], order_id: str, until: datetime, now: datetime
) -> None:
    """Reserves exactly these numbers (E.164) for an order; refused if one is not free."""
    for number in numbers:
        # One conditional UPDATE: of two orders racing for a number, only one matches the row.
        result = session.execute(
            update(InventoryNumber)
            .where(InventoryNumber.number_e164 == number, free_numbers_condition(now))
            .values(status=NUMBER_RESERVED, reserved_order_id=order_id, reserved_until=until)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise NumberNotAvailable(
                number=number, fields={"numbers": "Choose numbers that are free."}
            )


def reserve_any(
    session: Session,
    country: str,
    area_prefix: str | None,
    count: int,
    order_id: str,
    until: datetime,
    now: datetime,
) -> list[str]:
    """Reserves `count` free numbers of an area ("any number in this area")."""
    prefix = normalise_area_prefix(area_prefix, country) if area_prefix else None
    reserved: list[str] = []
    query = select(InventoryNumber.number_e164).where(
        InventoryNumber.region == numbering_region(country), free_numbers_condition(now)
    )
    if prefix:
        query = query.where(InventoryNumber.number_e164.startswith(prefix))
    # SKIP LOCKED: concurrent orders take different numbers instead of waiting for each other.
    candidates = session.scalars(
        query.order_by(InventoryNumber.number_e164)
        .limit(count * 2 + 10)
        .with_for_update(skip_locked=True)
    ).all()
    if len(candidates) < count:
        raise NotEnoughNumbers(
            available=count_free_numbers(session, country, now, prefix),
            wanted=count,
            area=prefix or country,
            fields={"area": "Choose another area or fewer numbers."},
        )
    for number in candidates:
        if len(reserved) == count:
            break
        result = session.execute(
            update(InventoryNumber)
            .where(InventoryNumber.number_e164 == number, free_numbers_condition(now))
            .values(status=NUMBER_RESERVED, reserved_order_id=order_id, reserved_until=until)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            reserved.append(number)
    if len(reserved) < count:  # others took some meanwhile; the caller's transaction rolls back
        raise NotEnoughNumbers(
            available=count_free_numbers(session, country, now, prefix),
            wanted=count,
            area=prefix or country,
            fields={"area": "Choose another area or fewer numbers."},
        )
    return reserved


def hold_order_numbers_again(
    session: Session, numbers: list[str], order_id: str, until: datetime, now: datetime
) -> list[str]:
    """At payment: each number of the order is held for it again until `until` (still its own,
    or free again after its hold lapsed). Returns the numbers another order or customer took
    meanwhile (nothing is held then: the caller's transaction rolls back)."""
    gone: list[str] = []
    for number in numbers:
        result = session.execute(
            update(InventoryNumber)
            .where(
                InventoryNumber.number_e164 == number,
                or_(
                    (InventoryNumber.status == NUMBER_RESERVED)
                    & (InventoryNumber.reserved_order_id == order_id),
                    free_numbers_condition(now),
                ),
            )
            .values(status=NUMBER_RESERVED, reserved_order_id=order_id, reserved_until=until)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            gone.append(number)
    return gone


def release_order_numbers(session: Session, order_id: str) -> None:
    session.execute(
        update(InventoryNumber)
        .where(
            InventoryNumber.reserved_order_id == order_id, InventoryNumber.status == NUMBER_RESERVED
        )
        .values(status=NUMBER_FREE, reserved_order_id=None, reserved_until=None)
        .execution_options(synchronize_session=False)
    )


def assign_order_numbers(session: Session, order_id: str, account_id: str) -> None:
    """A paid order keeps its numbers for good (no expiry any more)."""
    session.execute(
        update(InventoryNumber)
        .where(InventoryNumber.reserved_order_id == order_id)
        .values(status=NUMBER_ASSIGNED, reserved_until=None, assigned_account_id=account_id)
        .execution_options(synchronize_session=False)
    )


def set_price(
    session: Session,
    offer_code: str,
    component: str,
    amount: Decimal,
    valid_from: date,
    country: str = "*",
) -> Price:
    """A new price from `valid_from`: the one in force then ends that day (history is kept)."""
    get_offer(session, offer_code)
    fields = {}
    if component not in PRICE_COMPONENTS:
        fields["component"] = "Use monthly, extra_call_monthly, deposit or setup."
    if amount < 0:
        fields["amount"] = "A price is zero or more."
    if country != "*":
        check_countries([country])
    if fields:
        raise InvalidInput(fields=fields)
    current = session.scalars(
        select(Price).where(
            Price.offer_code == offer_code,
            Price.component == component,
            Price.country == country,
            Price.valid_from < valid_from,
            (Price.valid_until.is_(None)) | (Price.valid_until > valid_from),
        )
    ).all()
    for row in current:
        row.valid_until = valid_from
    price = Price(
        offer_code=offer_code,
        component=component,
        country=country,
        amount=amount,
        # A country's price is in its currency; a "*" one in euros (used where the euro is).
        currency=rules.DEFAULT_CURRENCY if country == "*" else rules.currency_of(country),
        valid_from=valid_from,
    )
    session.add(price)
    session.flush()
    return price


def update_offer(session: Session, offer_code: str, now: datetime, **changes: object) -> Offer:
    """The operator edits an offer's labels, descriptions, countries or sale status. Its code is
    its identity and never changes."""
    offer = session.get(Offer, offer_code)
    if offer is None:
        raise UnknownOffer(offer=offer_code, fields={"offer": "Choose an offer of the catalogue."})
    editable = {
        "label_en",
        "label_fr",
        "description_en",
        "description_fr",
        "countries",
        "active",
        "sort_order",
    }
    for name, value in changes.items():
        if name not in editable or value is None:
            continue
        if name == "countries":
            check_countries(list(value))  # type: ignore[call-overload]
        setattr(offer, name, value)
    offer.updated_at = now
    session.flush()
    return offer


def check_countries(countries: list[str]) -> None:
    from voipdesk.catalogue.rules import COUNTRIES

    unknown = [country for country in countries if country not in COUNTRIES]
    if unknown:
        raise UnknownCountry(
            country=", ".join(unknown), fields={"countries": "Choose FR, BE, CH or CA-QC."}
        )


def add_promotion(
    session: Session,
    code: str,
    *,
    description: str,
    percent: Decimal | None,
    amount_excl_tax: Decimal | None,
    valid_from: date,
    valid_until: date | None,
    max_uses: int | None,
) -> PromotionCode:
    code = code.strip().upper()
    fields = {}
    if not code or len(code) > 40 or not code.replace("-", "").replace("_", "").isalnum():
        fields["code"] = "Letters, digits, - and _ only (40 at most)."
    if (percent is None) == (amount_excl_tax is None):
        fields["percent"] = "Give either a percentage or an amount."
    elif percent is not None and not (Decimal("0") < percent <= Decimal("100")):
        fields["percent"] = "A percentage above 0 and up to 100."
    elif amount_excl_tax is not None and amount_excl_tax <= 0:
        fields["amount_excl_tax"] = "An amount above zero."
    if valid_until is not None and valid_until <= valid_from:
        fields["valid_until"] = "The end comes after the start."
    if fields:
        raise InvalidInput(fields=fields)
    if session.get(PromotionCode, code) is not None:
        raise PromotionCodeTaken(promotion=code, fields={"code": "This code already exists."})
    promotion = PromotionCode(
        code=code,
        description=description,
        percent=percent,
        amount_excl_tax=amount_excl_tax,
        valid_from=valid_from,
        valid_until=valid_until,
        max_uses=max_uses,
        used_count=0,
        active=True,
    )
    session.add(promotion)
    session.flush()
    return promotion


def add_numbers(
    session: Session, country: str, area_prefix: str, area_name: str, numbers: list[str]
) -> list[str]:
    """Adds numbers to the inventory (already known ones are left as they are)."""
    from voipdesk.catalogue.queries import normalise_number

    prefix = normalise_area_prefix(area_prefix, country)
    added = []
    for typed in numbers:
        number = normalise_number(typed, country)
        if not number.startswith(prefix):
            raise InvalidInput(
                "%(number)s is not in the area %(area)s.",
                number=number,
                area=prefix,
                fields={"numbers": "Every number must start with the area prefix."},
            )
        if session.get(InventoryNumber, number) is None:
            session.add(
                InventoryNumber(
                    number_e164=number,
                    region=numbering_region(country),
                    area_prefix=prefix,
                    area_name=area_name,
                    status=NUMBER_FREE,
                )
            )
            added.append(number)
    session.flush()
    return added


def set_spending_cap_policy(
    session: Session,
    policy: rules.SpendingCapPolicy,
    valid_from: date,
    now: datetime,
    actor: str,
) -> SpendingCapPolicy:
    """New spending cap defaults and limits from `valid_from`: the policy in force then ends
    that day (history is kept); one set for the same day replaces it. Caps customers already
    chose stay as they are: the limits apply to the next change."""
    problems = rules.spending_cap_policy_problems(policy)
    if problems:
        raise SpendingCapPolicyInvalid(fields=problems)
    same_day = session.scalar(
        select(SpendingCapPolicy).where(SpendingCapPolicy.valid_from == valid_from)
    )
    for row in session.scalars(
        select(SpendingCapPolicy).where(
            SpendingCapPolicy.valid_from < valid_from,
            (SpendingCapPolicy.valid_until.is_(None))
            | (SpendingCapPolicy.valid_until > valid_from),
        )
    ):
        row.valid_until = valid_from
    row = same_day or SpendingCapPolicy(valid_from=valid_from)
    later = session.scalar(
        select(func.min(SpendingCapPolicy.valid_from)).where(
            SpendingCapPolicy.valid_from > valid_from
        )
    )
    row.valid_until = later
    row.default_amount = policy.default
    row.maximum = policy.maximum
    row.new_customer_default = policy.new_customer_default
    row.new_customer_maximum = policy.new_customer_maximum
    row.minimum = policy.minimum
    row.new_customer_days = policy.new_customer_days
    row.created_at = now
    row.created_by = actor[:60]
    session.add(row)
    session.flush()
    return row
