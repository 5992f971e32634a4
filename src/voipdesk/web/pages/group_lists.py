"""The sort, filter and pages of the customer's billing groups (`/telephony`) and of a group's
services (`/telephony/{group}`): both lists are read whole (a customer has few), so they are
sorted and cut by `web.listing.sort_and_page`; a sort or a filter keeps the other, a page keeps
both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voipdesk.web.listing import sort_and_page

PAGE_SIZE = 20
# The groups' sorts ("-key" is descending): name, how many services, how many pending changes.
GROUP_SORTS: dict[str, Any] = {
    "name": lambda row: (row["name"] or "").casefold(),
    "services": lambda row: row["services"],
    "changes": lambda row: row["changes"],
}
# A group's services: number, type, offer, monthly price (a number), state, expiry.
SERVICE_SORTS: dict[str, Any] = {
    "number": lambda row: row["number"],
    "kind": lambda row: row["kind_label"].casefold(),
    "offer": lambda row: row["offer_code"],
    "monthly": lambda row: row["monthly"].amount,
    "state": lambda row: row["state_label"].casefold(),
    "expiry": lambda row: row["expiry_on"],
}
# Below this many groups the page shows no filter (nothing to look for).
FILTER_FROM = 6


def listed_groups(groups: list[dict[str, Any]], query: Mapping[str, str] | None) -> dict[str, Any]:
    """The page of `groups` the query asks for (`q` a part of the name, `sort`, `cursor`)."""
    query = query or {}
    wanted = (query.get("q") or "").strip().casefold()
    rows = [row for row in groups if wanted in (row["name"] or "").casefold()]
    page = sort_and_page(
        rows, query.get("sort"), GROUP_SORTS, query.get("cursor"), PAGE_SIZE, default="name"
    )
    return {
        "groups": page.rows,
        "sort": page.sort,
        "next_cursor": page.next_cursor,
        "groups_filter": len(groups) >= FILTER_FROM or bool(wanted),
        "groups_total": len(groups),
    }


def listed_group_services(
    services: list[dict[str, Any]], query: Mapping[str, str] | None
) -> dict[str, Any]:
    """The page of a group's `services` the query asks for (`kind`, `state`, `q` digits of the
    number, `sort`, `cursor`), with the kinds and states it holds for the filter's choices."""
    query = query or {}
    rows = services
    kinds = sorted({(row["kind"], row["kind_label"]) for row in rows}, key=lambda kind: kind[1])
    states = sorted({(row["state"], row["state_label"]) for row in rows}, key=lambda s: s[1])
    if query.get("kind"):
        rows = [row for row in rows if row["kind"] == query["kind"]]
    if query.get("state"):
        rows = [row for row in rows if row["state"] == query["state"]]
    digits = "".join(ch for ch in query.get("q", "") if ch.isdigit()).lstrip("0")
    if digits:
        rows = [row for row in rows if digits in (row["number"] or "")]
    page = sort_and_page(
        rows, query.get("sort"), SERVICE_SORTS, query.get("cursor"), PAGE_SIZE, default="number"
    )
    return {
        "services": page.rows,
        "services_total": len(services),
        "sort": page.sort,
        "next_cursor": page.next_cursor,
        "kind_options": list(kinds),
        "state_options": list(states),
    }
