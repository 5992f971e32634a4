"""Translations: English message ids, French catalogues (one .po file per business area).

Catalogues are read from the .po sources at first use, so no compile step is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

Translate = Callable[..., str]


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    merged: NullTranslations = NullTranslations()
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    for po_path in sorted(folder.glob("*.po")):
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=language)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(fp=buffer)
        if isinstance(merged, Translations):
            merged.merge(part)
        else:
            merged = part
    return merged


def normalise_language(language: str | None) -> str:
    if language and language[:2].lower() in LANGUAGES:
        return language[:2].lower()
    return DEFAULT_LANGUAGE


# French message ids that had no translation when a page or message asked for them (a test walks
# every page and fails on any); English ids are their own translation.
UNTRANSLATED: set[str] = set()


def gettext(language: str, message: str, **values: object) -> str:
    language = normalise_language(language)
    catalog = translations(language)
    text = catalog.gettext(message)
    if language != "en" and message and message not in getattr(catalog, "_catalog", {}):
        UNTRANSLATED.add(message)
    return text % values if values else text


def ngettext(language: str, singular: str, plural: str, count: int, **values: object) -> str:
    """The singular or plural form for `count` (French: 0 and 1 are singular), with `count` and
    `values` put in: `ngettext(lang, "%(count)s call", "%(count)s calls", n)`."""
    language = normalise_language(language)
    catalog = translations(language)
    text = catalog.ngettext(singular, plural, count)
    if language != "en" and (singular, 0) not in getattr(catalog, "_catalog", {}):
        UNTRANSLATED.add(singular)
    return text % {"count": count, **values}


def translator(language: str) -> Translate:
    """A `_` bound to one language: `_("Hello %(name)s", name=...)`."""

    def _(message: str, **values: object) -> str:
        return gettext(language, message, **values)

    return _


def plural_translator(language: str) -> Callable[..., str]:
    """An `ngettext` bound to one language: `ngettext("%(count)s call", "%(count)s calls", n)`."""

    def ngettext_(singular: str, plural: str, count: int, **values: object) -> str:
        return ngettext(language, singular, plural, count, **values)

    return ngettext_


def accepted_language(header: str | None) -> str | None:
    """fr or en from an Accept-Language header, by its q-values; None when it names neither."""
    if not header:
        return None
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        piece = part.strip().split(";")
        tag = piece[0].strip()[:2].lower()
        quality = 1.0
        for parameter in piece[1:]:
            if parameter.strip().startswith("q="):
                try:
                    quality = float(parameter.strip()[2:])
                except ValueError:
                    quality = 0.0
        if tag in LANGUAGES and quality > 0:
            ranked.append((quality, tag))
    return max(ranked)[1] if ranked else None


def language_from_accept(header: str | None) -> str:
    """Pick fr or en from an Accept-Language header, by its q-values (French when neither)."""
    return accepted_language(header) or DEFAULT_LANGUAGE


def babel_locale(language: str) -> str:
    return {"fr": "fr_FR", "en": "en_GB"}.get(language, language)


def format_date(value, language: str, format: str = "long") -> str:
    return _format_date(value, format=format, locale=babel_locale(language))


def format_datetime(value, language: str, timezone: str = "Europe/Paris") -> str:
    from zoneinfo import ZoneInfo

    return _format_datetime(
        value, format="medium", tzinfo=ZoneInfo(timezone), locale=babel_locale(language)
    )


def N_(message: str) -> str:
    """Marks a message for extraction where it is translated later."""
    return message
