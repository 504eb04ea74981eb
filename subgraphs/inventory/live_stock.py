"""Subscription.stockChanged: a product's stock level, live.

The first event is the level when the subscription starts; then one event per change
of its counts (an adjustment, a reservation, a release or expiry, a sale). The level is
read once per change for all of the product's subscribers in the process (live_feed.py;
live.py wakes the feed on every instance of inventory; several changes close together
may arrive as one event with the latest counts). The staff-only fields of Stock are
checked per event by their own resolvers, as in a query.

Inventory has a row only for products whose stock was ever set, and it cannot tell a
real product that has none yet from a made-up id. So a subscription to an id without a
row is served, as level (0, 0), but counts against a small per-process budget
(SHOPGRAPH_SUBGRAPH_MAX_UNSTOCKED_WATCHES, default 50): a caller subscribing to random
ids fills that budget, not the process's whole subscription limit.
"""

from __future__ import annotations

import contextlib
import os
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping

from subgraphs.common.context import Context
from subgraphs.common.database import Database
from subgraphs.common.errors import BadUserInput
from subgraphs.common.ids import parse_uuid
from subgraphs.common.live import LiveHub, TooManySubscriptions
from subgraphs.common.live_feed import follow
from subgraphs.common.settings import positive_int

from . import stock

Level = tuple[int, int]  # (on hand, reserved)
NO_STOCK: Level = (0, 0)

ENV_MAX_UNSTOCKED = "SHOPGRAPH_SUBGRAPH_MAX_UNSTOCKED_WATCHES"
DEFAULT_MAX_UNSTOCKED = 50

# Per process (per hub): how many subscriptions watch ids that have no stock row.
_UNSTOCKED: weakref.WeakKeyDictionary[LiveHub, int] = weakref.WeakKeyDictionary()


def max_unstocked_setting(env: Mapping[str, str] = os.environ) -> int:
    """SHOPGRAPH_SUBGRAPH_MAX_UNSTOCKED_WATCHES as a positive integer (50 if unset)."""
    return positive_int(env, ENV_MAX_UNSTOCKED, DEFAULT_MAX_UNSTOCKED)


async def _level(db: Database, product_id: uuid.UUID) -> Level | None:
    """The product's level; None when inventory has no row for it."""
    levels = await stock.stock_levels(db, [product_id])
    return levels.get(product_id)


def stock_levels(context: Context, product_id: str) -> AsyncIterator[Level]:
    """The stream of `product_id`'s (on hand, reserved): now, then after each change;
    BAD_USER_INPUT for an id that is not a UUID (every product id is one)."""
    parsed = parse_uuid(product_id)
    if parsed is None:
        raise BadUserInput("productId must be a product id (a UUID)", field=["productId"])
    return _changes(context, parsed)


@contextlib.contextmanager
def _unstocked(hub: LiveHub) -> Iterator[None]:
    """One subscription to an id without a stock row; TooManySubscriptions when the
    process has its budget of them open."""
    limit = max_unstocked_setting()
    if _UNSTOCKED.get(hub, 0) >= limit:
        raise TooManySubscriptions(
            f"This server has {limit} subscriptions to products without stock open, "
            "its limit; retry later"
        )
    _UNSTOCKED[hub] = _UNSTOCKED.get(hub, 0) + 1
    try:
        yield
    finally:
        _UNSTOCKED[hub] -= 1


async def _changes(context: Context, product_id: uuid.UUID) -> AsyncIterator[Level]:
    db = context.db
    key = str(product_id)
    with contextlib.ExitStack() as unstocked:
        async with follow(
            db.live, stock.LIVE_TOPIC, key, lambda: _level(db, product_id)
        ) as levels:
            last: Level | None = None
            async for snapshot in levels:
                if snapshot is None and last is None:
                    # the first event is of an id without a row: held against the small budget
                    unstocked.enter_context(_unstocked(db.live))
                level = snapshot or NO_STOCK
                if level != last:
                    last = level
                    yield level
