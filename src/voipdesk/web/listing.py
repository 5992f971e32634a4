"""Lists cut in pages with a `sort` ("key" or "-key") and a `cursor` parameter, so `ui.th` and
`ui.pager` work the same on all: the lists the pages read whole (a customer's services, numbers)
are sorted and cut here (`sort_and_page`), the longer ones in the database
(`sort_and_page_query`)."""

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


# A page of a list read from the database is at most this long (a `size` beyond it is cut).
MAX_PAGE_SIZE = 100
# An offset beyond this is no cursor of ours: the list starts again from its first page.
MAX_OFFSET = 100_000


def sort_and_page_query(
    session: Any,
    query: Any,
    sorts: dict[str, Any],
    sort: str | None,
    cursor: str | None,
    tiebreak: Any,
    size: int = 25,
    default: str = "",
) -> Page:
    """One page of `query` (a select) in the order `sort` names ("key" or "-key" among `sorts`,
    key -> column or expression; an unknown sort is `default`), empty values last both ways, ties
    in the order of `tiebreak` (a column, or several: the date then the id), the same way, with
    the same offset `cursor` as `sort_and_page`."""
    wanted = sort if sort and sort.lstrip("-") in sorts else default
    size = max(1, min(size, MAX_PAGE_SIZE))
    start = int(cursor) if cursor and cursor.isdigit() and int(cursor) <= MAX_OFFSET else 0
    ties = list(tiebreak) if isinstance(tiebreak, (list, tuple)) else [tiebreak]
    order: list[Any] = []
    descending = wanted.startswith("-")
    if wanted:
        column = sorts[wanted.lstrip("-")]
        order = [column.is_(None), column.desc() if descending else column.asc()]
    order += [tie.desc() if descending else tie.asc() for tie in ties]
    rows = list(session.execute(query.order_by(*order).offset(start).limit(size + 1)).all())
    following = start + size
    return Page(
        rows=[row[0] if len(row) == 1 else row for row in rows[:size]],
        sort=wanted,
        next_cursor=str(following) if len(rows) > size else None,
        total=-1,
    )


def contains(column: Any, text: str) -> Any:
    """`column` holds `text` (its `%` and `_` taken as they are)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")
