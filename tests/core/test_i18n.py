"""Translations and the choice of language."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voipdesk.core.i18n import (
    format_date,
    format_datetime,
    gettext,
    language_from_accept,
    normalise_language,
    translator,
)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "fr"),
        ("", "fr"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
        ("de-DE,en;q=0.5", "en"),
        ("de-DE,it", "fr"),  # nothing we speak: the default
        ("fr;q=0.3,en;q=0.7", "en"),
        ("en;q=bad,fr;q=0.1", "fr"),
        ("EN-us", "en"),
    ],
)
def test_accept_language_picks_fr_or_en_by_quality(header, language):
    assert language_from_accept(header) == language


@settings(max_examples=100)
@given(st.text(max_size=60))
def test_any_accept_language_header_gives_a_language_we_speak(header):
    assert language_from_accept(header) in ("fr", "en")


def test_normalise_language():
    assert normalise_language("en-GB") == "en"
    assert normalise_language("de") == "fr"
    assert normalise_language(None) == "fr"


def test_messages_are_translated_with_their_values():
    assert (
        gettext("fr", "Nothing was found at this address.")
        == "Rien n'a été trouvé à cette adresse."
    )
    assert (
        gettext("en", "Nothing was found at this address.") == "Nothing was found at this address."
    )
    _ = translator("fr")
    assert _("Your customer handle: %(handle)s", handle="ab12345-vd") == (
        "Votre identifiant client : ab12345-vd"
    )
    # an unknown msgid is shown as is
    assert gettext("fr", "No such message %(x)s", x=1) == "No such message 1"


def test_dates_are_formatted_for_the_language():
    assert format_date(date(2026, 3, 2), "fr") == "2 mars 2026"
    assert format_date(date(2026, 3, 2), "en") == "2 March 2026"
    # instants are shown at the operator's place (Paris is UTC+1 in March)
    assert "10:00" in format_datetime(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "fr")
