"""The procedure's rules: the guide's document lists, where to send, states, business days."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voipdesk.core.i18n import gettext
from voipdesk.validation import rules

OPERATOR = "VoIPdesk Telecom"

# The lists of validation-procedure.md, word for word (markdown emphasis removed; the operator's
# name where the guide names its own).
CHEQUE_INDIVIDUAL = (
    "Joindre un chèque annulé original (Si vous ne possédez pas de chèque annulé, vous pouvez joindre "  # noqa: E501
    "une attestation de bon fonctionnement du compte bancaire à prélever, émise par votre conseiller "  # noqa: E501
    "bancaire)."
)
CHEQUE_ORGANISATION = (
    "Joindre un chèque annulé original (Si vous ne possédez pas de chèque annulé, vous pouvez joindre "  # noqa: E501
    "une attestation de bon fonctionnement du compte bancaire à prélever émise par votre conseiller "  # noqa: E501
    "bancaire)."
)
MANDATE = "Dater et signer l'autorisation de prélèvement."
JO = "Copie de la publication au Journal Officiel des statuts de l'association."
PRESIDENT = (
    "Attestation du président de l'association indiquant que la personne dépositaire du dossier est "  # noqa: E501
    "habilitée à agir au nom de l'association."
)
DOMICILE = "Preuve de domiciliation dans le pays (facture de gaz, d'eau, électricité ou téléphone)."

GUIDE_FRANCE = {
    "individual": [MANDATE, CHEQUE_INDIVIDUAL, "Photocopie recto/verso de votre pièce d'identité."],
    "company": [
        MANDATE,
        CHEQUE_ORGANISATION,
        "Photocopie recto/verso de la pièce d'identité du gérant ou d'un dirigeant de la société.",
        "Un papier à en-tête de l'entreprise certifiant que la personne dépositaire du dossier est "
        "habilitée à agir au nom de l'entreprise.",
        "Un extrait K-Bis de moins de 3 mois.",
    ],
    "association": [
        MANDATE,
        CHEQUE_ORGANISATION,
        "Photocopie recto/verso de la pièce d'identité du président de l'association.",
        JO,
        PRESIDENT,
    ],
}
GUIDE_BELGIUM_SWITZERLAND = {
    "individual": [
        f"Photocopie recto/verso d'une pièce d'identité du titulaire du compte {OPERATOR}.",
        DOMICILE,
    ],
    "company": [
        "Photocopie recto/verso d'une pièce d'identité du gérant ou d'un dirigeant de la société.",
        "Un papier à en-tête de l'entreprise certifiant que la personne dépositaire du dossier est "
        "habilitée à agir au nom de l'entreprise ou un document d'identification de l'entreprise.",
        DOMICILE,
    ],
    "association": [
        "Photocopie recto / verso d'une pièce d'identité du président de l'association.",
        JO,
        PRESIDENT,
    ],
}
ENGLISH_SAMPLES = {
    ("individual", "FR"): "Front and back photocopy of your identity document.",
    ("company", "FR"): "A K-Bis extract less than 3 months old.",
    (
        "association",
        "BE",
    ): "Copy of the publication of the association's statutes in the Journal Officiel.",
    ("individual", "CH"): (
        f"Front and back photocopy of an identity document of the holder of the {OPERATOR} account."
    ),
}

NINE_CASES = [(kind, country) for kind in rules.CUSTOMER_KINDS for country in ("FR", "BE", "CH")]


@pytest.mark.parametrize(("kind", "country"), NINE_CASES)
def test_documents_in_french_are_the_guides(kind: str, country: str) -> None:
    expected = GUIDE_FRANCE[kind] if country == "FR" else GUIDE_BELGIUM_SWITZERLAND[kind]
    texts = [
        gettext("fr", document.text, operator=OPERATOR)
        for document in rules.required_documents(kind, country)
    ]
    assert texts == expected


@pytest.mark.parametrize(("kind", "country"), NINE_CASES)
def test_documents_in_english_are_translated_and_distinct(kind: str, country: str) -> None:
    documents = rules.required_documents(kind, country)
    english = [gettext("en", document.text, operator=OPERATOR) for document in documents]
    french = [gettext("fr", document.text, operator=OPERATOR) for document in documents]
    assert all(text.isascii() or "Œ" in text for text in english)  # English, not a French leftover
    assert all(en != fr for en, fr in zip(english, french, strict=True))
    codes = [document.code for document in documents]
    assert len(codes) == len(set(codes)), "staff record each document by its code"
    sample = ENGLISH_SAMPLES.get((kind, country))
    if sample is not None:
        assert sample in english


def test_belgium_and_switzerland_share_their_lists_and_france_signs_the_mandate() -> None:
    for kind in rules.CUSTOMER_KINDS:
        assert rules.required_documents(kind, "BE") == rules.required_documents(kind, "CH")
        assert rules.required_documents(kind, "FR")[0].code == "signed_mandate"


def test_no_procedure_outside_france_belgium_switzerland() -> None:
    assert not rules.procedure_applies("CA-QC")
    with pytest.raises(ValueError):
        rules.required_documents("individual", "CA-QC")


def test_france_by_post_with_originals_belgium_and_switzerland_by_email() -> None:
    where = {
        country: rules.destination(
            country,
            postal_address="1 rue de la Paix",
            email_be="be@x.example",
            email_ch="ch@x.example",
        )
        for country in ("FR", "BE", "CH")
    }
    assert where["FR"] == rules.Destination("post", "1 rue de la Paix", True)
    assert where["BE"] == rules.Destination("email", "be@x.example", False)
    assert where["CH"] == rules.Destination("email", "ch@x.example", False)


def test_state_table() -> None:
    assert rules.allowed_targets(rules.TODO) == {rules.WAITING_FOR_CUSTOMER, rules.CANCELLED}
    assert rules.allowed_targets(rules.WAITING_FOR_CUSTOMER) == {rules.DOING, rules.CANCELLED}
    assert rules.allowed_targets(rules.DOING) == {
        rules.DONE,
        rules.WAITING_FOR_CUSTOMER,
        rules.CANCELLED,
    }
    for final in rules.FINAL_STATES:
        assert rules.allowed_targets(final) == frozenset()
    assert not rules.can_transition(rules.WAITING_FOR_CUSTOMER, rules.DONE)


@given(st.lists(st.sampled_from(rules.STATES), max_size=8))
@settings(max_examples=60)
def test_a_final_state_is_never_left(path: list[str]) -> None:
    state = rules.TODO
    for target in path:
        if rules.can_transition(state, target):
            assert state not in rules.FINAL_STATES
            state = target


def test_approval_needs_every_document_valid() -> None:
    required = ["a", "b", "c"]
    assert rules.missing_for_approval(
        required, {"a": "valid", "b": "invalid", "c": "received"}
    ) == [
        "b",
        "c",
    ]
    assert rules.missing_for_approval(required, dict.fromkeys(required, "valid")) == []


def test_voip_services_make_an_order_need_the_procedure() -> None:
    assert rules.contains_voip(["sip_line"])
    assert rules.contains_voip(["phone", "alias_number"])
    assert rules.contains_voip(["fax_line"])
    assert not rules.contains_voip(["phone", "option"])
    assert not rules.contains_voip([])


FRENCH_HOLIDAYS = holidays.country_holidays("FR", years=range(2025, 2029))


def test_business_days_skip_weekends_and_public_holidays() -> None:
    friday = date(2026, 4, 3)  # Easter Monday is 2026-04-06
    assert rules.business_days_between(friday, date(2026, 4, 4), FRENCH_HOLIDAYS) == 0
    assert rules.business_days_between(friday, date(2026, 4, 6), FRENCH_HOLIDAYS) == 0
    assert rules.business_days_between(friday, date(2026, 4, 7), FRENCH_HOLIDAYS) == 1
    assert rules.business_days_between(date(2026, 3, 2), date(2026, 3, 9), FRENCH_HOLIDAYS) == 5


@given(
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=30),
)
@settings(max_examples=80)
def test_business_days_grow_with_time_and_never_exceed_weekdays(
    start: date, span: int, more: int
) -> None:
    end = start + timedelta(days=span)
    age = rules.business_days_between(start, end, FRENCH_HOLIDAYS)
    weekdays = sum(1 for n in range(1, span + 1) if (start + timedelta(days=n)).weekday() < 5)
    assert 0 <= age <= weekdays
    assert rules.business_days_between(start, end + timedelta(days=more), FRENCH_HOLIDAYS) >= age


def _catalogue_entries() -> list[tuple[str, str]]:
    from babel.messages.pofile import read_po

    from voipdesk.core.i18n import LOCALE_DIR

    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "validation.po").open("rb") as source:
        catalog = read_po(source, locale="fr")
    return [(str(m.id), str(m.string)) for m in catalog if m.id]


def test_french_catalogue_keeps_every_placeholder() -> None:
    import re

    placeholder = re.compile(r"%\(\w+\)s")
    for msgid, msgstr in _catalogue_entries():
        assert msgstr, msgid
        assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(msgstr)), msgid


def test_every_text_of_the_area_has_its_french() -> None:
    import re
    from pathlib import Path

    from voipdesk.validation import errors

    texts = [
        document.text
        for kind in rules.CUSTOMER_KINDS
        for country in rules.PROCEDURE_COUNTRIES
        for document in rules.required_documents(kind, country)
    ]
    texts += list(rules.STATE_LABELS.values()) + list(rules.REASON_LABELS.values())
    texts += list(rules.DOCUMENT_STATUS_LABELS.values())
    texts += [
        cls.message
        for cls in vars(errors).values()
        if isinstance(cls, type) and cls.__module__ == errors.__name__
    ]
    folder = Path(rules.__file__).parent
    # Complete one-piece literals only (texts split over lines are checked where they are used).
    pattern = re.compile(r'_\(\s*"((?:[^"\\]|\\.)+)"\s*[,)]')
    for source in [*folder.glob("*.py"), *(folder / "emails").glob("*.jinja")]:
        texts += pattern.findall(source.read_text())
    known = {msgid for msgid, _ in _catalogue_entries()}
    missing = sorted({text for text in texts if gettext("fr", text) == text and text not in known})
    assert missing == []
