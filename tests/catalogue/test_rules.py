"""Catalogue rules: offer changes, quantities, tax table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voipdesk.catalogue import rules
from voipdesk.catalogue.rules import TaxComponent, tax_components


def test_entreprise_never_becomes_decouverte() -> None:
    assert rules.SIP_DECOUVERTE not in rules.allowed_offer_changes(rules.SIP_ENTREPRISE)
    assert not rules.is_offer_change_allowed(rules.SIP_ENTREPRISE, rules.SIP_DECOUVERTE)


def test_decouverte_may_become_entreprise() -> None:
    assert rules.allowed_offer_changes(rules.SIP_DECOUVERTE) == frozenset({rules.SIP_ENTREPRISE})


def test_things_that_are_not_lines_have_no_offer_change() -> None:
    assert rules.allowed_offer_changes(rules.ALIAS_NUMBER) == frozenset()
    assert rules.allowed_offer_changes("no-such-offer") == frozenset()


def test_decouverte_has_exactly_one_call_and_entreprise_up_to_100() -> None:
    decouverte = rules.simultaneous_calls_range(rules.SIP_DECOUVERTE)
    entreprise = rules.simultaneous_calls_range(rules.SIP_ENTREPRISE)
    assert decouverte is not None and entreprise is not None
    assert decouverte.allows(1) and not decouverte.allows(2) and not decouverte.adjustable
    assert entreprise.allows(1) and entreprise.allows(100)
    assert not entreprise.allows(0) and not entreprise.allows(101)
    assert entreprise.extra_calls(5) == 4


@given(st.integers(min_value=1, max_value=100))
def test_alias_numbers_are_ordered_from_1_to_100(quantity: int) -> None:
    assert rules.is_alias_quantity_allowed(quantity)


@pytest.mark.parametrize("quantity", [-1, 0, 101, 1000])
def test_other_alias_quantities_are_refused(quantity: int) -> None:
    assert not rules.is_alias_quantity_allowed(quantity)


@pytest.mark.parametrize("prefix", ["01", "+331", "0033 1", "04.72", "+33-4"])
def test_well_formed_prefixes(prefix: str) -> None:
    assert rules.is_area_prefix_well_formed(prefix)


@pytest.mark.parametrize("prefix", ["abc", "01x", "+", "", "++331", "0" * 18, "1;DROP"])
def test_malformed_prefixes(prefix: str) -> None:
    assert not rules.is_area_prefix_well_formed(prefix)


def test_ten_alias_numbers_or_more_form_a_pool() -> None:
    assert not rules.forms_alias_pool(1)
    assert rules.forms_alias_pool(10) and rules.forms_alias_pool(100)


@pytest.mark.parametrize(
    ("country", "on", "expected"),
    [
        ("FR", date(2026, 3, 1), (TaxComponent("VAT", Decimal("0.20")),)),
        ("BE", date(2026, 3, 1), (TaxComponent("VAT", Decimal("0.21")),)),
        ("CH", date(2023, 12, 31), (TaxComponent("VAT", Decimal("0.077")),)),
        ("CH", date(2024, 1, 1), (TaxComponent("VAT", Decimal("0.081")),)),
        (
            "CA-QC",
            date(2026, 3, 1),
            (TaxComponent("GST", Decimal("0.05")), TaxComponent("QST", Decimal("0.09975"))),
        ),
    ],
)
def test_tax_components_by_country_and_date(
    country: str, on: date, expected: tuple[TaxComponent, ...]
) -> None:
    assert tax_components(country, on) == expected


def test_unknown_country_has_no_tax_table() -> None:
    with pytest.raises(rules.UnknownTaxCountry):
        tax_components("DE", date(2026, 1, 1))


def test_quebec_rate_is_the_sum_of_gst_and_qst() -> None:
    assert rules.total_tax_rate("CA-QC", date(2026, 1, 1)) == Decimal("0.14975")


def test_sepa_countries() -> None:
    assert rules.is_sepa_iban_country("FR") and rules.is_sepa_iban_country("ch")
    assert not rules.is_sepa_iban_country("CA") and not rules.is_sepa_iban_country("US")
