"""User.orders for many users at once, for `_entities` batches.

Strawberry resolves `User.orders` once per representation; these batch
functions answer all of a request's calls together: one statement per distinct
page request (size, cursor, status) and one grouped COUNT per distinct status,
however many users are asked for.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Uuid, any_, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from subgraphs.common.database import Database
from subgraphs.common.pagination import PageQuery, SortKey

from .models import OrderRow

NEWEST_FIRST = (
    SortKey(OrderRow.created_at, True, encode=datetime.isoformat, decode=datetime.fromisoformat),
    SortKey(OrderRow.id, True, decode=uuid.UUID),
)


def filtered(stmt: Select[Any], owner: uuid.UUID | None, status: str | None) -> Select[Any]:
    """Orders of `owner` (None: everyone's), optionally only those in `status`."""
    if owner is not None:
        stmt = stmt.where(OrderRow.user_id == owner)
    if status is not None:
        stmt = stmt.where(OrderRow.status == status)
    return stmt


@dataclass(frozen=True)
class PageRequest:
    """One user's page as the field was asked for (arguments already validated)."""

    owner: uuid.UUID
    first: int | None
    after: str | None
    status: str | None

    @property
    def shape(self) -> tuple[int | None, str | None, str | None]:
        """What the statement depends on besides the owner."""
        return self.first, self.after, self.status


@dataclass(frozen=True)
class CountRequest:
    owner: uuid.UUID
    status: str | None


def _owner_ids(requests: Sequence[PageRequest] | Sequence[CountRequest]) -> Any:
    """The distinct owners as one `uuid[]` parameter: the SQL text is the same for any N."""
    owners = sorted({request.owner for request in requests})
    return bindparam("owners", owners, type_=ARRAY(Uuid()))


def _pages_statement(requests: Sequence[PageRequest]) -> Select[Any]:
    """Every owner's page (plus one row, for hasNextPage) through a LATERAL keyset scan.

    Each owner's page is an index range scan on (user_id, created_at, id) that
    stops after size + 1 rows, however many orders the owner has.
    """
    shape = requests[0]
    owner = func.unnest(_owner_ids(requests)).table_valued("user_id").render_derived("owner")
    page = filtered(select(OrderRow).where(OrderRow.user_id == owner.c.user_id), None, shape.status)
    statement, _ = PageQuery(page, NEWEST_FIRST, shape.first, shape.after).statement()
    rows = statement.lateral("page")
    return (
        select(aliased(OrderRow, rows))
        .select_from(owner)
        .join(rows, true())
        .order_by(rows.c.user_id, rows.c.created_at.desc(), rows.c.id.desc())
    )


async def load_pages(db: Database, requests: Sequence[PageRequest]) -> list[list[OrderRow]]:
    """For each request, up to size + 1 rows in page order."""
    by_shape: dict[tuple[Any, ...], list[PageRequest]] = defaultdict(list)
    for request in requests:
        by_shape[request.shape].append(request)
    found: dict[tuple[tuple[Any, ...], uuid.UUID], list[OrderRow]] = defaultdict(list)
    async with db.session() as session:
        for shape, group in by_shape.items():
            for row in (await session.scalars(_pages_statement(group))).all():
                found[shape, row.user_id].append(row)
    return [found.get((request.shape, request.owner), []) for request in requests]


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
