"""Every text of the consumption area, its pages, e-mails and documents has its French
translation (error messages, destination and direction labels, page texts, flash messages)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from tests.telephony import test_translations as telephony_translations
from voipdesk.consumption import errors, rules
from voipdesk.core.errors import DomainError
from voipdesk.core.i18n import translations

SRC = Path(__file__).resolve().parents[2] / "src" / "voipdesk"
FILES = [
    *sorted((SRC / "web" / "templates" / "consumption").glob("*.html")),
    SRC / "web" / "templates" / "telephony" / "_tabs.html",
    SRC / "web" / "pages" / "consumption.py",
    *sorted((SRC / "consumption").rglob("*.py")),
    *sorted((SRC / "consumption" / "emails").glob("*.jinja")),
]
_LITERAL = r'(?:"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')'
STRING = "(" + _LITERAL + r"(?:\s*" + _LITERAL + ")*)"
CALLS = [
    re.compile(r"(?<![\w.])(?:_|N_)\(\s*" + STRING),
    re.compile(r"gettext\(\s*[\w.]+,\s*" + STRING),
    re.compile(r'^\s+message = ("[^"]+")$', re.M),
]
# The line's tabs, shared with the telephony pages, have the telephony's identical words.
SAME_IN_FRENCH = telephony_translations.SAME_IN_FRENCH | {
    "Date", "Actions", "Type", "Direction", "Mobile", "Destination", "International (Europe)",
}  # fmt: skip


def msgids() -> set[str]:
    found: set[str] = set()
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for pattern in CALLS:
            found.update(ast.literal_eval("(" + m.group(1) + ")") for m in pattern.finditer(text))
    for _name, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, DomainError) and cls.__module__ == errors.__name__:
            found.add(cls.message)
    found.update(rules.DESTINATION_LABELS.values())
    found.update(rules.DIRECTION_LABELS.values())
    return found


def test_every_consumption_text_is_in_french() -> None:
    french = translations("fr")
    ids = msgids()
    assert len(ids) > 60
    missing = sorted(m for m in ids if french.gettext(m) == m and m not in SAME_IN_FRENCH)
    assert missing == []
