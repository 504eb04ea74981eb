"""Subscription.orderStatusChanged: an order's status, live (its owner or an admin).

The first event is the order as it is when the subscription starts; then one event per
status change (paid, cancelled for any reason, fulfilled). The order is read once per
change for all of its subscribers in the process (live_feed.py; live.py wakes the feed
on every instance of orders), and each subscriber checks that shared row against its
own caller (an admin, or the order's owner) before it is sent. The stream
completes after a final status (CANCELLED, FULFILLED). Someone else's order and an
order that does not exist are the same NOT_FOUND, so a subscription cannot tell
whether another customer's order exists.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from sqlalchemy import select

from subgraphs.common.auth import Viewer
from subgraphs.common.context import Context
from subgraphs.common.database import Database
from subgraphs.common.errors import NotFound
from subgraphs.common.ids import parse_uuid
from subgraphs.common.live_feed import follow
from subgraphs.common.types import echo

from .models import CANCELLED, FULFILLED, OrderRow
from .order_events import LIVE_TOPIC

FINAL = frozenset({CANCELLED, FULFILLED})


async def _current(db: Database, order_id: uuid.UUID) -> OrderRow | None:
    async with db.session() as session:
        return await session.scalar(select(OrderRow).where(OrderRow.id == order_id))


def _visible(viewer: Viewer, row: OrderRow | None, order_id: str) -> OrderRow:
    """`row` if `viewer` may watch it; NotFound (the same for missing and not theirs)."""
    if row is None or (str(row.user_id) != viewer.user_id and not viewer.is_admin):
        raise NotFound(f"No order {echo(order_id)} of yours")
    return row


async def order_rows(context: Context, order_id: str) -> AsyncIterator[OrderRow]:
    """Check the caller may watch `order_id` (UNAUTHENTICATED / NOT_FOUND), then return
    the stream of its rows: now, and after each status change until a final one."""
    viewer = context.auth.require_viewer()
    parsed = parse_uuid(order_id)
    row = await _current(context.db, parsed) if parsed is not None else None
    _visible(viewer, row, order_id)
    assert parsed is not None
    return _changes(context, viewer, parsed)


async def _changes(
    context: Context, viewer: Viewer, order_id: uuid.UUID
) -> AsyncIterator[OrderRow]:
    db = context.db
    key = str(order_id)
    async with follow(db.live, LIVE_TOPIC, key, lambda: _current(db, order_id)) as rows:
        last: str | None = None
        async for snapshot in rows:
            row = _visible(viewer, snapshot, key)
            if row.status != last:
                last = row.status
                yield row
            if row.status in FINAL:
                return
