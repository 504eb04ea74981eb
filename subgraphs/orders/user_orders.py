"""The orders connections: `Query.orders` and `User.orders`, the latter batched.

Strawberry resolves `User.orders` once per representation of an `_entities`
batch; `user_order_connection` answers all of a request's calls together: one
statement per distinct page request (arguments and status) for the pages, one
more per request shape that pages from a cursor (is there anything before
it?), and one grouped COUNT per distinct status, however many users are asked
for.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Uuid, any_, bindparam, exists, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from subgraphs.common.context import Context
from subgraphs.common.database import Database
from subgraphs.common.pagination import (
    Connection,
    Ordering,
    Page,
    PageArgs,
    PageQuery,
    PageWindow,
    SortKey,
    build_connection,
    load_page,
    page_of,
    page_window,
)

from .models import OrderRow

T = TypeVar("T")
NEWEST_FIRST = Ordering(
    "NEWEST",
    (
        SortKey(
            OrderRow.created_at, True, encode=datetime.isoformat, decode=datetime.fromisoformat
        ),
        SortKey(OrderRow.id, True, decode=uuid.UUID),
    ),
)


def _key_values(row: OrderRow) -> tuple[datetime, uuid.UUID]:
    return row.created_at, row.id


def filtered(stmt: Select[Any], owner: uuid.UUID | None, status: str | None) -> Select[Any]:
    """Orders of `owner` (None: everyone's), optionally only those in `status`."""
    if owner is not None:
        stmt = stmt.where(OrderRow.user_id == owner)
    if status is not None:
        stmt = stmt.where(OrderRow.status == status)
    return stmt


async def order_connection(
    db: Database,
    owner: uuid.UUID | None,
    args: PageArgs,
    status: str | None,
    to_node: Callable[[OrderRow], T],
) -> Connection[T]:
    """One page of `owner`'s orders (None: everyone's), newest first."""
    window = page_window(args, NEWEST_FIRST)
    query = PageQuery(filtered(select(OrderRow), owner, status), NEWEST_FIRST, window)
    async with db.session() as session:
        page = await load_page(session, query)

    async def count() -> int:
        counted = filtered(select(func.count(OrderRow.id)), owner, status)
        async with db.session() as session:
            return int(await session.scalar(counted) or 0)

    return build_connection(page, NEWEST_FIRST, _key_values, to_node, count)


async def user_order_connection(
    context: Context,
    owner: uuid.UUID,
    args: PageArgs,
    status: str | None,
    to_node: Callable[[OrderRow], T],
) -> Connection[T]:
    """One user's orders through the request's loaders, so N users cost the SQL of one."""
    page_window(args, NEWEST_FIRST)  # bad arguments fail this field, not the batch

    async def pages(requests: Sequence[PageRequest]) -> list[Page[OrderRow]]:
        return await load_pages(context.db, requests)

    async def counts(requests: Sequence[CountRequest]) -> list[int]:
        return await load_counts(context.db, requests)

    page = await context.loader("user_order_pages", pages).load(PageRequest(owner, args, status))

    async def count() -> int:
        return await context.loader("user_order_counts", counts).load(CountRequest(owner, status))

    return build_connection(page, NEWEST_FIRST, _key_values, to_node, count)


@dataclass(frozen=True)
class PageRequest:
    """One user's page as the field was asked for (arguments already validated)."""

    owner: uuid.UUID
    args: PageArgs
    status: str | None

    @property
    def shape(self) -> tuple[PageArgs, str | None]:
        """What the statement depends on besides the owner."""
        return self.args, self.status


@dataclass(frozen=True)
class CountRequest:
    owner: uuid.UUID
    status: str | None


def _owner_ids(requests: Sequence[PageRequest] | Sequence[CountRequest]) -> Any:
    """The distinct owners as one `uuid[]` parameter: the SQL text is the same for any N."""
    owners = sorted({request.owner for request in requests})
    return bindparam("owners", owners, type_=ARRAY(Uuid()))


def _owners(requests: Sequence[PageRequest]) -> Any:
    return func.unnest(_owner_ids(requests)).table_valued("user_id").render_derived("owner")


def _pages_statement(requests: Sequence[PageRequest], window: PageWindow) -> Select[Any]:
    """Every owner's page (plus one row, for more) through a LATERAL keyset scan.

    Each owner's page is an index range scan on (user_id, created_at, id) that
    stops after size + 1 rows, however many orders the owner has.
    """
    owner = _owners(requests)
    page = select(OrderRow).where(OrderRow.user_id == owner.c.user_id)
    page = filtered(page, None, requests[0].status)
    rows = PageQuery(page, NEWEST_FIRST, window).statement().lateral("page")
    return select(aliased(OrderRow, rows)).select_from(owner).join(rows, true())


def _owners_with(
    requests: Sequence[PageRequest], condition: ColumnElement[bool] | None
) -> Select[Any] | None:
    """The owners having an order (in the status) that meets `condition`; None: no check."""
    if condition is None:
        return None
    owner = _owners(requests)
    theirs = select(OrderRow.id).where(OrderRow.user_id == owner.c.user_id, condition)
    return select(owner.c.user_id).where(exists(filtered(theirs, None, requests[0].status)))


async def _load_shape(
    session: Any, group: Sequence[PageRequest], window: PageWindow
) -> dict[uuid.UUID, Page[OrderRow]]:
    """The pages of one request shape, for each of its owners."""
    fetched: dict[uuid.UUID, list[OrderRow]] = defaultdict(list)
    for row in (await session.scalars(_pages_statement(group, window))).all():
        fetched[row.user_id].append(row)
    sides = PageQuery(select(OrderRow), NEWEST_FIRST, window)
    found: list[set[uuid.UUID]] = []
    for check in (_owners_with(group, sides.behind()), _owners_with(group, sides.past_stop())):
        found.append(set() if check is None else set((await session.scalars(check)).all()))
    behind, past_stop = found
    pages = {}
    for owner in {request.owner for request in group}:
        # travel order: newest first going forward, oldest first going backward
        rows = sorted(fetched[owner], key=_key_values, reverse=window.forward)
        pages[owner] = page_of(window, rows, owner in behind, owner in past_stop)
    return pages


async def load_pages(db: Database, requests: Sequence[PageRequest]) -> list[Page[OrderRow]]:
    """For each request, its Page."""
    by_shape: dict[tuple[Any, ...], list[PageRequest]] = defaultdict(list)
    for request in requests:
        by_shape[request.shape].append(request)
    found: dict[tuple[tuple[Any, ...], uuid.UUID], Page[OrderRow]] = {}
    async with db.session() as session:
        for shape, group in by_shape.items():
            window = page_window(group[0].args, NEWEST_FIRST)
            for owner, page in (await _load_shape(session, group, window)).items():
                found[shape, owner] = page
    return [found[request.shape, request.owner] for request in requests]


async def load_counts(db: Database, requests: Sequence[CountRequest]) -> list[int]:
    """For each request, how many orders its owner has (in its status)."""
    by_status: dict[str | None, list[CountRequest]] = defaultdict(list)
    for request in requests:
        by_status[request.status].append(request)
    found: dict[tuple[str | None, uuid.UUID], int] = {}
    async with db.session() as session:
        for status, group in by_status.items():
            counted = select(OrderRow.user_id, func.count(OrderRow.id)).where(
                OrderRow.user_id == any_(_owner_ids(group))
            )
            counted = filtered(counted, None, status).group_by(OrderRow.user_id)
            for user_id, count in (await session.execute(counted)).all():
                found[status, user_id] = count
    return [found.get((request.status, request.owner), 0) for request in requests]
