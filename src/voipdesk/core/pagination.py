"""Pagination shared by every list of the API: `limit` and an opaque keyset `cursor` in, a page out.

A cursor is the sort key of the last item given (base64url of JSON) with a short HMAC tag, so a
cursor that was not given by us answers 422 `invalid-cursor` instead of a wrong page.

    class LinePage(Page[ServiceOut]): ...            # one named schema per list in the OpenAPI

    @router.get("/lines", response_model=LinePage)
    def lines(page: PageParams = Depends(page_params)) -> LinePage:
        rows, next_cursor = paginate(all_rows, key=lambda s: (s.number_e164 or "", s.id), page=page)
        return LinePage(items=[...], next_cursor=next_cursor)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from voipdesk.core.errors import DomainError
from voipdesk.core.i18n import N_
from voipdesk.core.settings import get_settings

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 500
INT64 = 2**63 - 1  # a key part beyond a 64-bit integer is no key of ours (nor of the databases)

T = TypeVar("T")
Row = TypeVar("Row")
KeyPart = str | int | None


class InvalidCursor(DomainError):
    code = "invalid-cursor"
    status = 422
    message = N_("This cursor is not one we gave: start again from the first page.")


class Page(BaseModel, Generic[T]):
    """One page of a list; subclass it with a name (`class LinePage(Page[LineOut])`)."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Give it as `cursor` for the next page; null on the last page"
    )


@dataclass(frozen=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


def cursor_query() -> Any:
    """The `cursor` query parameter, for routes that take `limit` and `cursor` themselves."""
    return Query(
        None, max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page"
    )


async def page_params(
    limit: int = Query(
        DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page (1 to {MAX_LIMIT})"
    ),
    cursor: str | None = Query(
        None, max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page"
    ),
) -> PageParams:
    """FastAPI dependency: `page: PageParams = Depends(page_params)`. Async on purpose: FastAPI
    runs a sync dependency in the thread pool, a hop per request for two query parameters."""
    return PageParams(limit=limit, cursor=cursor or None)


def _part(value: Any) -> KeyPart:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int):
        return value
    return str(value)


def _tag(payload: bytes) -> str:
    secret = get_settings().secret_key.encode()
    digest = hmac.new(secret, b"cursor:" + payload, hashlib.sha256).digest()[:9]
    return base64.urlsafe_b64encode(digest).decode()


def encode_cursor(*key: Any) -> str:
    payload = json.dumps([_part(part) for part in key], separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_tag(payload)}"


def decode_cursor(cursor: str, length: int | None = None) -> list[KeyPart]:
    """The key a cursor holds; InvalidCursor if it is not one of ours (or not of this length)."""
    try:
        body, tag = cursor.strip().split(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        key = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not hmac.compare_digest(tag, _tag(payload)) or not isinstance(key, list):
        raise InvalidCursor()
    if length is not None and len(key) != length:
        raise InvalidCursor()
    if not all(
        part is None or isinstance(part, str) or (isinstance(part, int) and abs(part) <= INT64)
        for part in key
    ):
        raise InvalidCursor()
    return key


def cursor_key(cursor: str | None, *types: type) -> tuple[Any, ...] | None:
    """For lists paged in SQL: the typed key of a cursor made by `encode_cursor(*key)` (None
    without a cursor). `types` are datetime (given back in UTC), date, int (64-bit) or str; a
    cursor that is not ours, or not of this shape, raises InvalidCursor (422), never a 500."""
    if not cursor:
        return None
    parts = decode_cursor(cursor, len(types))
    values: list[Any] = []
    for part, kind in zip(parts, types, strict=True):
        try:
            if kind is datetime:
                if not isinstance(part, str):
                    raise InvalidCursor()
                stamp = datetime.fromisoformat(part)
                values.append(stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp)
            elif kind is date:
                if not isinstance(part, str):
                    raise InvalidCursor()
                values.append(date.fromisoformat(part))
            elif kind is int:
                if not isinstance(part, int) or isinstance(part, bool) or abs(part) > INT64:
                    raise InvalidCursor()
                values.append(part)
            else:
                if not isinstance(part, str):
                    raise InvalidCursor()
                values.append(part)
        except ValueError:
            raise InvalidCursor() from None
    return tuple(values)


def _comparable(key: Sequence[Any]) -> tuple[tuple[int, Any], ...]:
    # None sorts first, and values of another type never compare (a tampered cursor is refused).
    return tuple((0, "") if part is None else (1, _part(part)) for part in key)


def paginate(
    rows: Iterable[Row],
    *,
    key: Callable[[Row], Sequence[Any]],
    page: PageParams,
    descending: bool = False,
) -> tuple[list[Row], str | None]:
    """A page of rows in the order of `key` (ending with a unique id): keyset, not offset."""
    ordered = sorted(rows, key=lambda row: _comparable(key(row)), reverse=descending)
    if page.cursor:
        sample = key(ordered[0]) if ordered else None
        after = _comparable(decode_cursor(page.cursor, len(sample) if sample else None))
        try:
            if descending:
                ordered = [row for row in ordered if _comparable(key(row)) < after]
            else:
                ordered = [row for row in ordered if _comparable(key(row)) > after]
        except TypeError:
            raise InvalidCursor() from None
    items = ordered[: page.limit]
    more = len(ordered) > page.limit
    return items, encode_cursor(*key(items[-1])) if more and items else None
