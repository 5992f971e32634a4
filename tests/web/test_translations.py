"""Every text of the accounts pages and the layout has its French translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from voipdesk.core.i18n import translations

WEB = Path(__file__).resolve().parents[2] / "src" / "voipdesk" / "web"
FILES = [
    *sorted(WEB.glob("templates/*.html")),
    *sorted(WEB.glob("templates/accounts/*.html")),
    WEB / "pages" / "accounts.py",
    WEB / "rendering.py",
]
STRING = r'("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')'
CALLS = [
    re.compile(r"(?<![\w.])(?:_|N_)\(\s*" + STRING),
    re.compile(r"gettext\(\s*[\w.]+,\s*" + STRING),
]
# Words that are the same in French.
SAME_IN_FRENCH = {
    "Services",
    "Back office",
    "Date",
    "Code",
    "Association",
    "France",
    "Québec (Canada)",
    "E-mail",
    "Actions",
    "Webhooks",
}


def msgids() -> list[str]:
    found: list[str] = []
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for pattern in CALLS:
            found.extend(ast.literal_eval(match.group(1)) for match in pattern.finditer(text))
    return sorted(set(found))


def test_texts_are_found() -> None:
    assert len(msgids()) > 100


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
