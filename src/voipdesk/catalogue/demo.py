"""The demo catalogue: offers, prices, number inventory, payment-method rules, a promotion code.

`seed_catalogue` is idempotent: a second call adds nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from voipdesk.catalogue import rules
from voipdesk.catalogue.models import (
    PRICE_DEPOSIT,
    PRICE_EXTRA_CALL,
    PRICE_MONTHLY,
    InventoryNumber,
    Offer,
    PaymentMethodRule,
    Price,
    PromotionCode,
    SpendingCapPolicy,
)

if TYPE_CHECKING:
    from voipdesk.core.platform import Platform

EUROPE = ["FR", "BE", "CH"]
EVERYWHERE = ["FR", "BE", "CH", "CA-QC"]
PRICES_FROM = date(2024, 1, 1)

# code, kind, English label, French label, English description, French description, countries
OFFERS = [
    (
        rules.SIP_DECOUVERTE,
        rules.KIND_SIP_LINE,
        "SIP line Découverte",
        "Ligne SIP Découverte",
        "One simultaneous call, unlimited calls to landlines.",
        "Un appel simultané, appels illimités vers les fixes.",
        EVERYWHERE,
    ),
    (
        rules.SIP_ENTREPRISE,
        rules.KIND_SIP_LINE,
        "SIP line Entreprise",
        "Ligne SIP Entreprise",
        "1 to 100 simultaneous calls (1.00 € excl. tax per extra call per month).",
        "De 1 à 100 appels simultanés (1,00 € HT par appel supplémentaire et par mois).",
        EVERYWHERE,
    ),
    (
        rules.SIP_TRUNK,
        rules.KIND_SIP_LINE,
        "SIP trunk",
        "Trunk SIP",
        "For your own PBX: 2 to 100 simultaneous calls.",
        "Pour votre propre IPBX : de 2 à 100 appels simultanés.",
        EUROPE,
    ),
    (
        rules.ALIAS_NUMBER,
        rules.KIND_ALIAS_NUMBER,
        "Alias number",
        "Numéro alias",
        "A number that rings your lines: 1, 10, 50 or 100 at a time (10 or more form a pool).",
        "Un numéro qui fait sonner vos lignes : 1, 10, 50 ou 100 à la fois "
        "(10 ou plus forment un pool).",
        EVERYWHERE,
    ),
    (
        rules.FAX_LINE,
        rules.KIND_FAX_LINE,
        "Fax line",
        "Ligne fax",
        "Send and receive faxes by e-mail.",
        "Envoyez et recevez vos fax par e-mail.",
        EUROPE,
    ),
    (
        rules.OPTION_MOBILE_HOURS_10,
        rules.KIND_OPTION,
        "10 hours to mobiles",
        "10 heures vers les mobiles",
        "10 hours of calls to mobiles per month, for one line.",
        "10 heures d'appels vers les mobiles par mois, pour une ligne.",
        EVERYWHERE,
    ),
    (
        rules.OPTION_MOBILE_HOURS_50,
        rules.KIND_OPTION,
        "50 hours to mobiles",
        "50 heures vers les mobiles",
        "50 hours of calls to mobiles per month, for one line.",
        "50 heures d'appels vers les mobiles par mois, pour une ligne.",
        EVERYWHERE,
    ),
    (
        rules.PHONE_PNP_ESSENTIAL,
        rules.KIND_PHONE,
        "Plug & Phone Essential",
        "Plug & Phone Essentiel",
        "Desk phone, configured for your line, lent against a deposit.",
        "Téléphone de bureau, configuré pour votre ligne, prêté contre une caution.",
        EUROPE,
    ),
    (
        rules.PHONE_PNP_PRO,
        rules.KIND_PHONE,
        "Plug & Phone Pro",
        "Plug & Phone Pro",
        "Colour-screen desk phone, lent against a deposit.",
        "Téléphone de bureau à écran couleur, prêté contre une caution.",
        EUROPE,
    ),
    (
        rules.PHONE_PNP_DECT,
        rules.KIND_PHONE,
        "Plug & Phone DECT",
        "Plug & Phone DECT",
        "Cordless phone and base, lent against a deposit.",
        "Téléphone sans fil et sa base, prêtés contre une caution.",
        EUROPE,
    ),
]

# code, component, amount, valid_from, valid_until
PRICES = [
    (rules.SIP_DECOUVERTE, PRICE_MONTHLY, "1.99", PRICES_FROM, None),
    (rules.SIP_ENTREPRISE, PRICE_MONTHLY, "9.99", PRICES_FROM, date(2026, 7, 1)),
    (rules.SIP_ENTREPRISE, PRICE_MONTHLY, "10.49", date(2026, 7, 1), None),
    (rules.SIP_ENTREPRISE, PRICE_EXTRA_CALL, "1.00", PRICES_FROM, None),
    (rules.SIP_TRUNK, PRICE_MONTHLY, "14.99", PRICES_FROM, None),
    (rules.SIP_TRUNK, PRICE_EXTRA_CALL, "1.00", PRICES_FROM, None),
    (rules.ALIAS_NUMBER, PRICE_MONTHLY, "1.00", PRICES_FROM, None),
    (rules.FAX_LINE, PRICE_MONTHLY, "2.99", PRICES_FROM, None),
    (rules.OPTION_MOBILE_HOURS_10, PRICE_MONTHLY, "4.99", PRICES_FROM, None),
    (rules.OPTION_MOBILE_HOURS_50, PRICE_MONTHLY, "19.99", PRICES_FROM, None),
    (rules.PHONE_PNP_ESSENTIAL, PRICE_DEPOSIT, "49.00", PRICES_FROM, None),
    (rules.PHONE_PNP_PRO, PRICE_DEPOSIT, "99.00", PRICES_FROM, None),
    (rules.PHONE_PNP_DECT, PRICE_DEPOSIT, "79.00", PRICES_FROM, None),
]

# Countries sold in another currency than the euro get their own prices (catalogue.rules.CURRENCY):
# Switzerland the same figures in francs, Québec in Canadian dollars at about 1.5 the euro figure;
# an extra simultaneous call is 1.00 in every currency (the subscriptions rule).
COUNTRY_PRICE_FACTORS = {"CH": Decimal("1"), "CA-QC": Decimal("1.5")}


def country_prices() -> list[tuple[str, str, str, str, Decimal, date, date | None]]:
    """(country, currency, offer, component, amount, valid from, valid until) of the demo's
    prices in francs and dollars, for the offers sold there."""
    sold = {code: countries for code, _k, _a, _b, _c, _d, countries in OFFERS}
    found = []
    for country, factor in COUNTRY_PRICE_FACTORS.items():
        currency = rules.currency_of(country)
        for code, component, amount, valid_from, valid_until in PRICES:
            if country not in sold.get(code, ()):
                continue
            value = Decimal(amount)
            if component != PRICE_EXTRA_CALL:
                value = (value * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            found.append((country, currency, code, component, value, valid_from, valid_until))
    return found


# numbering region, E.164 area prefix, the block numbers are taken from, area name
NUMBER_BLOCKS = [
    ("FR", "+331", "+3318695", "Paris / Île-de-France (01)"),
    ("FR", "+334", "+3348267", "Sud-Est (04)"),
    ("FR", "+339", "+3397217", "Non géographique (09)"),
    ("BE", "+322", "+3228087", "Bruxelles (02)"),
    ("BE", "+323", "+3238083", "Antwerpen (03)"),
    ("BE", "+324", "+3243600", "Liège (04)"),
    ("CH", "+4121", "+4121539", "Lausanne (021)"),
    ("CH", "+4122", "+4122518", "Genève (022)"),
    ("CH", "+4144", "+4144586", "Zürich (044)"),
    ("CA", "+1514", "+1514700", "Montréal (514)"),
    ("CA", "+1418", "+1418700", "Québec (418)"),
]
NUMBERS_PER_AREA = 100

# country, account kind ("*" = every kind), payment method
PAYMENT_RULES = [
    ("FR", "*", rules.PAYMENT_CARD),
    ("FR", "*", rules.PAYMENT_SEPA_DEBIT),
    ("FR", "company", rules.PAYMENT_BANK_TRANSFER),
    ("FR", "association", rules.PAYMENT_BANK_TRANSFER),
    ("BE", "*", rules.PAYMENT_CARD),
    ("BE", "*", rules.PAYMENT_SEPA_DEBIT),
    ("BE", "company", rules.PAYMENT_BANK_TRANSFER),
    ("BE", "association", rules.PAYMENT_BANK_TRANSFER),
    ("CH", "*", rules.PAYMENT_CARD),
    ("CH", "*", rules.PAYMENT_SEPA_DEBIT),
    ("CH", "*", rules.PAYMENT_BANK_TRANSFER),
    ("CA-QC", "*", rules.PAYMENT_CARD),
    ("CA-QC", "*", rules.PAYMENT_BANK_TRANSFER),
]

PROMOTIONS = [
    ("BIENVENUE10", "10 % off the first order", Decimal("10"), None),
    ("REMISE5", "5.00 € off", None, Decimal("5.00")),
]


def demo_numbers(block: str, count: int) -> list[str]:
    """`count` valid numbers of a block, in order (invalid ones of the plan are skipped)."""
    numbers: list[str] = []
    region_digits = 12 if block.startswith("+1") else None
    suffix = 0
    while len(numbers) < count and suffix < 100_000:
        candidate = block + str(suffix).zfill((region_digits or _length(block)) - len(block))
        suffix += 1
        parsed = phonenumbers.parse(candidate, None)
        if phonenumbers.is_valid_number(parsed):
            numbers.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return numbers


def _length(block: str) -> int:
    # E.164 lengths (with "+"): FR +33 and 9 digits, BE +32 and 8 digits (geographic), CH +41 and 9.
    return {"+33": 12, "+32": 11, "+41": 12}[block[:3]]


def seed_catalogue(session: Session, platform: Platform) -> None:
    now = platform.now()
    existing_offers = set(session.scalars(select(Offer.code)).all())
    for order, (code, kind, label_en, label_fr, text_en, text_fr, countries) in enumerate(OFFERS):
        if code in existing_offers:
            continue
        session.add(
            Offer(
                code=code,
                kind=kind,
                label_en=label_en,
                label_fr=label_fr,
                description_en=text_en,
                description_fr=text_fr,
                countries=countries,
                active=True,
                sort_order=order * 10,
                updated_at=now,
            )
        )
    session.flush()
    if not session.scalar(select(Price.id).limit(1)):
        for code, component, amount, valid_from, valid_until in PRICES:
            session.add(
                Price(
                    offer_code=code,
                    component=component,
                    country="*",
                    amount=Decimal(amount),
                    currency="EUR",
                    valid_from=valid_from,
                    valid_until=valid_until,
                )
            )
    have = set(
        session.execute(
            select(Price.offer_code, Price.component, Price.country, Price.valid_from)
        ).all()
    )
    for country, currency, code, component, value, valid_from, valid_until in country_prices():
        if (code, component, country, valid_from) in have:
            continue
        session.add(
            Price(
                offer_code=code,
                component=component,
                country=country,
                amount=value,
                currency=currency,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        )
    if not session.scalar(select(PaymentMethodRule.id).limit(1)):
        for country, kind, method in PAYMENT_RULES:
            session.add(PaymentMethodRule(country=country, account_kind=kind, method_type=method))
    for promotion_code, description, percent, promotion_amount in PROMOTIONS:
        if session.get(PromotionCode, promotion_code) is None:
            session.add(
                PromotionCode(
                    code=promotion_code,
                    description=description,
                    percent=percent,
                    amount_excl_tax=promotion_amount,
                    valid_from=PRICES_FROM,
                    valid_until=None,
                    max_uses=None,
                    used_count=0,
                    active=True,
                )
            )
    if not session.scalar(select(SpendingCapPolicy.id).limit(1)):
        # The spending cap's defaults and limits as catalogue data staff can change from a date.
        policy = rules.BUILT_IN_SPENDING_CAP_POLICY
        session.add(
            SpendingCapPolicy(
                valid_from=PRICES_FROM,
                valid_until=None,
                default_amount=policy.default,
                maximum=policy.maximum,
                new_customer_default=policy.new_customer_default,
                new_customer_maximum=policy.new_customer_maximum,
                minimum=policy.minimum,
                new_customer_days=policy.new_customer_days,
                created_at=now,
                created_by="demo",
            )
        )
    known = set(session.scalars(select(InventoryNumber.number_e164)).all())
    for region, prefix, block, name in NUMBER_BLOCKS:
        for number in demo_numbers(block, NUMBERS_PER_AREA):
            if number not in known:
                session.add(
                    InventoryNumber(
                        number_e164=number,
                        region=region,
                        area_prefix=prefix,
                        area_name=name,
                        status="free",
                    )
                )
    session.flush()
