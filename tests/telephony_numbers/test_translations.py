"""Every text of the number-side telephony (errors, labels, pages) has its French translation."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

from voipdesk.core.errors import DomainError
from voipdesk.core.i18n import translations

SRC = Path(__file__).resolve().parents[2] / "src" / "voipdesk"
FILES = [
    *sorted(SRC.glob("telephony/aliases/*.py")),
    *sorted(SRC.glob("telephony/abbreviated/*.py")),
    SRC / "web" / "pages" / "telephony_numbers.py",
    *sorted(SRC.glob("web/templates/telephony_numbers/*.html")),
]
STRING = r'("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')'
CALLS = [
    re.compile(r"(?<![\w.])(?:_|N_)\(\s*" + STRING + r"\s*[,)]"),
    re.compile(r"gettext\(\s*[\w.]+(?:\([\w.]*\))?,\s*" + STRING),
    re.compile(r"fields=\{[^}]*?:\s*" + STRING),
]
SAME_IN_FRENCH = {
    "Actions",
    "Agent",
    "Agents",
    "Date",
    "Destination",
    "Menu %(name)s",
    "Menus",
    "Type",
    "Version",
}


def msgids() -> set[str]:
    found: set[str] = set()
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for pattern in CALLS:
            found.update(ast.literal_eval(match.group(1)) for match in pattern.finditer(text))
    for name in ("voipdesk.telephony.aliases.errors", "voipdesk.telephony.abbreviated.errors"):
        module = importlib.import_module(name)
        for key, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, DomainError):
                if value.__module__ == name:
                    found.add(value.message)
            elif isinstance(value, dict) and key.isupper():  # label tables
                found.update(v for v in value.values() if isinstance(v, str))
    from voipdesk.telephony.abbreviated import rules as abbreviated
    from voipdesk.telephony.aliases import rules

    for table in (rules.STRATEGY_LABELS, rules.ACTION_LABELS, rules.AGENT_STATUS_LABELS):
        found.update(table.values())
    found.update(rules.DAY_LABELS.values())
    found.add(abbreviated.THREE_DIGITS_WARNING)
    return found


def test_texts_are_found() -> None:
    assert len(msgids()) > 150


def test_every_text_has_a_french_translation() -> None:
    french = translations("fr")
    missing = sorted(m for m in msgids() if french.gettext(m) == m and m not in SAME_IN_FRENCH)
    assert missing == []
