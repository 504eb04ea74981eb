"""The incremental path: each event moves one basket, and the counts follow at once.

Every change of the counted baskets first bumps `counts_state.version` (taking that
row's lock), then adds or subtracts the basket's pairs and units. Holding that lock
serialises the writers of the counts (no deadlock between two baskets sharing
products) and lets the full recompute see whether anything changed since its snapshot
(recompute.py takes the same row lock to swap).

A basket counts with at most MAX_BASKET_PRODUCTS products, its first by id (scoring.py
says why): every statement below reads the basket's lines through that bound, so one
event's work is bounded (at most 100 x 99 pairs in one INSERT) even for a basket stored
before the bound existed, and subtracting a basket takes away exactly what adding it
added.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .models import BasketRow, CountsStateRow
from .scoring import MAX_BASKET_PRODUCTS


@dataclass(frozen=True)
class BasketState:
    """How far one basket got: lines known, bought, cancelled."""

    placed: bool
    bought: bool
    cancelled: bool

    @property
    def counted(self) -> bool:
        """Whether its pairs and units are in the counts."""
        return self.placed and self.bought and not self.cancelled


_LOCK_BASKET = text(
    "INSERT INTO baskets (order_id, user_id) VALUES (:order, :user) "
    "ON CONFLICT (order_id) DO UPDATE SET user_id = COALESCE(baskets.user_id, excluded.user_id) "
    "RETURNING placed, bought, cancelled"
)
_BUMP_VERSION = (
    insert(CountsStateRow)
    .values(id=1, version=1)
    .on_conflict_do_update(
        index_elements=[CountsStateRow.id], set_={"version": CountsStateRow.version + 1}
    )
)
# the basket's counted lines: its first MAX_BASKET_PRODUCTS products by id
_KEPT = (
    "WITH kept AS (SELECT product_id, quantity FROM basket_lines WHERE order_id = :order "
    f"ORDER BY product_id LIMIT {MAX_BASKET_PRODUCTS}) "
)
_ADD_PAIRS = text(
    _KEPT + "INSERT INTO co_purchases (product_id, other_id, baskets) "
    "SELECT a.product_id, b.product_id, 1 FROM kept a JOIN kept b "
    "ON b.product_id <> a.product_id ORDER BY 1, 2 "
    "ON CONFLICT (product_id, other_id) DO UPDATE SET baskets = co_purchases.baskets + 1"
)
_SUBTRACT_PAIRS = text(
    _KEPT + "UPDATE co_purchases c SET baskets = c.baskets - 1 FROM kept a JOIN kept b "
    "ON b.product_id <> a.product_id "
    "WHERE c.product_id = a.product_id AND c.other_id = b.product_id"
)
_ADD_SALES = text(
    _KEPT + "INSERT INTO product_sales (product_id, quantity, baskets) "
    "SELECT product_id, quantity, 1 FROM kept ORDER BY 1 "
    "ON CONFLICT (product_id) DO UPDATE SET quantity = product_sales.quantity + "
    "excluded.quantity, baskets = product_sales.baskets + 1"
)
_SUBTRACT_SALES = text(
    _KEPT + "UPDATE product_sales s SET quantity = s.quantity - k.quantity, "
    "baskets = s.baskets - 1 FROM kept k WHERE s.product_id = k.product_id"
)
_DROP_EMPTY = (
    text(
        _KEPT + "DELETE FROM co_purchases WHERE baskets <= 0 AND product_id IN "
        "(SELECT product_id FROM kept)"
    ),
    text(
        _KEPT + "DELETE FROM product_sales WHERE baskets <= 0 AND product_id IN "
        "(SELECT product_id FROM kept)"
    ),
)
_STORE_LINES = text(
    "INSERT INTO basket_lines (order_id, product_id, quantity) "
    "SELECT :order, p, q FROM unnest(CAST(:products AS uuid[]), CAST(:quantities AS int[])) "
    "AS l(p, q)"
)


async def _lock(session: AsyncSession, order: uuid.UUID, user: uuid.UUID | None) -> BasketState:
    """The basket's state, its row created if new and locked until the transaction ends."""
    row = (await session.execute(_LOCK_BASKET, {"order": order, "user": user})).one()
    return BasketState(row.placed, row.bought, row.cancelled)


async def _count(session: AsyncSession, order: uuid.UUID, sign: int) -> None:
    """Add (sign 1) or subtract (-1) the basket's pairs and units."""
    await session.execute(_BUMP_VERSION)
    if sign > 0:
        await session.execute(_ADD_PAIRS, {"order": order})
        await session.execute(_ADD_SALES, {"order": order})
        return
    await session.execute(_SUBTRACT_PAIRS, {"order": order})
    await session.execute(_SUBTRACT_SALES, {"order": order})
    for statement in _DROP_EMPTY:
        await session.execute(statement, {"order": order})


async def _set(session: AsyncSession, order: uuid.UUID, column: str) -> None:
    """Set the basket's flag `column` (placed, bought or cancelled)."""
    await session.execute(
        update(BasketRow)
        .where(BasketRow.order_id == order)
        .values({column: True, BasketRow.updated_at: func.now()})
    )


async def basket_placed(
    session: AsyncSession,
    order: uuid.UUID,
    user: uuid.UUID | None,
    lines: Mapping[uuid.UUID, int],
) -> None:
    """OrderPlaced: keep the basket's lines (once, its first MAX_BASKET_PRODUCTS products
    by id: the others would never count); count it if it was already bought."""
    state = await _lock(session, order, user)
    if state.placed:
        return
    kept = sorted(lines)[:MAX_BASKET_PRODUCTS]
    if kept:
        params = {"order": order, "products": kept, "quantities": [lines[p] for p in kept]}
        await session.execute(_STORE_LINES, params)
    await _set(session, order, "placed")
    if state.bought and not state.cancelled:
        await _count(session, order, 1)


async def basket_bought(session: AsyncSession, order: uuid.UUID, user: uuid.UUID | None) -> None:
    """PaymentCaptured or OrderPaid: the basket is bought; count it if its lines are known
    (the second of the two finds it bought already and changes nothing)."""
    state = await _lock(session, order, user)
    if state.bought:
        return
    await _set(session, order, "bought")
    if state.placed and not state.cancelled:
        await _count(session, order, 1)


async def basket_cancelled(session: AsyncSession, order: uuid.UUID, user: uuid.UUID | None) -> None:
    """OrderCancelled: the basket stops counting, for good."""
    state = await _lock(session, order, user)
    if state.cancelled:
        return
    await _set(session, order, "cancelled")
    if state.counted:
        await _count(session, order, -1)
