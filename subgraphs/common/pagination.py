"""Relay connections with opaque keyset cursors, paged both ways.

The rules every connection of the shop follows (Relay cursor connections spec):

- `first`/`after` pages forward, `last`/`before` backward. `after` and `before`
  bound the list and may be given with either direction, as the spec's
  ApplyCursorsToEdges does. `first` and `last` together are refused
  (BAD_USER_INPUT): the spec allows them but discourages it, and a slice taken
  from both ends of a page is never what a client wants. With neither, the
  first DEFAULT_PAGE_SIZE items. Both are capped at MAX_PAGE_SIZE.
- `hasNextPage` / `hasPreviousPage` are true exactly when an item exists after
  the page's last / before its first item in the whole filtered list, whichever
  way was paged. The page is fetched with one row more than asked in the
  direction of travel; the other side is one EXISTS on the cursor the page
  starts from (none for a page starting at either end of the list), and one
  more only when the far cursor stopped the page short.
- A cursor is base64 of a JSON list: the ordering's name, then the row's
  sort-key values (always ending with the id), so pages stay stable while rows
  are added, and a cursor of one ordering (sort) is refused by another.

A cursor comes back from the client, so it is decoded strictly: the ordering's
name, then one value per sort key, each the JSON type its column's values are
encoded as and within what the column can hold (a text no longer than the
column, no NUL; a UUID; a finite decimal within NUMERIC(p, s) written with its
scale, as PostgreSQL reads it back, and never "-0"; a timestamp in UTC, as
asyncpg reads a timestamptz, strictly within Python's years). Then the values
are encoded again and the result must be the very text the client sent: any
other spelling of the same values (" 5 ", "1E+2" or an Arabic-Indic five for a
price, "{uuid}", "1_0" for a rank, JSON with spaces, base64 without padding) is
not a cursor the list writes. Anything else is BAD_USER_INPUT naming `after` or
`before`, before any SQL.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

import orjson
import strawberry
from sqlalchemy import ColumnElement, DateTime, Numeric, Select, String, and_, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import BadUserInput
from .moments import moment_problem
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
    """One item of a page with the cursor that resumes after (or before) it."""

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

    def flipped(self) -> SortKey:
        """The same key in the opposite direction."""
        return replace(self, descending=not self.descending)


@dataclass(frozen=True)
class Ordering:
    """A list's order: its keys (ending with a unique one) and a name cursors carry."""

    name: str
    keys: tuple[SortKey, ...]


