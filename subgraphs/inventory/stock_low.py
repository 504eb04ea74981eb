"""StockLow: a product's available units fell to the threshold or below.

One event per *low spell*: the first sale (a commit) or removal (a negative
adjustStock) that leaves `available <= threshold` while `low_alerted` is false
publishes StockLow and sets the flag; any change that lifts `available` above the
threshold again (a restock, a release, an expiry) clears it, so the next fall
is a new spell. A reservation alone does not alert: its units are not sold yet
and usually come back. Runs inside the caller's transaction, on stock rows that
transaction already locked, so it adds no lock waits and no deadlock order.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.events import new_event, publish_in

from .models import StockItemRow

ENV_THRESHOLD = "SHOPGRAPH_STOCK_LOW_THRESHOLD"
DEFAULT_THRESHOLD = 5
SOURCE = "inventory"


def threshold() -> int:
    """SHOPGRAPH_STOCK_LOW_THRESHOLD (default 5): alert at this many available units or fewer."""
    raw = os.environ.get(ENV_THRESHOLD)
    return int(raw) if raw else DEFAULT_THRESHOLD


async def observe(
    session: AsyncSession, product_ids: Collection[uuid.UUID], *, may_alert: bool
) -> None:
    """After stock of `product_ids` changed: end the spells that are over and, when the
    change was a sale or a removal (`may_alert`), publish StockLow for each new one."""
    if not product_ids:
        return
    limit = threshold()
    available = StockItemRow.on_hand - StockItemRow.reserved
    ids = sorted(set(product_ids))
    await session.execute(
        update(StockItemRow)
        .where(StockItemRow.product_id.in_(ids), StockItemRow.low_alerted, available > limit)
        .values(low_alerted=False)
    )
    if not may_alert:
        return
    fallen = await session.execute(
        update(StockItemRow)
        .where(StockItemRow.product_id.in_(ids), ~StockItemRow.low_alerted, available <= limit)
        .values(low_alerted=True)
        .returning(StockItemRow.product_id, available)
    )
    for product_id, units in sorted(fallen.all()):
        data = {"productId": str(product_id), "available": int(units), "threshold": limit}
        await publish_in(session, new_event("StockLow", SOURCE, data))
