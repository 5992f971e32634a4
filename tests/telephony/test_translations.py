"""Every text of the telephony area and its pages has its French translation: error messages,
labels, star codes, page texts and flash messages."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from voipdesk.core.errors import DomainError
from voipdesk.core.i18n import translations
from voipdesk.telephony import errors, rules

SRC = Path(__file__).resolve().parents[2] / "src" / "voipdesk"
FILES = [
    *sorted((SRC / "web" / "templates" / "telephony").glob("*.html")),
    SRC / "web" / "pages" / "telephony.py",
    *sorted((SRC / "telephony").rglob("*.py")),
]
# One literal, or several side by side (Python joins them: a long message split over lines).
_LITERAL = r'(?:"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')'
STRING = "(" + _LITERAL + r"(?:\s*" + _LITERAL + ")*)"
CALLS = [
    re.compile(r"(?<![\w.])(?:_|N_)\(\s*" + STRING),
    re.compile(r"gettext\(\s*[\w.]+,\s*" + STRING),
    # Flash messages: the `success` argument of the pages' _act (a string on its own line).
    re.compile(r'^\s+("(?:The|An|A) [^"]+\.")[,)]', re.M),
]
SAME_IN_FRENCH = {
    "Date",
    "Actions",
    "Port",
    "Transport",
    "Messages",
    "Option",
    "Restrictions",
    "France",
    "Assistance",
    "Plug & Phone",
    "RIO",
    "RIO (France)",
}


def msgids() -> set[str]:
    found: set[str] = set()
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for pattern in CALLS:
            found.update(ast.literal_eval("(" + m.group(1) + ")") for m in pattern.finditer(text))
    for _name, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, DomainError) and cls.__module__ == errors.__name__:
            found.add(cls.message)
    found.update(code.label for code in rules.STAR_CODES)
    return found


def test_every_telephony_text_is_in_french() -> None:
    french = translations("fr")
    ids = msgids()
    assert len(ids) > 150
    missing = sorted(m for m in ids if french.gettext(m) == m and m not in SAME_IN_FRENCH)
    assert missing == []