@dataclass(frozen=True)
class PageArgs:
    """The Relay arguments as the client sent them."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(frozen=True)
class PageWindow:
    """Validated PageArgs: the size, the direction, and the decoded cursors.

    `lead` is the cursor the page starts from in its direction of travel
    (`after` going forward, `before` going backward); `stop` is the other one.
    """

    size: int
    forward: bool
    lead: list[Any] | None
    stop: list[Any] | None


def _size(value: int, argument: str) -> int:
    if value < 0:
        raise BadUserInput(f"`{argument}` must not be negative", field=[argument])
    if value > MAX_PAGE_SIZE:
        raise BadUserInput(
            f"`{argument}` must be at most {MAX_PAGE_SIZE} (got {value})", field=[argument]
        )
    return value


def page_window(args: PageArgs, ordering: Ordering) -> PageWindow:
    """The window `args` ask for in `ordering`, or BadUserInput before any SQL."""
    if args.first is not None and args.last is not None:
        raise BadUserInput("Pass `first` or `last`, not both", field=["last"])
    after = None if args.after is None else decode_cursor(args.after, ordering, "after")
    before = None if args.before is None else decode_cursor(args.before, ordering, "before")
    if args.last is not None:
        return PageWindow(_size(args.last, "last"), False, before, after)
    size = DEFAULT_PAGE_SIZE if args.first is None else _size(args.first, "first")
    return PageWindow(size, True, after, before)


def encode_cursor(ordering: Ordering, values: Sequence[Any]) -> str:
    """An opaque cursor holding the ordering's name and one row's sort-key values."""
    encoded = [key.encode(value) for key, value in zip(ordering.keys, values, strict=True)]
    return base64.urlsafe_b64encode(orjson.dumps([ordering.name, *encoded])).decode()


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


def _check_timestamp(column_type: DateTime, value: datetime) -> None:
    if value.utcoffset() is None:
        if column_type.timezone:
            raise ValueError("a timestamp without its offset")
        return
    problem = moment_problem(value)  # beyond year 1-9999 in UTC, or asyncpg's infinities
    if problem is not None:
        raise ValueError(problem)
    if column_type.timezone and value.utcoffset() != timedelta(0):
        raise ValueError("not in UTC, as asyncpg reads a timestamptz")


def _check_numeric(column_type: Numeric[Any], value: Decimal) -> None:
    # PostgreSQL reads NUMERIC(p, s) back with exactly s decimals, and never as -0
    if column_type.scale is not None and value.as_tuple().exponent != -column_type.scale:
        raise ValueError("not written with the column's scale")
    if value.is_zero() and value.is_signed():
        raise ValueError("a negative zero")


def _check_decoded(column_type: Any, value: Any) -> None:
    """Raise ValueError for a decoded value the column could not have read back so."""
    if isinstance(value, datetime) and isinstance(column_type, DateTime):
        _check_timestamp(column_type, value)
    elif isinstance(value, Decimal) and isinstance(column_type, Numeric):
        _check_numeric(column_type, value)


def _decode_value(key: SortKey, value: Any) -> Any:
    column_type = getattr(key.column, "type", None)
    _check_raw(column_type, value)
    decoded = key.decode(value)
    _check_decoded(column_type, decoded)
    return decoded


def decode_cursor(cursor: str, ordering: Ordering, argument: str = "after") -> list[Any]:
    """The sort-key values in `cursor`, or BadUserInput naming `argument` if it is not
    a cursor this list, in this ordering, could have written."""
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(raw, list) or len(raw) != len(ordering.keys) + 1:
            raise ValueError("not the ordering's name and one value per sort key")
        if raw[0] != ordering.name:
            raise ValueError("a cursor of another ordering")
        values = [_decode_value(k, v) for k, v in zip(ordering.keys, raw[1:], strict=True)]
        if encode_cursor(ordering, values) != cursor:
            raise ValueError("another spelling of the values than the list writes")
        return values
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
    ordering: Ordering
    window: PageWindow

    @property
    def travel(self) -> tuple[SortKey, ...]:
        """The keys in the direction the page is read (reversed for `last`)."""
        keys = self.ordering.keys
        return keys if self.window.forward else tuple(k.flipped() for k in keys)

    def statement(self) -> Select[Any]:
        """The page's rows in travel order, one past the page telling if there is more."""
        travel, window = self.travel, self.window
        stmt = self.select
        if window.lead is not None:
            stmt = stmt.where(after_condition(travel, window.lead))
        if window.stop is not None:
            reverse = [k.flipped() for k in travel]
            stmt = stmt.where(after_condition(reverse, window.stop))
        return stmt.order_by(*order_by(travel)).limit(window.size + 1)

    def behind(self) -> ColumnElement[bool] | None:
        """Rows before the page's start (at or behind `lead`); None: the page starts the list.

        The page's first row is the first one past `lead`, so whatever precedes it
        is at or behind `lead`, even when the cursor's own row is gone.
        """
        lead = self.window.lead
        return None if lead is None else not_(after_condition(self.travel, lead))

    def past_stop(self) -> ColumnElement[bool] | None:
        """Rows at or past `stop` in travel order (None without a `stop`)."""
        stop = self.window.stop
        if stop is None:
            return None
        return not_(after_condition([k.flipped() for k in self.travel], stop))


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page's rows in list order and whether items exist on either side of it."""

    rows: list[T]
    has_next: bool
    has_previous: bool


def page_of(window: PageWindow, fetched: Sequence[T], behind: bool, past_stop: bool) -> Page[T]:
    """The Page from up to size + 1 rows in travel order and the two side checks."""
    rows = list(fetched[: window.size])
    # More in the direction of travel: the extra row, or rows beyond the far cursor.
    ahead = len(fetched) > window.size or past_stop
    if window.forward:
        return Page(rows, has_next=ahead, has_previous=behind)
    rows.reverse()
    return Page(rows, has_next=behind, has_previous=ahead)


async def _exists(session: AsyncSession, stmt: Select[Any], where: Any) -> bool:
    if where is None:
        return False
    return bool(await session.scalar(select(stmt.where(where).exists())))


async def load_page(
    session: AsyncSession, query: PageQuery, *, whole_rows: bool = False
) -> Page[Any]:
    """Run `query`: its rows (ORM objects, or Row tuples if `whole_rows`) and side checks.

    The far-side EXISTS runs only when the far cursor could have cut the page short.
    """
    result = await session.execute(query.statement())
    fetched = list(result.all() if whole_rows else result.scalars().all())
    behind = await _exists(session, query.select, query.behind())
    past_stop = len(fetched) <= query.window.size and await _exists(
        session, query.select, query.past_stop()
    )
    return page_of(query.window, fetched, behind, past_stop)


def build_connection(
    page: Page[Any],
    ordering: Ordering,
    key_values: Callable[[Any], Sequence[Any]],
    to_node: Callable[[Any], T],
    count_total: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """The Connection for a loaded Page."""
    edges = [
        Edge(cursor=encode_cursor(ordering, key_values(row)), node=to_node(row))
        for row in page.rows
    ]
    info = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, count_total=count_total)
