"""Every text of the web pages (templates, page modules) has its French translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from voipdesk.core.i18n import translations

WEB = Path(__file__).resolve().parents[2] / "src" / "voipdesk" / "web"
FILES = [
    *sorted(WEB.glob("templates/**/*.html")),
    *sorted(WEB.glob("pages/*.py")),
    *sorted(WEB.glob("*.py")),
]
# One literal, or several side by side (Python joins them: a long message split over lines).
_LITERAL = r'(?:"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')'
STRING = "(" + _LITERAL + r"(?:\s*" + _LITERAL + ")*)"
CALLS = [
    re.compile(r"(?<![\w.])(?:_|N_)\(\s*" + STRING),
    re.compile(r"gettext\(\s*[\w.]+,\s*" + STRING),
]
# Words that are the same in French.
SAME_IN_FRENCH = {
    "Assistance",
    "RIO",
    "RIO (France)",
    "Services",
    "Back office",
    "Date",
    "Code",
    "Association",
    "France",
    "Québec (Canada)",
    "E-mail",
    "Actions",
    "Maximum",
    "Minimum",
    "Catalogue",
    "Menu",
    "Pages",
    "Validation",
    "IBAN",
    "BIC",
    "Note",
    "Option",
    "Service",
    "Total",
    "Type",
    "Version",
    "Trunk",
    "Découverte",
    "Entreprise",
    "Plug & Phone",
    "Paris / Île-de-France (01)",
    "Liège (04)",
    "Lausanne (021)",
    "Zurich (044)",
    "Webhooks",
    # Telephony words that French spells the same.
    "2. Validation",
    "Agent",
    "Agents",
    "Destination",
    "Menu %(name)s",
    "Menus",
    "Messages",
    "Port",
    "Restrictions",
    "Transport",
}


def msgids() -> list[str]:
    found: list[str] = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for pattern in CALLS:
            found.extend(
                ast.literal_eval("(" + match.group(1) + ")") for match in pattern.finditer(text)
            )
    return sorted(set(found))


def test_texts_are_found() -> None:
    assert len(msgids()) > 100


def test_every_plural_has_its_french_forms() -> None:
    french = translations("fr")
    pattern = re.compile(r"ngettext\(\s*(?:[\w.]+,\s*)?" + STRING + r",\s*" + STRING)
    pairs = {
        (ast.literal_eval(m.group(1)), ast.literal_eval(m.group(2)))
        for path in FILES
        for m in pattern.finditer(path.read_text(encoding="utf-8"))
    }
    assert len(pairs) > 5
    catalog = getattr(french, "_catalog", {})
    missing = [one for one, many in sorted(pairs) if (one, 0) not in catalog]
    assert missing == []
    assert french.ngettext("%(count)s simultaneous call", "%(count)s simultaneous calls", 1) == (
        "%(count)s appel simultané"
    )


def test_every_text_has_a_french_translation() -> None:
    french = translations("fr")
    missing = [
        msgid
        for msgid in msgids()
        if french.gettext(msgid) == msgid and msgid not in SAME_IN_FRENCH
    ]
    assert missing == []


def test_csrf_refusals_are_translated() -> None:
    from voipdesk.web.csrf import CsrfTokenInvalid, CsrfTokenMissing

    for error in (CsrfTokenMissing(), CsrfTokenInvalid()):
        assert error.detail("fr") != error.detail("en")
