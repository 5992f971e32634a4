"""Rules of abbreviated numbers (no I/O).

Per billing group: 3 or 4 digits starting with 7; per line: 3 or 4 digits starting with 2. The
guide recommends 4 digits: with 3, the caller waits for the dial timeout before the call goes
through (the switch cannot know that no fourth digit comes), so a 3-digit one is accepted with
that warning.
"""

from __future__ import annotations

import re

from voipdesk.catalogue import rules as catalogue_rules
from voipdesk.core.i18n import N_
from voipdesk.telephony.abbreviated import errors

GROUP = "group"
LINE = "line"
PREFIXES = {GROUP: "7", LINE: "2"}
LENGTHS = (3, 4)
NAME_LENGTH = 60
SCOPE_LABELS = errors.SCOPE_LABELS
FIELD_RULES = {
    GROUP: N_("3 or 4 digits, starting with 7."),
    LINE: N_("3 or 4 digits, starting with 2."),
}
THREE_DIGITS_WARNING = N_(
    "With 3 digits, callers wait a few seconds (the dial timeout) before the call goes "
    "through: 4 digits are recommended."
)


def check_code(scope: str, code: str) -> list[str]:
    """Refuses a code out of its range; returns the warnings (English msgids) of a valid one."""
    prefix = PREFIXES[scope]
    pattern = rf"^{prefix}[0-9]{{{LENGTHS[0] - 1},{LENGTHS[1] - 1}}}$"
    if not re.fullmatch(pattern, code or ""):
        raise errors.AbbreviatedOutOfRange(
            abbreviated=code,
            scope=scope,
            prefix=prefix,
            fields={"code": FIELD_RULES[scope]},
        )
    return [THREE_DIGITS_WARNING] if len(code) == 3 else []


def line_may_have_abbreviated_numbers(offer_code: str) -> bool:
    """The catalogue says which line offers have abbreviated numbers (not Découverte)."""
    return catalogue_rules.offer_has_feature(
        offer_code, catalogue_rules.FEATURE_ABBREVIATED_NUMBERS
    )


def scope_key(scope: str, owner_id: str) -> str:
    """One namespace per group and one per line: a code is used once in each."""
    return f"{scope}:{owner_id}"
