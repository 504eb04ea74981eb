"""inventory's consumers: a paid order's units are sold, a cancelled order's are given back.

Each handler runs in the event's handling transaction (the framework records
the event as handled in it), so a redelivered event changes nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.events import Consumer, Event, PoisonEvent, new_event, publish_in
from subgraphs.common.ids import parse_uuid

from . import stock
from .models import COMMITTED
from .stock import PaidOutcome

logger = logging.getLogger("shopgraph.inventory.consumers")
SOURCE = "inventory"


def _uuid(data: Any, key: str, event: Event) -> uuid.UUID:
    """`data[key]` as a UUID. A malformed id is the producer's bug that no retry can fix, so
    it is a PoisonEvent: dead-lettered at once instead of after every redelivery."""
    parsed = parse_uuid(str(data.get(key))) if isinstance(data, Mapping) else None
    if parsed is None:
        raise PoisonEvent(f"{event.type}.{key} is not a UUID")
    return parsed


def _quantity(line: Mapping[str, Any], event: Event) -> int:
    """A line's quantity; PoisonEvent unless it is a positive int (a JSON bool is not one)."""
    quantity = line.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise PoisonEvent(f"{event.type}.lines[].quantity is not a positive integer")
    return quantity


def _ordered(event: Event) -> list[tuple[uuid.UUID, int]]:
    """The event's lines as (product id, quantity); PoisonEvent for any malformed line."""
    lines = event.data.get("lines") or []
    if not isinstance(lines, Sequence) or isinstance(lines, str):
        raise PoisonEvent(f"{event.type}.lines is not a list")
    return [(_uuid(line, "productId", event), _quantity(line, event)) for line in lines]


async def commit_paid_order(session: AsyncSession, event: Event, services: Any) -> None:
    """OrderPaid: sell the order's reserved units, or publish StockCommitFailed."""
    order_id = _uuid(event.data, "orderId", event)
    result = await stock.commit_paid(session, order_id, _ordered(event))
    if result.outcome is PaidOutcome.UNKNOWN:
        logger.info("OrderPaid %s: no reservation for order %s", event.id, order_id)
    if not result.failed:
        return
    data: dict[str, Any] = {"orderId": str(order_id), "reason": _reason(result)}
    if result.shortages:
        data["shortages"] = [
            {"productId": str(s.product_id), "requested": s.requested, "available": s.available}
            for s in result.shortages
        ]
    await publish_in(session, new_event("StockCommitFailed", SOURCE, data))
    logger.warning("OrderPaid %s: stock not committed (%s)", event.id, data["reason"])


def _reason(result: stock.PaidCommit) -> str:
    if result.outcome is PaidOutcome.RELEASED:
        return "RESERVATION_RELEASED"
    return "INSUFFICIENT_STOCK"


async def release_cancelled_order(session: AsyncSession, event: Event, services: Any) -> None:
    """OrderCancelled: give back the units the order still holds (a sold order keeps them)."""
    order_id = _uuid(event.data, "orderId", event)
    found = await stock.release_cancelled(session, order_id)
    if found == COMMITTED:
        logger.info(
            "OrderCancelled %s: order %s's units are sold, not released", event.id, order_id
        )


CONSUMERS = (
    Consumer(name="commit-paid", event_types=("OrderPaid",), handle=commit_paid_order),
    Consumer(
        name="release-cancelled", event_types=("OrderCancelled",), handle=release_cancelled_order
    ),
)
