"""How pages write dates, times and French punctuation."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from voipdesk.web.rendering import date_time, french_typography, long_date


def test_the_first_of_the_month_is_1er_in_french_only() -> None:
    assert long_date(date(2027, 1, 1), "fr") == "1er janvier 2027"
    assert long_date(date(2027, 1, 2), "fr") == "2 janvier 2027"
    assert long_date(date(2027, 1, 1), "en") == "1 January 2027"


def test_times_are_in_the_readers_time_zone_without_seconds() -> None:
    instant = datetime(2026, 12, 2, 13, 5, 42, tzinfo=UTC)
    assert date_time(instant, "fr", "Europe/Paris") == "2 décembre 2026 à 14:05"
    assert date_time(instant, "en", "America/Toronto") == "2 December 2026, 08:05"


def test_french_high_punctuation_gets_a_narrow_no_break_space() -> None:
    html = "<p>État : actif ; payé ? oui ! « Annulée »</p>"
    assert french_typography(html) == (
        "<p>État\u202f: actif\u202f; payé\u202f? oui\u202f! «\u202fAnnulée\u202f»</p>"
    )


def test_typography_leaves_markup_urls_and_times_alone() -> None:
    html = '<a href="https://example.org/a?b=c">10:30</a><b hx-trigger="delay:400ms">x</b>'
    assert french_typography(html) == html


@given(st.text(alphabet='abcdefgh <>:;?!="/', max_size=60))
def test_typography_only_replaces_spaces(text: str) -> None:
    typeset = french_typography(text)
    assert typeset.replace("\u202f", " ").replace("«\u202f", "« ") == text.replace("«\u202f", "« ")


def test_typography_never_changes_what_a_form_sends_back() -> None:
    html = (
        '<input name="note" value="Non signée !"><textarea name="d">Autre : voir ?</textarea>'
        "<pre>Total : 3</pre><p>Total : 3</p>"
    )
    assert french_typography(html) == (
        '<input name="note" value="Non signée !"><textarea name="d">Autre : voir ?</textarea>'
        "<pre>Total : 3</pre><p>Total\u202f: 3</p>"
    )
