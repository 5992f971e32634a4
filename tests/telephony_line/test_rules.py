"""Rules around the line, no database: the RIO key, registration numbers, portability dates, the
timeline's transitions (a table), MAC addresses, the provisioning file and the diagnostics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voipdesk.telephony.diagnostics import rules as diagnostics
from voipdesk.telephony.phones import errors as phone_errors
from voipdesk.telephony.phones import rules as phones
from voipdesk.telephony.portability import errors, rules

ALPHABET = rules.RIO_ALPHABET
prefixes = st.tuples(
    st.text("0123456789", min_size=2, max_size=2),
    st.sampled_from("PE"),
    st.text(ALPHABET, min_size=6, max_size=6),
).map("".join)
french_numbers = st.integers(100_000_000, 999_999_999).map(lambda n: f"+33{n}")


# --- RIO -----------------------------------------------------------------------------------------
@given(prefixes, french_numbers)
def test_a_rio_with_its_computed_key_belongs_to_its_number(prefix: str, number: str) -> None:
    rio = prefix + rules.rio_key(prefix, rules.national_of(number))
    assert len(rio) == 12 and rules.RIO_PATTERN.fullmatch(rio)
    assert rules.rio_matches(rio, number)
    assert rules.check_rio(rio.lower()[:3] + " " + rio[3:], [number]) == rio


@given(prefixes, french_numbers, st.integers(0, 8), st.sampled_from(ALPHABET))
def test_any_changed_character_of_the_rio_breaks_its_key(
    prefix: str, number: str, position: int, character: str
) -> None:
    rio = prefix + rules.rio_key(prefix, rules.national_of(number))
    changed = rio[:position] + character + rio[position + 1 :]
    # The first sum is the plain sum of ranks modulo 37 (a prime): one substitution moves it.
    assert rules.rio_matches(changed, number) == (changed == rio)


@given(prefixes, french_numbers, french_numbers)
def test_a_rio_belongs_to_one_number(prefix: str, number: str, other: str) -> None:
    rio = prefix + rules.rio_key(prefix, rules.national_of(number))
    assert rules.rio_matches(rio, other) == (
        rules.rio_key(prefix, rules.national_of(other)) == rio[9:]
    )
    if rules.national_of(other)[-1] != rules.national_of(number)[-1] and other[:-1] == number[:-1]:
        assert not rules.rio_matches(rio, other)


def test_rio_key_by_hand() -> None:
    # ranks: "0" 0, "1" 1, "P" 25, "A".."F" 10..15; national number 0123456789.
    a = b = c = 0
    for rank in [0, 1, 25, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]:
        a, b, c = (a + rank) % 37, (2 * b + rank) % 37, (4 * c + rank) % 37
    assert rules.rio_key("01PABCDEF", "0123456789") == ALPHABET[a] + ALPHABET[b] + ALPHABET[c]


@pytest.mark.parametrize("text", ["", "01P123456", "01X123456ABC", "01P123456ABCD", "AAP123456ABC"])
def test_malformed_rios_are_refused_by_their_rule(text: str) -> None:
    with pytest.raises(errors.RioMalformed):
        rules.normalise_rio(text)


def test_a_rio_of_another_line_is_refused() -> None:
    rio = "01PABCDEF" + rules.rio_key("01PABCDEF", "0123456789")
    with pytest.raises(errors.RioChecksumWrong) as refused:
        rules.check_rio(rio, ["+33123456788"])
    assert refused.value.code == "rio-checksum-wrong"


# --- Registration numbers ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("country", "good", "bad"),
    [
        ("FR", "303 265 045", "303265046"),
        ("BE", "0403.170.701", "0403170702"),
        ("CH", "CHE-100.155.212", "CHE-100.155.213"),
    ],
)
def test_registration_numbers_checked_for_their_country(country: str, good: str, bad: str) -> None:
    assert rules.normalise_registration(country, good)
    with pytest.raises(errors.RegistrationNumberInvalid) as refused:
        rules.normalise_registration(country, bad)
    assert refused.value.code == "registration-number-invalid"


# --- Dates ---------------------------------------------------------------------------------------
MONDAY = date(2026, 3, 2)


def test_the_earliest_date_counts_business_days() -> None:
    assert rules.earliest_date(MONDAY, "FR") == date(2026, 3, 11)  # 7 business days
    assert rules.check_desired_date(date(2026, 3, 11), MONDAY, "FR") == date(2026, 3, 11)
    assert rules.check_desired_date(None, MONDAY, "FR") is None
    with pytest.raises(errors.PortabilityDateTooSoon):
        rules.check_desired_date(date(2026, 3, 10), MONDAY, "FR")
    with pytest.raises(errors.PortabilityDateInPast):
        rules.check_desired_date(date(2026, 3, 1), MONDAY, "FR")
    with pytest.raises(errors.PortabilityDateNotBusinessDay):
        rules.check_desired_date(date(2026, 3, 14), MONDAY, "FR")  # a Saturday
    with pytest.raises(errors.PortabilityDateNotBusinessDay):
        rules.check_desired_date(date(2026, 5, 1), date(2026, 4, 1), "FR")  # Labour Day
    with pytest.raises(errors.PortabilityDateTooLate):
        rules.check_desired_date(MONDAY + timedelta(days=200), MONDAY, "FR")


@given(st.dates(date(2026, 1, 1), date(2030, 12, 31)), st.sampled_from(rules.COUNTRIES))
def test_the_earliest_date_is_a_business_day_that_many_business_days_ahead(
    today: date, country: str
) -> None:
    earliest = rules.earliest_date(today, country)
    assert rules.is_business_day(earliest, country)
    between = [
        today + timedelta(days=n)
        for n in range(1, (earliest - today).days + 1)
        if rules.is_business_day(today + timedelta(days=n), country)
    ]
    assert len(between) == rules.LEAD_BUSINESS_DAYS[country]
    assert rules.check_desired_date(earliest, today, country) == earliest


# --- Timeline ------------------------------------------------------------------------------------
S = rules
ALLOWED = {
    (S.FORM_SENT, S.RECEIVED),
    (S.FORM_SENT, S.FAILED),
    (S.FORM_SENT, S.CANCELLED),
    (S.RECEIVED, S.VALIDATED),
    (S.RECEIVED, S.FAILED),
    (S.RECEIVED, S.CANCELLED),
    (S.VALIDATED, S.SENT_TO_OPERATOR),
    (S.VALIDATED, S.FAILED),
    (S.VALIDATED, S.CANCELLED),
    (S.SENT_TO_OPERATOR, S.ACKNOWLEDGED),
    (S.SENT_TO_OPERATOR, S.FAILED),
    (S.ACKNOWLEDGED, S.FINAL_REPORT),
    (S.ACKNOWLEDGED, S.FAILED),
    (S.FINAL_REPORT, S.ACTIVATED),
    (S.FINAL_REPORT, S.FAILED),
    (S.FAILED, S.RECEIVED),
    (S.FAILED, S.CANCELLED),
}
EVERY_STEP = (*rules.STEPS, rules.FAILED, rules.CANCELLED)


@given(st.sampled_from(EVERY_STEP), st.sampled_from(EVERY_STEP))
def test_transitions_are_exactly_the_table(step: str, to: str) -> None:
    assert rules.can_move(step, to) == ((step, to) in ALLOWED)
    if (step, to) in ALLOWED:
        rules.check_move(step, to)
    else:
        with pytest.raises(errors.PortabilityStepNotAllowed):
            rules.check_move(step, to)


@given(st.lists(st.sampled_from(EVERY_STEP), max_size=30))
def test_any_walk_through_the_table_is_changeable_exactly_while_it_may_be_cancelled(
    moves: list[str],
) -> None:
    step = rules.FORM_SENT
    for to in moves:
        if rules.can_move(step, to):
            step = to
        # The customer may cancel or change the date until the request goes to the operator.
        assert rules.is_changeable(step) == rules.can_move(step, rules.CANCELLED)
    assert not rules.TRANSITIONS[rules.ACTIVATED] and not rules.TRANSITIONS[rules.CANCELLED]


def test_only_the_final_report_activates() -> None:
    assert {s for s, to in ALLOWED if to == rules.ACTIVATED} == {rules.FINAL_REPORT}


def test_every_failure_reason_says_what_to_do() -> None:
    for reason in rules.FAILURE_REASONS.values():
        assert reason.label and reason.what_to_do and reason.label != reason.what_to_do
    with pytest.raises(errors.PortabilityFailureReasonInvalid):
        rules.failure_reason("bad-luck")


def test_numbers_must_belong_to_the_country() -> None:
    assert rules.normalise_numbers(["01 45 67 89 01"], "FR") == ["+33145678901"]
    with pytest.raises(errors.PortabilityNumberInvalid):
        rules.normalise_numbers(["+3225551212"], "FR")  # a Belgian number
    with pytest.raises(errors.PortabilityNumberRepeated):
        rules.normalise_numbers(["0145678901", "+33145678901"], "FR")
    with pytest.raises(errors.PortabilityNoNumbers):
        rules.normalise_numbers([], "FR")
    with pytest.raises(errors.PortabilityCountryNotServed):
        rules.check_country("DE")


# --- MAC and provisioning ------------------------------------------------------------------------
unicast_macs = (
    st.tuples(st.integers(0, 255).filter(lambda b: b & 1 == 0), st.binary(min_size=5, max_size=5))
    .map(lambda t: bytes([t[0]]) + t[1])
    .filter(lambda b: any(b))
    .map(bytes.hex)
)


@given(unicast_macs, st.sampled_from([":", "-", ""]), st.booleans())
def test_mac_addresses_normalise_whatever_their_writing(mac: str, sep: str, upper: bool) -> None:
    written = sep.join(mac[i : i + 2] for i in range(0, 12, 2))
    written = written.upper() if upper else written
    assert phones.normalise_mac(written) == mac
    assert phones.normalise_mac(phones.mac_shown(mac)) == mac


@pytest.mark.parametrize(
    "text", ["", "00:15:65:12:34", "00:15:65:12:34:5G", "01:00:5e:00:00:01", "ff" * 6, "0" * 12]
)
def test_malformed_macs_are_refused(text: str) -> None:
    with pytest.raises(phone_errors.MacMalformed):
        phones.normalise_mac(text)


def test_the_yealink_file_carries_server_credentials_zone_and_language() -> None:
    text = phones.yealink_config(
        phones.Provisioning(
            mac="001565123456",
            model=phones.model_of("phone-pnp-pro"),
            number="+33145678901",
            label="01 45 67 89 01",
            sip_username="33145678901",
            sip_password="s3cret",
            sip_server="sip.example",
            sip_port=5060,
            sip_transport="udp",
            zone="Europe/Paris",
            language="fr",
        ),
        datetime(2026, 7, 1, tzinfo=UTC),
    )
    assert text.startswith("#!version:1.0.0.1\n")
    values = phones.parse_config(text)
    assert values["account.1.user_name"] == "33145678901"
    assert values["account.1.password"] == "s3cret"
    assert values["account.1.sip_server.1.address"] == "sip.example"
    assert values["local_time.time_zone"] == "+1"  # standard time, even in July
    assert values["local_time.time_zone_name"] == "France(Paris)"
    assert values["lang.gui"] == "French"
    assert phones.user_agent_is_of("Yealink SIP-T46U 66.86.0.15 00:15:65:12:34:56", "001565123456")
    assert not phones.user_agent_is_of(
        "Yealink SIP-T46U 66.86.0.15 00:15:65:12:34:57", "001565123456"
    )


# --- Diagnostics ---------------------------------------------------------------------------------
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LIVE_RECORD = {"forwards": {}, "do_not_disturb": False, "limits": {"outgoing_calls": True}}


def _reg(minutes_ago: int, lasting: int, ip: str = "203.0.113.7") -> diagnostics.Registration:
    at = NOW - timedelta(minutes=minutes_ago)
    return diagnostics.Registration(at, at + timedelta(minutes=lasting), ip, 5060, "udp", "Yealink")


def _codes(**overrides: object) -> list[str]:
    values: dict[str, object] = {
        "number": "+33145678901",
        "state": "active",
        "record": LIVE_RECORD,
        "registrations": [_reg(5, 10)],
        "now": NOW,
    }
    values.update(overrides)
    return [f.code for f in diagnostics.diagnose(diagnostics.Facts(**values))]  # type: ignore[arg-type]


def test_diagnostics_findings_for_each_state() -> None:
    assert _codes() == ["registered", "all_clear"]
    assert _codes(registrations=[]) == ["never_registered"]
    assert _codes(registrations=[_reg(30, 10)]) == ["registration_expired"]
    assert _codes(registrations=[_reg(1, 0), _reg(5, 10)]) == ["unregistered"]
    assert _codes(state="suspended")[:2] == ["suspended", "registered"]
    forward = {"unconditional": {"target": "external", "number": "+33612345678"}}
    assert _codes(record={**LIVE_RECORD, "forwards": forward}) == [
        "forward_unconditional",
        "registered",
    ]
    busy = {"busy": {"target": "voicemail", "number": None}}
    assert _codes(record={**LIVE_RECORD, "forwards": busy}) == [
        "forward_conditional",
        "registered",
        "all_clear",
    ]
    assert _codes(record={**LIVE_RECORD, "do_not_disturb": True}) == [
        "do_not_disturb",
        "registered",
    ]
    blocked = {**LIVE_RECORD, "limits": {"outgoing_calls": False}}
    assert _codes(record=blocked) == ["outgoing_blocked", "registered"]
    capped = {**LIVE_RECORD, "limits": {"outgoing_calls": True, "spending_cap_reached": True}}
    assert _codes(record=capped) == ["spending_cap_reached", "registered"]
    assert _codes(record=None) == ["no_record", "registered"]
    assert "phone_never_provisioned" in _codes(phone_model="Yealink SIP-T46U")
    assert "phone_never_provisioned" not in _codes(
        phone_model="Yealink SIP-T46U", phone_provisioned_at=NOW
    )


def test_the_registration_since_is_the_start_of_the_refreshes() -> None:
    found = diagnostics.registration_findings([_reg(1, 10), _reg(6, 10), _reg(11, 10)], NOW)
    assert found.code == "registered" and found.values["since"] == NOW - timedelta(minutes=11)
    moved = diagnostics.registration_findings([_reg(1, 10), _reg(6, 10, ip="198.51.100.1")], NOW)
    assert moved.values["since"] == NOW - timedelta(minutes=1)


def test_every_finding_but_the_good_ones_says_what_to_do() -> None:
    for code, text in diagnostics.TEXTS.items():
        assert text
        if code not in ("registered", "forward_conditional"):
            assert diagnostics.WHAT_TO_DO[code]
