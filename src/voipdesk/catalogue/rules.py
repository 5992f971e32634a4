"""Catalogue rules as plain data: offer codes, which offer changes are allowed, quantities, tax.

Offer codes are stable identifiers: code compares codes, never labels. Prices and labels are
operator-editable data (tables in `models.py`); the rules below are what the product is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from voipdesk.core.i18n import N_

# --- Offer codes (stable identifiers) ------------------------------------------------------------
SIP_DECOUVERTE = "sip-decouverte"
SIP_ENTREPRISE = "sip-entreprise"
SIP_TRUNK = "sip-trunk"
ALIAS_NUMBER = "alias-number"
FAX_LINE = "fax-line"
OPTION_MOBILE_HOURS_10 = "option-mobile-hours-10"
OPTION_MOBILE_HOURS_50 = "option-mobile-hours-50"
PHONE_PNP_ESSENTIAL = "phone-pnp-essential"
PHONE_PNP_PRO = "phone-pnp-pro"
PHONE_PNP_DECT = "phone-pnp-dect"

# What kind of thing each code is (an order line is built from its kind).
KIND_SIP_LINE = "sip_line"
KIND_ALIAS_NUMBER = "alias_number"
KIND_FAX_LINE = "fax_line"
KIND_OPTION = "option"
KIND_PHONE = "phone"

SIP_LINE_OFFERS = frozenset({SIP_DECOUVERTE, SIP_ENTREPRISE, SIP_TRUNK})
OPTION_OFFERS = frozenset({OPTION_MOBILE_HOURS_10, OPTION_MOBILE_HOURS_50})
PHONE_OFFERS = frozenset({PHONE_PNP_ESSENTIAL, PHONE_PNP_PRO, PHONE_PNP_DECT})

OFFER_KINDS: dict[str, str] = {
    SIP_DECOUVERTE: KIND_SIP_LINE,
    SIP_ENTREPRISE: KIND_SIP_LINE,
    SIP_TRUNK: KIND_SIP_LINE,
    ALIAS_NUMBER: KIND_ALIAS_NUMBER,
    FAX_LINE: KIND_FAX_LINE,
    OPTION_MOBILE_HOURS_10: KIND_OPTION,
    OPTION_MOBILE_HOURS_50: KIND_OPTION,
    PHONE_PNP_ESSENTIAL: KIND_PHONE,
    PHONE_PNP_PRO: KIND_PHONE,
    PHONE_PNP_DECT: KIND_PHONE,
}


def offer_kind(offer_code: str) -> str | None:
    return OFFER_KINDS.get(offer_code)


# --- Offer changes on a SIP line -----------------------------------------------------------------
# Applied at the next renewal. Entreprise can never become Découverte (manage-voip-services.md).
_OFFER_CHANGES: dict[str, frozenset[str]] = {
    SIP_DECOUVERTE: frozenset({SIP_ENTREPRISE}),
    SIP_ENTREPRISE: frozenset(),
    SIP_TRUNK: frozenset(),
}


def allowed_offer_changes(offer_code: str) -> frozenset[str]:
    """The offers a line on `offer_code` may move to (empty for anything that is not a line)."""
    return _OFFER_CHANGES.get(offer_code, frozenset())


def is_offer_change_allowed(from_code: str, to_code: str) -> bool:
    return to_code in allowed_offer_changes(from_code)


# --- Simultaneous calls --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CallRange:
    minimum: int
    maximum: int
    included: int  # calls included in the monthly plan; each extra one is priced per month

    def allows(self, calls: int) -> bool:
        return self.minimum <= calls <= self.maximum

    @property
    def adjustable(self) -> bool:
        return self.minimum != self.maximum

    def extra_calls(self, calls: int) -> int:
        return max(0, calls - self.included)


SIMULTANEOUS_CALLS: dict[str, CallRange] = {
    SIP_DECOUVERTE: CallRange(1, 1, 1),
    SIP_ENTREPRISE: CallRange(1, 100, 1),
    SIP_TRUNK: CallRange(2, 100, 2),
}


def simultaneous_calls_range(offer_code: str) -> CallRange | None:
    return SIMULTANEOUS_CALLS.get(offer_code)


# --- Alias numbers -------------------------------------------------------------------------------
MAX_ALIAS_NUMBERS_PER_ORDER = 100  # the guide: up to 100 alias numbers per order
ALIAS_ORDER_QUANTITIES = tuple(range(1, MAX_ALIAS_NUMBERS_PER_ORDER + 1))  # any count 1 to 100
ALIAS_POOL_MINIMUM = 10  # ten numbers or more ordered together form a pool
PREFIX_MAX_DIGITS = 17  # a whole E.164 number (15 digits) after "00": longer is not a prefix


def is_alias_quantity_allowed(quantity: int) -> bool:
    return 1 <= quantity <= MAX_ALIAS_NUMBERS_PER_ORDER


def is_area_prefix_well_formed(prefix: str) -> bool:
    """Digits only (after an optional "+" or "00"), spaces, dots and dashes as separators."""
    text = prefix.strip()
    if text.startswith("+"):
        text = text[1:]
    body = text.replace(" ", "").replace(".", "").replace("-", "")
    return body.isdigit() and len(body) <= PREFIX_MAX_DIGITS


def forms_alias_pool(quantity: int) -> bool:
    return quantity >= ALIAS_POOL_MINIMUM


# --- Countries and payment methods ---------------------------------------------------------------
COUNTRIES = ("FR", "BE", "CH", "CA-QC")
# Country of the telephone numbers sold in each customer country (Québec: Canadian numbers).
NUMBERING_REGION = {"FR": "FR", "BE": "BE", "CH": "CH", "CA-QC": "CA"}
# Each country is sold and invoiced in its own currency, end to end: its prices are rows of the
# catalogue in that currency (a "*" price, in euros, is used only where the euro is the currency),
# and its orders, invoices, payments and taxes are in it.
CURRENCY = {"FR": "EUR", "BE": "EUR", "CH": "CHF", "CA-QC": "CAD"}
DEFAULT_CURRENCY = "EUR"  # of the "*" prices


def currency_of(country: str | None) -> str:
    """The currency a customer of this country is sold and invoiced in."""
    return CURRENCY.get(country or "", DEFAULT_CURRENCY)


def price_applies(price_country: str, price_currency: str, country: str) -> bool:
    """A catalogue price row counts for a country when it is that country's own or a "*" one,
    and in that country's currency (no euro price is ever charged in francs or dollars)."""
    return price_country in (country, "*") and price_currency == currency_of(country)


