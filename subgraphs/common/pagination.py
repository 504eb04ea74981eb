"""Relay connections with opaque keyset cursors.

A cursor is base64 of the row's sort-key values (always ending with the id), so
pages stay stable while rows are added; `first` is capped at MAX_PAGE_SIZE.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
import strawberry
from sqlalchemy import ColumnElement, Select, and_, or_

from .errors import BadUserInput

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count_total: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="Number of items matching the filter, across all pages.")
    async def total_count(self) -> int:
        return await self.count_total()


@dataclass(frozen=True)
class SortKey:
    column: Any
    descending: bool = False
    encode: Callable[[Any], Any] = str
    decode: Callable[[Any], Any] = lambda value: value


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0:
        raise BadUserInput("`first` must not be negative")
    if first > MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be at most {MAX_PAGE_SIZE} (got {first})")
    return first


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode()


def decode_cursor(cursor: str, keys: Sequence[SortKey]) -> list[Any]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError
        return [key.decode(value) for key, value in zip(keys, raw, strict=True)]
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise BadUserInput("Invalid cursor for this list (`after`)") from exc


def after_condition(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the (possibly mixed-direction) key order."""
    alternatives = []
    for i, key in enumerate(keys):
        equal_prefix = [k.column == v for k, v in zip(keys[:i], values[:i], strict=True)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        alternatives.append(and_(*equal_prefix, beyond))
    return or_(*alternatives)


def order_by(keys: Sequence[SortKey]) -> list[Any]:
    return [key.column.desc() if key.descending else key.column.asc() for key in keys]


@dataclass(frozen=True)
class PageQuery:
    """A keyset page request: `select` must already carry the filter."""

    select: Select[Any]
    keys: Sequence[SortKey]
    first: int | None
    after: str | None

    def statement(self) -> tuple[Select[Any], int]:
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
