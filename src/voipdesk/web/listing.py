"""Lists the pages read whole (a customer's services, numbers): filtered, sorted and cut in pages
here, with the same `sort` ("key" or "-key") and `cursor` parameters as the paginated lists, so
`ui.th` and `ui.pager` work the same on both."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Page:
    rows: list[Any]
    sort: str
    next_cursor: str | None
    total: int


def sort_and_page(
    rows: Sequence[Any],
    sort: str | None,
    keys: dict[str, Callable[[Any], Any]],
    cursor: str | None,
    size: int = 25,
    default: str = "",
) -> Page:
    wanted = sort if sort and sort.lstrip("-") in keys else default
    ordered = list(rows)
    if wanted:
        key = keys[wanted.lstrip("-")]
        present = [row for row in ordered if key(row) is not None]
        missing = [row for row in ordered if key(row) is None]
        present.sort(key=key, reverse=wanted.startswith("-"))
        ordered = present + missing
    start = int(cursor) if cursor and cursor.isdigit() else 0
    chunk = ordered[start : start + size]
    following = start + size
    return Page(
        rows=chunk,
        sort=wanted,
        next_cursor=str(following) if following < len(ordered) else None,
        total=len(ordered),
    )
