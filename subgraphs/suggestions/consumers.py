"""suggestions' consumers: OrderPlaced stores the basket, PaymentCaptured or OrderPaid marks
it bought, OrderCancelled stops it counting (counts.py keeps the counts in step, any arrival
order). Both purchase events mark it bought because a 0.00 order (100% promotion) is paid
without a charge, so it has an OrderPaid and never a PaymentCaptured; a paid order usually
has both, and marking a basket bought twice counts it once.

An event whose ids are not UUIDs names no basket: it is skipped with a warning (a
redelivery would not make it valid).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.events import Consumer, Event
from subgraphs.common.ids import parse_uuid

from . import counts
from .scoring import MAX_BASKET_PRODUCTS

logger = logging.getLogger("shopgraph.suggestions")

# a product's units in one basket are stored in an int column: more is no real order
# (orders caps a line far below), and would fail the handler on every delivery
MAX_UNITS = 2**31 - 1


def _ids(event: Event) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    """The event's order id and user id (may be absent), or None if the order id is bad."""
    order = parse_uuid(str(event.data.get("orderId")))
    if order is None:
        logger.warning("suggestions: %s %s names no order; skipped", event.type, event.id)
        return None
    user = event.data.get("userId")
    return order, parse_uuid(str(user)) if user is not None else None


def basket_lines(data: Mapping[str, Any]) -> dict[uuid.UUID, int]:
    """OrderPlaced's lines as {product id: units}, lines of one product summed; lines
    without a UUID product id or a positive integer quantity are left out; units are
    capped at MAX_UNITS. Every line is kept here (counts.py bounds what counts)."""
    units: dict[uuid.UUID, int] = {}
    lines = data.get("lines")
    for line in lines if isinstance(lines, list) else ():
        if not isinstance(line, Mapping):
            continue
        product = parse_uuid(str(line.get("productId")))
        quantity = line.get("quantity")
        if product is None or isinstance(quantity, bool) or not isinstance(quantity, int):
            continue
        if quantity > 0:
            units[product] = min(units.get(product, 0) + quantity, MAX_UNITS)
    return units


async def on_order_placed(session: AsyncSession, event: Event, services: Any) -> None:
    """Keep the basket's lines; it counts once it is bought."""
    ids = _ids(event)
    if ids is None:
        return
    lines = basket_lines(event.data)
    if len(lines) > MAX_BASKET_PRODUCTS:
        logger.warning(
            "suggestions: order %s has %d distinct products; only its first %d by id count",
            ids[0],
            len(lines),
            MAX_BASKET_PRODUCTS,
        )
    await counts.basket_placed(session, *ids, lines)


async def on_bought(session: AsyncSession, event: Event, services: Any) -> None:
    """PaymentCaptured or OrderPaid: the basket is bought, its pairs and units count (once,
    whichever of the two arrives first)."""
    ids = _ids(event)
    if ids is not None:
        await counts.basket_bought(session, *ids)


async def on_order_cancelled(session: AsyncSession, event: Event, services: Any) -> None:
    """The basket stops counting (whether it was paid or not)."""
    ids = _ids(event)
    if ids is not None:
        await counts.basket_cancelled(session, *ids)


CONSUMERS = (
    Consumer("baskets-placed", ("OrderPlaced",), on_order_placed),
    Consumer("baskets-bought", ("PaymentCaptured",), on_bought),
    # its own durable consumer, not a second type on baskets-bought: a new consumer starts at
    # the stream's first message, so the 0.00 orders paid before it existed count too
    Consumer("baskets-paid", ("OrderPaid",), on_bought),
    Consumer("baskets-cancelled", ("OrderCancelled",), on_order_cancelled),
)
