"""The accounts rules, without a database: handles, passwords, TOTP, numbers, phones, codes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voipdesk.accounts import rules
from voipdesk.accounts.errors import WeakPassword

NAMES = st.text(min_size=0, max_size=30)
INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


# --- handles ----------------------------------------------------------------------------------
@settings(max_examples=100)
@given(first=NAMES, last=NAMES, suffix=st.sampled_from(["vd", "ovh", "op"]))
def test_a_handle_is_two_ascii_initials_five_digits_and_the_suffix(first, last, suffix):
    handle = rules.make_handle(first, last, suffix)
    assert rules.handle_pattern(suffix).fullmatch(handle)
    assert handle.isascii() and handle == handle.lower()


def test_handle_initials_come_from_the_names_without_accents():
    assert rules.make_handle("Élodie", "Ñúñez", "vd", digits="12345") == "en12345-vd"
    assert rules.make_handle("ada", "Lovelace", "vd", digits="00001") == "al00001-vd"
    # a name without any Latin letter still gives a valid handle
    assert rules.make_handle("李", "王", "vd", digits="00002") == "xx00002-vd"


def test_handles_are_spread_over_the_digits():
    handles = {rules.make_handle("Ada", "Lovelace", "vd") for _ in range(200)}
    assert len(handles) > 190  # 100,000 per initials: collisions are rare and retried


# --- passwords --------------------------------------------------------------------------------
@pytest.mark.parametrize("password", ["short", "Ab1!", "123456789"])
def test_a_password_under_ten_characters_is_too_short(password):
    verdict = rules.check_password(password)
    assert verdict.reason == rules.TOO_SHORT
    assert verdict.values == {"minimum": 10}


@pytest.mark.parametrize("password", ["password123", "azertyuiop", "aaaaaaaaaaaa", "1234567890"])
def test_a_common_password_is_too_easy_to_guess(password):
    verdict = rules.check_password(password)
    assert verdict.reason == rules.TOO_EASY


def test_the_users_own_names_make_a_password_guessable():
    password = "Zorglubovich2026"
    assert rules.check_password(password).accepted
    assert not rules.check_password(password, ["Zorglubovich", "Ada"]).accepted
    # parts of the e-mail address count too
    assert not rules.check_password(password, ["ada.zorglubovich@example.org"]).accepted


def test_a_passphrase_is_accepted():
    assert rules.check_password("Correct-Horse-Battery-42!").accepted


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=9))
def test_every_password_shorter_than_ten_is_refused(password):
    assert not rules.check_password(password).accepted


def test_weak_password_reason_is_translated_and_english_gets_the_hint():
    verdict = rules.check_password("password123")
    error = WeakPassword.from_verdict(verdict)
    assert error.code == "weak-password"
    english = error.detail("en")
    french = error.detail("fr")
    assert "too easy to guess" in english and verdict.warning in english
    assert "trop facile à deviner" in french and verdict.warning not in french
    short = WeakPassword.from_verdict(rules.check_password("abc"))
    assert "10" in short.detail("fr") and "caractères" in short.detail("fr")
    assert short.field_errors("en") == [
        {"field": "password", "message": "it must have at least 10 characters."}
    ]


# --- TOTP -------------------------------------------------------------------------------------
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@settings(max_examples=60)
@given(instant=INSTANTS, offset=st.integers(min_value=-1, max_value=1))
def test_a_code_of_the_step_before_now_or_after_is_accepted(instant, offset):
    step = rules.totp_step(instant) + offset
    code = pyotp.TOTP(SECRET).at(step * 30)
    assert rules.matching_totp_step(SECRET, code, instant, None) in {
        step,
        *_same_code_steps(code, instant),
    }


def _same_code_steps(code, instant):
    """Two steps of the window may share a code (1 in a million): either step is then right."""
    current = rules.totp_step(instant)
    return {s for s in range(current - 1, current + 2) if rules.totp_code(SECRET, s) == code}


@settings(max_examples=60)
@given(instant=INSTANTS, offset=st.sampled_from([-5, -3, -2, 2, 3, 5]))
def test_a_code_outside_the_window_is_refused(instant, offset):
    step = rules.totp_step(instant) + offset
    code = rules.totp_code(SECRET, step)
    if not _same_code_steps(code, instant):
        assert rules.matching_totp_step(SECRET, code, instant, None) is None


@settings(max_examples=60)
@given(instant=INSTANTS)
def test_a_code_is_never_accepted_twice(instant):
    code = rules.totp_code(SECRET, rules.totp_step(instant))
    step = rules.matching_totp_step(SECRET, code, instant, None)
    assert step is not None
    assert rules.matching_totp_step(SECRET, code, instant, step) is None
    # nor 30 seconds later, when it is still inside the window
    assert rules.matching_totp_step(SECRET, code, instant + timedelta(seconds=30), step) is None


def test_totp_steps_are_thirty_seconds_of_unix_time():
    assert rules.totp_step(datetime(1970, 1, 1, 0, 0, 59, tzinfo=UTC)) == 1
    assert rules.totp_step(datetime(1970, 1, 1, 0, 1, 0, tzinfo=UTC)) == 2


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5"])
def test_malformed_totp_codes_are_refused(code):
    assert rules.matching_totp_step(SECRET, code, datetime(2026, 3, 2, tzinfo=UTC), None) is None


def test_otpauth_uri_names_the_operator_and_the_handle():
    uri = rules.otpauth_uri(SECRET, "ab12345-vd", "VoIPdesk Telecom")
    assert uri.startswith(
        "otpauth://totp/VoIPdesk%20Telecom:ab12345-vd?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    )
    assert "issuer=VoIPdesk%20Telecom" in uri


# --- recovery codes ---------------------------------------------------------------------------
def test_recovery_codes_have_an_unambiguous_format():
    codes = [rules.new_recovery_code() for _ in range(200)]
    assert len(set(codes)) == 200
    for code in codes:
        assert re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", code)
        assert not set(code) & set("01ilo")
        assert rules.is_recovery_code_format(code)


@settings(max_examples=50)
@given(st.builds(lambda: rules.new_recovery_code()), st.sampled_from(["upper", "spaces", "nodash"]))
def test_a_recovery_code_is_recognised_however_it_is_typed(code, style):
    typed = {
        "upper": code.upper(),
        "spaces": " " + code.replace("-", " ") + " ",
        "nodash": code.replace("-", ""),
    }[style]
    assert rules.normalise_recovery_code(typed) == code


# --- registration numbers ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [
        ("FR", "732829320", "732 829 320"),  # SIREN
        ("FR", "732 829 320 00074", "732 829 320 00074"),  # SIRET
        ("BE", "0403170701", "0403.170.701"),
        ("BE", "BE 0403.170.701", "0403.170.701"),
        ("CH", "CHE-109.322.551", "CHE-109.322.551"),
        ("CH", "che109322551", "CHE-109.322.551"),
        ("CA-QC", "1143210987", "1143210987"),
        ("CA-QC", "114 321 0987", "1143210987"),
    ],
)
def test_valid_registration_numbers_are_stored_in_their_printed_form(country, typed, stored):
    assert rules.normalise_registration_number(typed, country) == stored


@pytest.mark.parametrize(
    ("country", "typed"),
    [
        ("FR", "732829321"),  # wrong check digit
        ("FR", "12345"),
        ("FR", "73282932000075"),
        ("BE", "0403170702"),
        ("BE", "123"),
        ("CH", "CHE-109.322.552"),
        ("CH", "109322551X"),
        ("CA-QC", "114321098"),
        ("CA-QC", "11432109AB"),
    ],
)
def test_invalid_registration_numbers_are_refused_naming_the_rule(country, typed):
    with pytest.raises(ValueError) as refused:
        rules.normalise_registration_number(typed, country)
    assert str(refused.value) == rules.REGISTRATION_INVALID[country]


@settings(max_examples=60)
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_a_siren_is_accepted_exactly_when_its_luhn_check_holds(digits):
    from stdnum import luhn

    valid = luhn.is_valid(digits)
    try:
        rules.normalise_registration_number(digits, "FR")
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == valid


def test_only_companies_must_give_a_registration_number():
    assert rules.registration_required("company")
    assert not rules.registration_required("association")
    assert not rules.registration_required("individual")


# --- phones and e-mails -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "country", "e164"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", "FR", "+33612345678"),
        ("0470 12 34 56", "BE", "+32470123456"),
        ("079 123 45 67", "CH", "+41791234567"),
        ("(514) 872-1111", "CA-QC", "+15148721111"),
        (
            "+32 470 12 34 56",
            "FR",
            "+32470123456",
        ),  # international form: the country does not matter
    ],
)
def test_mobiles_are_stored_in_e164(typed, country, e164):
    assert rules.normalise_mobile(typed, country) == e164


@pytest.mark.parametrize(
    ("typed", "country", "reason"),
    [
        ("12", "FR", rules.INVALID_PHONE),
        ("not a number", "FR", rules.INVALID_PHONE),
        ("06 12 34", "FR", rules.INVALID_PHONE),
        ("01 23 45 67 89", "FR", rules.NOT_A_MOBILE),  # a fixed line
    ],
)
def test_bad_mobiles_are_refused(typed, country, reason):
    with pytest.raises(ValueError) as refused:
        rules.normalise_mobile(typed, country)
    assert str(refused.value) == reason


@settings(max_examples=60)
@given(st.integers(min_value=600000000, max_value=638999999))
def test_french_mobiles_round_trip_from_national_to_e164(national):
    e164 = rules.normalise_mobile("0" + str(national), "FR")
    assert e164 == f"+33{national}"
    assert rules.normalise_mobile(e164, "BE") == e164


def test_emails_are_normalised_lower_case():
    assert rules.normalise_email("  Ada.Lovelace@Example.ORG ") == "ada.lovelace@example.org"
    for bad in ("ada", "ada@", "@example.org", "ada@@example.org", "ada lovelace@example.org"):
        with pytest.raises(ValueError):
            rules.normalise_email(bad)
