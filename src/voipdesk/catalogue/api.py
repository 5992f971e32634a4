"""Catalogue API: offers with prices (excl. and incl. tax) per country, and free numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from voipdesk.accounts.api_auth import current_staff
from voipdesk.accounts.models import Account
from voipdesk.catalogue import actions, queries, rules
from voipdesk.catalogue.errors import PriceInThePast, SpendingCapPolicyInThePast
from voipdesk.catalogue.models import PRICE_DEPOSIT, Price
from voipdesk.core.http import get_platform, request_language
from voipdesk.core.i18n import gettext
from voipdesk.core.money import Money, round_cents
from voipdesk.core.pagination import (
    Page,
    PageParams,
    cursor_key,
    encode_cursor,
    page_params,
    paginate,
)
from voipdesk.core.platform import Platform

router = APIRouter(tags=["catalogue"])

ACCOUNT_KINDS = ("individual", "company", "association")


class MoneyOut(BaseModel):
    amount: str
    currency: str


class PriceOut(BaseModel):
    excl_tax: MoneyOut
    tax: MoneyOut
    incl_tax: MoneyOut


class CallsOut(BaseModel):
    minimum: int
    maximum: int
    included: int


class OfferOut(BaseModel):
    code: str
    kind: str
    label: str
    description: str
    prices: dict[str, PriceOut]
    simultaneous_calls: CallsOut | None
    allowed_changes: list[str]


class TaxOut(BaseModel):
    label: str
    rate: str


class AreaOut(BaseModel):
    prefix: str
    name: str
    free: int


class CatalogueOut(BaseModel):
    country: str
    on: str
    currency: str
    taxes: list[TaxOut]
    offers: list[OfferOut]
    areas: list[AreaOut]
    alias_quantities: dict[str, int] = Field(
        description="How many alias numbers one order may hold: any count from minimum to maximum."
    )
    payment_methods: dict[str, list[str]]


class NumberOut(BaseModel):
    number: str
    national: str
    area_prefix: str
    area_name: str


class NumberPage(Page[NumberOut]):
    pass


def price_json(
    amount: Decimal, components: tuple[rules.TaxComponent, ...], currency: str = "EUR"
) -> dict[str, Any]:
    """A price excl. tax with its tax (each component rounded to the cent half up) and incl. tax."""
    tax = sum((round_cents(amount * component.rate) for component in components), Decimal("0"))
    return {
        "excl_tax": Money(amount, currency).as_json(),
        "tax": Money(tax, currency).as_json(),
        "incl_tax": Money(amount + tax, currency).as_json(),
    }


@router.get(
    "/catalogue",
    response_model=CatalogueOut,
    summary="Offers, options, numbers, fax and phones with prices",
)
def get_catalogue(
    request: Request,
    country: str = Query(..., description="FR, BE, CH or CA-QC"),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    language = request_language(request)
    on = platform.today()
    with platform.session() as session:
        queries.check_country(country)
        components = rules.tax_components(country, on)
        offers = []
        for view in queries.offers_for_country(session, country, on, language):
            offers.append(
                {
                    "code": view.code,
                    "kind": view.kind,
                    "label": view.label,
                    "description": view.description,
                    "prices": {
                        component: price_json(
                            amount,
                            () if component == PRICE_DEPOSIT else components,
                            rules.currency_of(country),
                        )
                        for component, amount in view.prices.items()
                    },
                    "simultaneous_calls": (
                        {
                            "minimum": view.calls.minimum,
                            "maximum": view.calls.maximum,
                            "included": view.calls.included,
                        }
                        if view.calls
                        else None
                    ),
                    "allowed_changes": sorted(view.allowed_changes),
                }
            )
        areas = [
            {"prefix": area.prefix, "name": area.name, "free": area.free}
            for area in queries.areas(session, country, platform.now())
        ]
        payment_methods = {
            kind: list(queries.allowed_payment_methods(session, country, kind))
            for kind in ACCOUNT_KINDS
        }
    return {
        "country": country,
        "on": on.isoformat(),
        "currency": rules.CURRENCY[country],
        "taxes": [{"label": gettext(language, c.label), "rate": str(c.rate)} for c in components],
        "offers": offers,
        "areas": areas,
        "alias_quantities": {"minimum": 1, "maximum": rules.MAX_ALIAS_NUMBERS_PER_ORDER},
        "payment_methods": payment_methods,
    }


@router.get("/catalogue/numbers", response_model=NumberPage, summary="Numbers free to order")
def get_free_numbers(
    country: str = Query(..., max_length=10, description="FR, BE, CH or CA-QC"),
    prefix: str | None = Query(
        None, max_length=20, description="area prefix, E.164 (+331) or national (01)"
    ),
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    # An unencoded "+" in a query string arrives as a space: read it back as the "+" it was.
    if prefix and prefix.startswith(" "):
        prefix = "+" + prefix.strip()
    position = cursor_key(page.cursor, str)
    after = position[0] if position else None
    limit = page.limit
    with platform.session() as session:
        rows = queries.free_numbers(
            session, country, platform.now(), prefix, limit + 1, after=after
        )
    items = [
        {
            "number": row.number_e164,
            "national": queries.national_format(row.number_e164),
            "area_prefix": row.area_prefix,
            "area_name": row.area_name,
        }
        for row in rows[:limit]
    ]
    return {
        "items": items,
        "next_cursor": encode_cursor(rows[limit - 1].number_e164) if len(rows) > limit else None,
    }


# --- Staff: the operator edits its catalogue ------------------------------------------------------
class OfferPatch(BaseModel):
    label_en: str | None = Field(None, max_length=200)
    label_fr: str | None = Field(None, max_length=200)
    description_en: str | None = Field(None, max_length=2000)
    description_fr: str | None = Field(None, max_length=2000)
    countries: list[str] | None = Field(None, max_length=20)
    active: bool | None = None
    sort_order: int | None = None


class PriceIn(BaseModel):
    offer: str = Field(max_length=60)
    component: str = Field("monthly", max_length=60)
    amount: Decimal = Field(max_digits=14)
    valid_from: date
    country: str = Field("*", max_length=10)


class PriceRowOut(BaseModel):
    offer: str
    component: str
    country: str
    amount: MoneyOut
    valid_from: date
    valid_until: date | None


class PromotionIn(BaseModel):
    code: str = Field(max_length=60)
    description: str = Field("", max_length=2000)
    percent: Decimal | None = Field(None, max_digits=14)
    amount_excl_tax: Decimal | None = Field(None, max_digits=14)
    valid_from: date
    valid_until: date | None = None
    max_uses: int | None = None


class NumbersIn(BaseModel):
    country: str = Field(max_length=10)
    area_prefix: str = Field(max_length=20)
    area_name: str = Field(max_length=200)
    numbers: list[str] = Field(max_length=1000)


def _price_row(price: Price) -> dict[str, Any]:
    return {
        "offer": price.offer_code,
        "component": price.component,
        "country": price.country,
        "amount": Money(price.amount, price.currency).as_json(),
        "valid_from": price.valid_from,
        "valid_until": price.valid_until,
    }


class PricePage(Page[PriceRowOut]):
    pass


@router.get(
    "/backoffice/catalogue/prices",
    response_model=PricePage,
    tags=["backoffice"],
    summary="Every price with its dates (history included)",
)
def staff_prices(
    offer: str | None = None,
    page: PageParams = Depends(page_params),
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.session() as session:
        query = select(Price)
        if offer:
            query = query.where(Price.offer_code == offer)
        prices, next_cursor = paginate(
            session.scalars(query),
            key=lambda p: (p.offer_code, p.component, p.country, p.valid_from, p.id),
            page=page,
        )
        return {"items": [_price_row(price) for price in prices], "next_cursor": next_cursor}


@router.post(
    "/backoffice/catalogue/prices",
    status_code=201,
    response_model=PriceRowOut,
    tags=["backoffice"],
    summary="A new price from a date (the one in force ends that day)",
)
def staff_set_price(
    body: PriceIn,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    if body.valid_from < platform.today():
        raise PriceInThePast(fields={"valid_from": "Today or later."})
    with platform.transaction() as session:
        price = actions.set_price(
            session, body.offer, body.component, body.amount, body.valid_from, body.country
        )
        return _price_row(price)


@router.patch(
    "/backoffice/catalogue/offers/{offer_code}",
    response_model=OfferOut,
    tags=["backoffice"],
    summary="Edit an offer (labels, descriptions, countries, on sale or not)",
)
def staff_update_offer(
    offer_code: str,
    body: OfferPatch,
    request: Request,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    language = request_language(request)
    with platform.transaction() as session:
        offer = actions.update_offer(session, offer_code, platform.now(), **body.model_dump())
        calls = rules.simultaneous_calls_range(offer.code)
        return {
            "code": offer.code,
            "kind": offer.kind,
            "label": offer.label(language),
            "description": offer.description(language),
            "prices": {},
            "simultaneous_calls": (
                {"minimum": calls.minimum, "maximum": calls.maximum, "included": calls.included}
                if calls
                else None
            ),
            "allowed_changes": sorted(rules.allowed_offer_changes(offer.code)),
        }


@router.post(
    "/backoffice/catalogue/promotions",
    status_code=201,
    tags=["backoffice"],
    summary="A promotion code (a percentage or an amount excl. tax)",
)
def staff_add_promotion(
    body: PromotionIn,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.transaction() as session:
        promotion = actions.add_promotion(session, body.code, **body.model_dump(exclude={"code"}))
        return {
            "code": promotion.code,
            "percent": str(promotion.percent) if promotion.percent is not None else None,
            "amount_excl_tax": (
                Money(promotion.amount_excl_tax).as_json()
                if promotion.amount_excl_tax is not None
                else None
            ),
            "valid_from": promotion.valid_from.isoformat(),
            "valid_until": promotion.valid_until.isoformat() if promotion.valid_until else None,
            "max_uses": promotion.max_uses,
        }


@router.post(
    "/backoffice/catalogue/numbers",
    status_code=201,
    tags=["backoffice"],
    summary="Add numbers to the inventory of an area",
)
def staff_add_numbers(
    body: NumbersIn,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.transaction() as session:
        queries.check_country(body.country)
        added = actions.add_numbers(
            session, body.country, body.area_prefix, body.area_name, body.numbers
        )
    return {"added": added}


# --- Spending cap policy (staff) ---------------------------------------------------------------
class SpendingCapPolicyIn(BaseModel):
    """Amounts in euros (decimal strings); `new_customer_days`: an account younger than this is
    a new customer."""

    default: Decimal = Field(max_digits=14)
    maximum: Decimal = Field(max_digits=14)
    new_customer_default: Decimal = Field(max_digits=14)
    new_customer_maximum: Decimal = Field(max_digits=14)
    minimum: Decimal = Field(max_digits=14)
    new_customer_days: int = Field(ge=0, le=rules.NEW_CUSTOMER_DAYS_MAXIMUM)
    valid_from: date


class SpendingCapPolicyOut(BaseModel):
    default: MoneyOut
    maximum: MoneyOut
    new_customer_default: MoneyOut
    new_customer_maximum: MoneyOut
    minimum: MoneyOut
    new_customer_days: int
    valid_from: date | None = Field(description="None: the built-in policy")
    valid_until: date | None


class SpendingCapPoliciesOut(BaseModel):
    in_force: SpendingCapPolicyOut
    items: list[SpendingCapPolicyOut]


def policy_json(
    policy: rules.SpendingCapPolicy, valid_from: date | None, valid_until: date | None
) -> dict[str, Any]:
    return {
        "default": Money(policy.default).as_json(),
        "maximum": Money(policy.maximum).as_json(),
        "new_customer_default": Money(policy.new_customer_default).as_json(),
        "new_customer_maximum": Money(policy.new_customer_maximum).as_json(),
        "minimum": Money(policy.minimum).as_json(),
        "new_customer_days": policy.new_customer_days,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }


def policies_json(session: Any, today: date) -> dict[str, Any]:
    rows = queries.spending_cap_policies(session)
    in_force = next(
        (
            row
            for row in rows
            if row.valid_from <= today and (row.valid_until is None or row.valid_until > today)
        ),
        None,
    )
    return {
        "in_force": (
            policy_json(queries.policy_of(in_force), in_force.valid_from, in_force.valid_until)
            if in_force is not None
            else policy_json(rules.BUILT_IN_SPENDING_CAP_POLICY, None, None)
        ),
        "items": [
            policy_json(queries.policy_of(row), row.valid_from, row.valid_until) for row in rows
        ],
    }


@router.get(
    "/backoffice/catalogue/spending-cap",
    response_model=SpendingCapPoliciesOut,
    tags=["backoffice"],
    summary="The spending cap's defaults and limits: in force today, and every one with its dates",
)
def staff_spending_cap_policies(
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    with platform.session() as session:
        return policies_json(session, platform.today())


@router.post(
    "/backoffice/catalogue/spending-cap",
    status_code=201,
    response_model=SpendingCapPolicyOut,
    tags=["backoffice"],
    summary="New spending cap defaults and limits from a date (the ones in force end that day)",
)
def staff_set_spending_cap_policy(
    body: SpendingCapPolicyIn,
    staff: Account = Depends(current_staff),
    platform: Platform = Depends(get_platform),
) -> dict[str, Any]:
    if body.valid_from < platform.today():
        raise SpendingCapPolicyInThePast(fields={"valid_from": "Today or later."})
    policy = rules.SpendingCapPolicy(**body.model_dump(exclude={"valid_from"}))
    with platform.transaction() as session:
        row = actions.set_spending_cap_policy(
            session, policy, body.valid_from, platform.now(), f"account:{staff.id}"
        )
        return policy_json(policy, row.valid_from, row.valid_until)
