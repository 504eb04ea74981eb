"""Subscription.stockChanged: a product's stock level, live.

The first event is the level when the subscription starts; then one event per change
of its counts (an adjustment, a reservation, a release or expiry, a sale), read again
from the database each time (live.py wakes the watcher on every instance of inventory;
several changes close together may arrive as one event with the latest counts). The
staff-only fields of Stock are checked per event by their own resolvers, as in a query.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from subgraphs.common.context import Context
from subgraphs.common.errors import BadUserInput
from subgraphs.common.ids import parse_uuid

from . import stock

Level = tuple[int, int]  # (on hand, reserved)


async def _level(context: Context, product_id: uuid.UUID) -> Level:
    levels = await stock.stock_levels(context.db, [product_id])
    return levels.get(product_id, (0, 0))


def stock_levels(context: Context, product_id: str) -> AsyncIterator[Level]:
    """The stream of `product_id`'s (on hand, reserved): now, then after each change;
    BAD_USER_INPUT for an id that is not a UUID (every product id is one)."""
    parsed = parse_uuid(product_id)
    if parsed is None:
        raise BadUserInput("productId must be a product id (a UUID)", field=["productId"])
    return _changes(context, parsed)


async def _changes(context: Context, product_id: uuid.UUID) -> AsyncIterator[Level]:
    # Watching before reading: a change committed after the read wakes the watcher.
    async with context.live.watch(stock.LIVE_TOPIC, str(product_id)) as watch:
        last: Level | None = None
        while True:
            level = await _level(context, product_id)
            if level != last:
                last = level
                yield level
            await watch.changed()