PAYMENT_CARD = "card"
PAYMENT_SEPA_DEBIT = "sepa_debit"
PAYMENT_BANK_TRANSFER = "bank_transfer"
PAYMENT_METHOD_TYPES = (PAYMENT_CARD, PAYMENT_SEPA_DEBIT, PAYMENT_BANK_TRANSFER)
PAYMENT_METHOD_LABELS = {
    PAYMENT_CARD: N_("Card"),
    PAYMENT_SEPA_DEBIT: N_("SEPA direct debit"),
    PAYMENT_BANK_TRANSFER: N_("Bank transfer"),
}
# How a sentence names the account's kind (accounts' codes individual, company, association).
CUSTOMER_KIND_LABELS = {
    "individual": N_("Individual customer"),
    "company": N_("Company"),
    "association": N_("Association"),
}
# The offers as a sentence names them (their codes stay in the API's fields).
OFFER_LABELS = {
    SIP_DECOUVERTE: N_("VoIP Découverte"),
    SIP_ENTREPRISE: N_("VoIP Entreprise"),
    SIP_TRUNK: N_("VoIP Trunk"),
    ALIAS_NUMBER: N_("Alias number"),
    "alias": N_("Alias number"),
    FAX_LINE: N_("Fax line"),
}

# ISO country codes whose IBANs may be debited by SEPA direct debit (SEPA scheme members).
SEPA_COUNTRIES = frozenset(
    {
        "AD", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GI",
        "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MT", "NL", "NO", "PL",
        "PT", "RO", "SE", "SI", "SK", "SM", "VA",
    }
)  # fmt: skip


def is_sepa_iban_country(iban_country: str) -> bool:
    return iban_country.upper() in SEPA_COUNTRIES


# --- Tax -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TaxComponent:
    """One tax applied to an amount: `label` is an English msgid (translate it to show it)."""

    label: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class TaxRate:
    country: str
    label: str
    rate: Decimal
    valid_from: date
    valid_until: date | None = None  # exclusive; None = still in force

    def applies_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)


VAT = N_("VAT")
GST = N_("GST")
QST = N_("QST")

