"""Postal codes per country: France 5 digits, Belgium and Switzerland 4, Québec A1A 1A1."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voipdesk.accounts.rules import normalise_postal_code


@pytest.mark.parametrize(
    ("country", "given_code", "kept"),
    [
        ("FR", "69003", "69003"),
        ("FR", " 75016 ", "75016"),
        ("BE", "1000", "1000"),
        ("CH", "1003", "1003"),
        ("CA-QC", "h3a1h6", "H3A 1H6"),
        ("CA-QC", "H2X 1Y4", "H2X 1Y4"),
    ],
)
def test_valid_codes_are_kept_as_the_country_writes_them(
    country: str, given_code: str, kept: str
) -> None:
    assert normalise_postal_code(given_code, country) == kept


@pytest.mark.parametrize(
    ("country", "wrong"),
    [
        ("FR", "6900"),
        ("FR", "690033"),
        ("FR", "69OO3"),
        ("BE", "10000"),
        ("BE", "0999"),
        ("CH", "100"),
        ("CA-QC", "12345"),
        ("CA-QC", "D3A 1H6"),  # D never appears in a Canadian code
        ("CA-QC", "W3A 1H6"),  # nor W first
    ],
)
def test_wrong_codes_are_refused_with_the_countrys_rule(country: str, wrong: str) -> None:
    with pytest.raises(ValueError) as refused:
        normalise_postal_code(wrong, country)
    assert "postal code" in str(refused.value)


@given(st.from_regex(r"\A[0-9]{5}\Z"))
def test_any_five_digits_is_a_french_code(code: str) -> None:
    assert normalise_postal_code(code, "FR") == code


@given(st.text(alphabet="0123456789", min_size=0, max_size=8).filter(lambda t: len(t) != 5))
def test_no_other_length_is_a_french_code(code: str) -> None:
    with pytest.raises(ValueError):
        normalise_postal_code(code, "FR")


@given(st.from_regex(r"\A[1-9][0-9]{3}\Z"), st.sampled_from(["BE", "CH"]))
def test_four_digits_not_starting_with_zero_are_belgian_and_swiss_codes(
    code: str, country: str
) -> None:
    assert normalise_postal_code(code, country) == code


@given(st.from_regex(r"\A[ABCEGHJ-NPRSTVXY][0-9][A-Z] ?[0-9][A-Z][0-9]\Z"))
def test_canadian_codes_are_written_with_one_space(code: str) -> None:
    try:
        written = normalise_postal_code(code.lower(), "CA-QC")
    except ValueError:
        return  # a letter Canada never uses (D F I O Q U) in second or third place
    assert len(written) == 7 and written[3] == " " and written == written.upper()
