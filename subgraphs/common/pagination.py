"""Relay connections with opaque keyset cursors.

A cursor is base64 of the row's sort-key values (always ending with the id), so
pages stay stable while rows are added; `first` is capped at MAX_PAGE_SIZE.

A cursor comes back from the client, so it is decoded strictly: a JSON list
with one value per sort key, each the JSON type its column's values are encoded
as and within what the column can hold (a text no longer than the column, no
NUL; a UUID; a finite decimal within NUMERIC(p, s); a timestamp with its
offset). Anything else is BAD_USER_INPUT naming `after`, before any SQL.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import orjson
import strawberry
from sqlalchemy import ColumnElement, DateTime, Numeric, Select, String, and_, or_

from .errors import BadUserInput
from .types import decimal_problem

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


@strawberry.federation.type(shareable=True)
class PageInfo:
    """Relay page information: whether there is more, and the cursors at both ends."""

    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    """One item of a page with the cursor that resumes after it."""

    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    """A page of a keyset-paginated list (Relay connection), with a lazy total count."""

    edges: list[Edge[T]]
    page_info: PageInfo
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    def nodes(self) -> list[T]:
        """The page's items without their cursors."""
        return [edge.node for edge in self.edges]

    @strawberry.field(description="Number of items matching the filter, across all pages.")
    async def total_count(self) -> int:
        """How many items match the filter, counted only when asked for."""
        return await self.count_total()


@dataclass(frozen=True)
class SortKey:
    """One column of a list's order, and how its values go into and out of a cursor."""

    column: Any
    descending: bool = False
    encode: Callable[[Any], Any] = str
    decode: Callable[[Any], Any] = lambda value: value


def page_size(first: int | None) -> int:
    """How many items `first` asks for: DEFAULT_PAGE_SIZE if None, BadUserInput if out of range."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0:
        raise BadUserInput("`first` must not be negative")
    if first > MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be at most {MAX_PAGE_SIZE} (got {first})")
    return first


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor holding the (already encoded) sort-key values of one row."""
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode()


# An ISO 8601 timestamp with microseconds and offset is 32 characters.
_TIMESTAMP_LENGTH = 40


def _check_raw(column_type: Any, value: Any) -> None:
    """Raise ValueError unless `value` is what `encode_cursor` writes for this column type.

    Every encoded sort value is a JSON string (texts, UUIDs, decimals via str(),
    timestamps via isoformat()); a number, list, object or boolean never is.
    """
    if not isinstance(value, str):
        raise ValueError("not a string")
    if "\x00" in value:
        raise ValueError("NUL")  # PostgreSQL text cannot hold it
    if isinstance(column_type, String) and column_type.length is not None:
        if len(value) > column_type.length:
            raise ValueError("longer than the column")
    elif isinstance(column_type, Numeric) and column_type.precision is not None:
        problem = decimal_problem(Decimal(value), column_type.precision, column_type.scale or 0)
        if problem is not None:
            raise ValueError(problem)
    elif isinstance(column_type, DateTime) and len(value) > _TIMESTAMP_LENGTH:
        raise ValueError("not a timestamp")


def _check_decoded(column_type: Any, value: Any) -> None:
    """Raise ValueError for a decoded timestamp PostgreSQL cannot compare with the column."""
    if isinstance(value, datetime) and isinstance(column_type, DateTime):
        if column_type.timezone and value.utcoffset() is None:
            raise ValueError("a timestamp without its offset")
        if value.utcoffset() is not None:
            value.astimezone(UTC)  # OverflowError beyond year 1-9999 in UTC


def _decode_value(key: SortKey, value: Any) -> Any:
    column_type = getattr(key.column, "type", None)
    _check_raw(column_type, value)
    decoded = key.decode(value)
    _check_decoded(column_type, decoded)
    return decoded


def decode_cursor(cursor: str, keys: Sequence[SortKey], argument: str = "after") -> list[Any]:
    """The sort-key values in `cursor`, or BadUserInput naming `argument` if it is not
    a cursor this list could have written."""
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError("not one value per sort key")
        return [_decode_value(key, value) for key, value in zip(keys, raw, strict=True)]
    # ArithmeticError: decimal.InvalidOperation; OverflowError: dates out of range
    except (ValueError, TypeError, ArithmeticError, binascii.Error) as exc:
        raise BadUserInput(
            f"Invalid cursor for this list (`{argument}`)", field=[argument]
        ) from exc


def after_condition(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the (possibly mixed-direction) key order."""
    alternatives = []
    for i, key in enumerate(keys):
        equal_prefix = [k.column == v for k, v in zip(keys[:i], values[:i], strict=True)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        alternatives.append(and_(*equal_prefix, beyond))
    return or_(*alternatives)


def order_by(keys: Sequence[SortKey]) -> list[Any]:
    """ORDER BY clauses for `keys`, each in its own direction."""
    return [key.column.desc() if key.descending else key.column.asc() for key in keys]


@dataclass(frozen=True)
class PageQuery:
    """A keyset page request: `select` must already carry the filter."""

    select: Select[Any]
    keys: Sequence[SortKey]
    first: int | None
    after: str | None

    def statement(self) -> tuple[Select[Any], int]:
        """The page's SELECT (one row past the page tells if there is a next) and its size."""
        size = page_size(self.first)
        stmt = self.select
        if self.after is not None:
            stmt = stmt.where(after_condition(self.keys, decode_cursor(self.after, self.keys)))
        return stmt.order_by(*order_by(self.keys)).limit(size + 1), size


def build_connection(
    rows: Sequence[Any],
    size: int,
    after: str | None,
    key_values: Callable[[Any], Sequence[Any]],
    keys: Sequence[SortKey],
    to_node: Callable[[Any], T],
    count_total: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """The Connection for `rows` fetched by PageQuery.statement (at most size + 1 of them)."""
    page = rows[:size]
    edges = [
        Edge(
            cursor=encode_cursor([k.encode(v) for k, v in zip(keys, key_values(row), strict=True)]),
            node=to_node(row),
        )
        for row in page
    ]
    info = PageInfo(
        has_next_page=len(rows) > size,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, count_total=count_total)