# Effective-dated: a rate change is a new row, the old one gets its `valid_until`.
TAX_RATES: tuple[TaxRate, ...] = (
    TaxRate("FR", VAT, Decimal("0.20"), date(2014, 1, 1)),
    TaxRate("BE", VAT, Decimal("0.21"), date(1996, 1, 1)),
    TaxRate("CH", VAT, Decimal("0.077"), date(2018, 1, 1), date(2024, 1, 1)),
    TaxRate("CH", VAT, Decimal("0.081"), date(2024, 1, 1)),
    TaxRate("CA-QC", GST, Decimal("0.05"), date(2008, 1, 1)),
    TaxRate("CA-QC", QST, Decimal("0.09975"), date(2013, 1, 1)),
)


class UnknownTaxCountry(ValueError):
    pass


def tax_components(country: str, on: date) -> tuple[TaxComponent, ...]:
    """The taxes due in `country` for a service period starting `on` (in table order)."""
    if country not in COUNTRIES:
        raise UnknownTaxCountry(country)
    components = tuple(
        TaxComponent(rate.label, rate.rate)
        for rate in TAX_RATES
        if rate.country == country and rate.applies_on(on)
    )
    if not components:
        raise UnknownTaxCountry(f"{country} on {on.isoformat()}")
    return components


def total_tax_rate(country: str, on: date) -> Decimal:
    return sum((component.rate for component in tax_components(country, on)), Decimal("0"))


# --- Telephony features per line offer -----------------------------------------------------------
# What a line of each offer may use; telephony asks before storing a setting that needs one.
FEATURE_ABBREVIATED_NUMBERS = "abbreviated_numbers"
LINE_FEATURES: dict[str, frozenset[str]] = {
    SIP_DECOUVERTE: frozenset(),  # the entry offer: no abbreviated numbers
    SIP_ENTREPRISE: frozenset({FEATURE_ABBREVIATED_NUMBERS}),
    SIP_TRUNK: frozenset({FEATURE_ABBREVIATED_NUMBERS}),
}


def offer_has_feature(offer_code: str, feature: str) -> bool:
    return feature in LINE_FEATURES.get(offer_code, frozenset())


# --- Spending cap policy -------------------------------------------------------------------------
# The cap on calls beyond the plan that a billing group starts with, and the range its customer
# may choose, in euros. Operator data (`catalogue_spending_cap`, effective-dated like prices); this
# built-in policy applies on days the table has no row for. A "new customer" is an account
# younger than `new_customer_days` days: known from sign-up, so the customer can see when the
# higher default and maximum will apply, and the same for every group of the account.
@dataclass(frozen=True, slots=True)
class SpendingCapPolicy:
    default: Decimal
    maximum: Decimal
    new_customer_default: Decimal
    new_customer_maximum: Decimal
    minimum: Decimal
    new_customer_days: int


BUILT_IN_SPENDING_CAP_POLICY = SpendingCapPolicy(
    default=Decimal("100.00"),
    maximum=Decimal("2000.00"),
    new_customer_default=Decimal("30.00"),
    new_customer_maximum=Decimal("200.00"),
    minimum=Decimal("5.00"),
    new_customer_days=90,
)
SPENDING_CAP_CEILING = Decimal("100000.00")  # what a policy's amounts may not exceed
NEW_CUSTOMER_DAYS_MAXIMUM = 3650


def spending_cap_policy_problems(policy: SpendingCapPolicy) -> dict[str, str]:
    """What is wrong with a policy staff enter, by field (empty when it holds): amounts in cents
    above zero, minimum <= each default <= its maximum, and new customers never get more than
    the others."""
    problems: dict[str, str] = {}
    amounts = {
        "default": policy.default,
        "maximum": policy.maximum,
        "new_customer_default": policy.new_customer_default,
        "new_customer_maximum": policy.new_customer_maximum,
        "minimum": policy.minimum,
    }
    for name, amount in amounts.items():
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
            problems[name] = "An amount in euros with at most two decimals."
        elif amount <= 0 or amount > SPENDING_CAP_CEILING:
            problems[name] = "Above zero and at most 100,000."
    if not 0 <= policy.new_customer_days <= NEW_CUSTOMER_DAYS_MAXIMUM:
        problems["new_customer_days"] = "From 0 to 3650 days."
    if problems:
        return problems
    if not policy.minimum <= policy.default <= policy.maximum:
        problems["default"] = "Between the minimum and the maximum."
    if not policy.minimum <= policy.new_customer_default <= policy.new_customer_maximum:
        problems["new_customer_default"] = "Between the minimum and the new customers' maximum."
    if policy.new_customer_maximum > policy.maximum:
        problems["new_customer_maximum"] = "At most the maximum of other customers."
    if policy.new_customer_default > policy.default:
        problems["new_customer_default"] = "At most the default of other customers."
    return problems
