"""The seeded catalogue on both databases: effective-dated prices, numbers, payment rules."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from voipdesk.catalogue import queries, rules
from voipdesk.catalogue.actions import (
    release_order_numbers,
    reserve_any,
    reserve_numbers,
    set_price,
)
from voipdesk.catalogue.demo import seed_catalogue
from voipdesk.catalogue.errors import (
    InvalidPhoneNumber,
    NotEnoughNumbers,
    NumberNotAvailable,
    OfferNotSoldInCountry,
    UnknownCountry,
    UnknownOffer,
    UnknownPromotionCode,
)
from voipdesk.catalogue.models import PRICE_MONTHLY, InventoryNumber, Offer
from voipdesk.core.platform import Platform


@pytest.fixture
def seeded(platform: Platform) -> Platform:
    with platform.transaction() as session:
        seed_catalogue(session, platform)
    return platform


def test_seeding_twice_adds_nothing(seeded: Platform) -> None:
    with seeded.transaction() as session:
        before = session.scalar(select(func.count()).select_from(InventoryNumber))
        seed_catalogue(session, seeded)
        assert session.scalar(select(func.count()).select_from(InventoryNumber)) == before


@pytest.mark.parametrize("region", ["FR", "BE", "CH"])
def test_a_few_hundred_free_numbers_per_country(seeded: Platform, region: str) -> None:
    with seeded.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(InventoryNumber)
            .where(InventoryNumber.region == region)
        )
    assert count is not None and count >= 300


def test_every_offer_code_is_a_rule_code(seeded: Platform) -> None:
    with seeded.session() as session:
        codes = set(session.scalars(select(Offer.code)))
    assert codes == set(rules.OFFER_KINDS)


def test_prices_are_effective_dated(seeded: Platform) -> None:
    with seeded.session() as session:
        assert queries.price_for(
            session, rules.SIP_ENTREPRISE, PRICE_MONTHLY, "FR", date(2026, 6, 30)
        ) == Decimal("9.99")
        assert queries.price_for(
            session, rules.SIP_ENTREPRISE, PRICE_MONTHLY, "FR", date(2026, 7, 1)
        ) == Decimal("10.49")


def test_a_new_price_closes_the_previous_one(seeded: Platform) -> None:
    with seeded.transaction() as session:
        set_price(session, rules.ALIAS_NUMBER, PRICE_MONTHLY, Decimal("1.20"), date(2027, 1, 1))
    with seeded.session() as session:
        assert queries.price_for(
            session, rules.ALIAS_NUMBER, PRICE_MONTHLY, "FR", date(2026, 12, 31)
        ) == Decimal("1.00")
        assert queries.price_for(
            session, rules.ALIAS_NUMBER, PRICE_MONTHLY, "FR", date(2027, 1, 1)
        ) == Decimal("1.20")


def test_a_country_price_wins_over_the_general_one(seeded: Platform) -> None:
    with seeded.transaction() as session:
        set_price(
            session, rules.FAX_LINE, PRICE_MONTHLY, Decimal("3.49"), date(2025, 1, 1), country="CH"
        )
    with seeded.session() as session:
        assert queries.price_for(
            session, rules.FAX_LINE, PRICE_MONTHLY, "CH", date(2026, 3, 1)
        ) == Decimal("3.49")
        assert queries.price_for(
            session, rules.FAX_LINE, PRICE_MONTHLY, "FR", date(2026, 3, 1)
        ) == Decimal("2.99")


def test_offers_per_country(seeded: Platform) -> None:
    with seeded.session() as session:
        quebec = {
            view.code
            for view in queries.offers_for_country(session, "CA-QC", date(2026, 3, 2), "fr")
        }
        france = queries.offers_for_country(session, "FR", date(2026, 3, 2), "fr")
        assert rules.FAX_LINE not in quebec and rules.SIP_DECOUVERTE in quebec
        assert (
            next(view for view in france if view.code == rules.SIP_DECOUVERTE).label
            == "Ligne SIP Découverte"
        )
        with pytest.raises(OfferNotSoldInCountry):
            queries.offer_for_country(session, rules.PHONE_PNP_PRO, "CA-QC")
        with pytest.raises(UnknownOffer):
            queries.get_offer(session, "Ligne SIP Découverte")  # labels are not identifiers
        with pytest.raises(UnknownCountry):
            queries.offers_for_country(session, "DE", date(2026, 3, 2), "fr")


@pytest.mark.parametrize(
    ("country", "typed", "expected"),
    [
        ("FR", "01 86 95 00 00", "+33186950000"),
        ("FR", "+33 1 86 95 00 00", "+33186950000"),
        ("BE", "02 808 70 00", "+3228087000"),
        ("CH", "022 518 00 00", "+41225180000"),
    ],
)
def test_numbers_are_validated_and_formatted(country: str, typed: str, expected: str) -> None:
    assert queries.normalise_number(typed, country) == expected


@pytest.mark.parametrize(
    ("country", "typed"), [("FR", "12345"), ("FR", "+3228087000"), ("BE", "not a number")]
)
def test_invalid_numbers_are_refused(country: str, typed: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        queries.normalise_number(typed, country)


@pytest.mark.parametrize(
    ("prefix", "expected"), [("01", "+331"), ("+331", "+331"), ("1", "+331"), ("0033 1", "+331")]
)
def test_area_prefixes(prefix: str, expected: str) -> None:
    assert queries.normalise_area_prefix(prefix, "FR") == expected


def test_free_numbers_by_prefix_and_reservation(seeded: Platform) -> None:
    now = seeded.now()
    with seeded.transaction() as session:
        paris = queries.free_numbers(session, "FR", now, "01", limit=500)
        assert paris and all(row.number_e164.startswith("+331") for row in paris)
        reserve_numbers(session, [paris[0].number_e164], "order-a", now + timedelta(days=15), now)
        with pytest.raises(NumberNotAvailable):
            reserve_numbers(
                session, [paris[0].number_e164], "order-b", now + timedelta(days=15), now
            )
        taken = reserve_any(session, "FR", "+331", 3, "order-b", now + timedelta(days=15), now)
        assert paris[0].number_e164 not in taken and len(set(taken)) == 3
        left = queries.free_numbers(session, "FR", now, "01", limit=500)
        assert len(left) == len(paris) - 4
        with pytest.raises(NotEnoughNumbers):
            reserve_any(session, "FR", "+331", 500, "order-c", now + timedelta(days=15), now)
        release_order_numbers(session, "order-b")
        assert len(queries.free_numbers(session, "FR", now, "01", limit=500)) == len(paris) - 1


def test_payment_methods_per_country_and_kind(seeded: Platform) -> None:
    with seeded.session() as session:
        assert queries.allowed_payment_methods(session, "FR", "individual") == (
            "card",
            "sepa_debit",
        )
        assert queries.allowed_payment_methods(session, "FR", "company") == (
            "card",
            "sepa_debit",
            "bank_transfer",
        )
        assert queries.allowed_payment_methods(session, "CA-QC", "individual") == (
            "card",
            "bank_transfer",
        )


def test_promotion_codes(seeded: Platform) -> None:
    with seeded.session() as session:
        assert queries.find_promotion(
            session, " bienvenue10 ", date(2026, 3, 2)
        ).percent == Decimal("10")
        with pytest.raises(UnknownPromotionCode):
            queries.find_promotion(session, "NOPE", date(2026, 3, 2))
