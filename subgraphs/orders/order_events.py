"""The events orders publishes (OrderPlaced, OrderPaid, OrderCancelled), written into the
caller's transaction so they go out only if the change they describe is committed.
OrderPaid and OrderCancelled also notify the order's live subscribers after the commit.

Ids are strings and money is a decimal string with two places (contracts: the event
catalogue), so every consumer reads the same JSON whatever language it is written in.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.events import new_event, publish_in
from subgraphs.common.live import live_in

from .models import OrderLineRow, OrderRow

SOURCE = "orders"
# Live updates of an order's status (live.py: shop.live.orders.<orderId>).
LIVE_TOPIC = "orders"
ORDER_PLACED = "OrderPlaced"
ORDER_PAID = "OrderPaid"
ORDER_CANCELLED = "OrderCancelled"


def money(amount: Decimal) -> str:
    """An amount as the events carry it: "12.50"."""
    return f"{amount:.2f}"


def _line(row: OrderLineRow) -> dict[str, Any]:
    return {
        "productId": str(row.product_id),
        "sku": row.sku,
        "name": row.name,
        "quantity": row.quantity,
        "unitPrice": money(row.unit_price),
    }


async def publish_order_placed(
    session: AsyncSession, order: OrderRow, lines: Sequence[OrderLineRow]
) -> None:
    """OrderPlaced for a new order and its lines (checkout's transaction)."""
    # now() is the transaction's start: the order's created_at, which the row has not loaded.
    placed_at = await session.scalar(select(func.now()))
    assert placed_at is not None
    data = {
        "orderId": str(order.id),
        "userId": str(order.user_id),
        "currency": order.currency_code,
        "subtotal": money(order.subtotal),
        "discountTotal": money(order.discount_total),
        "total": money(order.total),
        "placedAt": placed_at.isoformat(),
        "lines": [_line(line) for line in lines],
    }
    await publish_in(session, new_event(ORDER_PLACED, SOURCE, data))


async def publish_order_paid(
    session: AsyncSession, order_id: uuid.UUID, payment_id: str | None
) -> None:
    """OrderPaid for an order just marked PAID in this transaction, with its lines;
    `payment_id` is None for an order of 0.00, paid without a charge."""
    order = await session.get(OrderRow, order_id)
    assert order is not None
    lines = await session.scalars(
        select(OrderLineRow)
        .where(OrderLineRow.order_id == order_id)
        .order_by(OrderLineRow.line_number)
    )
    data = {
        "orderId": str(order_id),
        "userId": str(order.user_id),
        "paymentId": payment_id,
        "currency": order.currency_code,
        "total": money(order.total),
        "lines": [_line(line) for line in lines],
    }
    await publish_in(session, new_event(ORDER_PAID, SOURCE, data))
    live_in(session, LIVE_TOPIC, order_id)


async def publish_order_cancelled(
    session: AsyncSession, order_id: uuid.UUID, user_id: uuid.UUID, reason: str, was_paid: bool
) -> None:
    """OrderCancelled; `was_paid` tells payments to refund the captured payment."""
    data = {
        "orderId": str(order_id),
        "userId": str(user_id),
        "reason": reason,
        "wasPaid": was_paid,
    }
    await publish_in(session, new_event(ORDER_CANCELLED, SOURCE, data))
    live_in(session, LIVE_TOPIC, order_id)
