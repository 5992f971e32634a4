"""The sort, filter and pages of a billing group's lists around the line: its portabilities
(ongoing and finished, two lists on one page: `ongoing_sort`, `finished_cursor`...) and its lent
phones and returns. A group holds few, so they are read whole and cut by
`web.listing.sort_and_page`; a text filter keeps the sorts, a list's links keep the other's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voipdesk.subscriptions import rules as subscription_rules
from voipdesk.telephony.portability import rules as portability_rules
from voipdesk.web.listing import sort_and_page

PAGE_SIZE = 20
_STEPS = (*portability_rules.STEPS, portability_rules.FAILED)
# The portabilities' sorts ("-key" is descending): newest request first by default; the step in
# the order of the timeline; "as soon as possible" (no desired date) last both ways.
PORTABILITY_SORTS: dict[str, Any] = {
    "received": lambda p: p.created_at,
    "reference": lambda p: p.reference,
    "operator": lambda p: p.current_operator.casefold(),
    "desired": lambda p: p.desired_date,
    "step": lambda p: _STEPS.index(p.step) if p.step in _STEPS else None,
}


def _matches(text: str) -> Any:
    wanted = text.strip().casefold()
    digits = "".join(c for c in text if c.isdigit()).lstrip("0")

    def keep(p: Any) -> bool:
        if not wanted:
            return True
        return (
            wanted in p.reference.casefold()
            or wanted in p.current_operator.casefold()
            or bool(digits and any(digits in number for number in p.numbers))
        )

    return keep


def listed_portabilities(rows: list[Any], query: Mapping[str, str] | None) -> dict[str, Any]:
    """The ongoing and the finished portabilities' pages the query asks for (`q` a part of the
    reference, of the operator or digits of a number; each list's own sort and cursor)."""
    query = query or {}
    keep = _matches(query.get("q", ""))
    context: dict[str, Any] = {"portabilities_total": len(rows)}
    for name, ongoing in (("ongoing", True), ("finished", False)):
        page = sort_and_page(
            [p for p in rows if p.ongoing == ongoing and keep(p)],
            query.get(f"{name}_sort"),
            PORTABILITY_SORTS,
            query.get(f"{name}_cursor"),
            PAGE_SIZE,
            default="-received",
        )
        context.update(
            {name: page.rows, f"{name}_sort": page.sort, f"{name}_next": page.next_cursor}
        )
        context[f"{name}_total"] = sum(1 for p in rows if p.ongoing == ongoing)
    return context


_LOAN_STATES = (
    subscription_rules.LOAN_LENT,
    subscription_rules.LOAN_RETURN_OPENED,
    subscription_rules.LOAN_RECEIVED,
    subscription_rules.LOAN_REFUNDING,
    subscription_rules.LOAN_REFUNDED,
)
# The lent phones' sorts: newest loan first by default; the deposit as a number; the state in
# the order of a return (lent, return expected, received, refund in progress, refunded).
PHONE_SORTS: dict[str, Any] = {
    "lent": lambda p: p.lent_at,
    "model": lambda p: p.model.casefold(),
    "line": lambda p: p.line,
    "deposit": lambda p: p.deposit,
    "state": lambda p: _LOAN_STATES.index(p.state) if p.state in _LOAN_STATES else None,
}


def listed_phones(rows: list[Any], query: Mapping[str, str] | None) -> dict[str, Any]:
    """The page of a group's lent phones the query asks for (`state`, `sort`, `cursor`), with
    the states they are in for the filter's choices (in the order of a return)."""
    query = query or {}
    states = [state for state in _LOAN_STATES if any(p.state == state for p in rows)]
    chosen = query.get("state", "")
    shown = [p for p in rows if p.state == chosen] if chosen else rows
    page = sort_and_page(
        shown, query.get("sort"), PHONE_SORTS, query.get("cursor"), PAGE_SIZE, default="-lent"
    )
    return {
        "phones": page.rows,
        "phones_total": len(rows),
        "sort": page.sort,
        "next_cursor": page.next_cursor,
        "phone_states": states,
    }
