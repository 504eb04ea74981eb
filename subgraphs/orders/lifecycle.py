"""An order after checkout: PENDING_PAYMENT -> PAID -> FULFILLED, or CANCELLED.

Paying is in paying.py; while a payment is in flight the order carries a
payment claim, which cancelling waits for and expiry leaves alone. Every
cancel publishes OrderCancelled in its transaction (payments refunds a paid
order on it) and releases the order's stock in inventory right after.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.auth import Viewer
from subgraphs.common.database import Database
from subgraphs.common.errors import Forbidden
from subgraphs.common.live import live_in
from subgraphs.common.types import UserError, UserErrorCode, echo, user_error

from .checkout import release_quietly
from .models import CANCELLED, FULFILLED, PAID, PENDING_PAYMENT, OrderRow
from .order_events import LIVE_TOPIC, publish_order_cancelled
from .services import OrdersServices

logger = logging.getLogger("shopgraph.orders.lifecycle")

EXPIRE_BATCH = 100
EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class OrderResult:
    order_id: uuid.UUID | None
    errors: tuple[UserError, ...] = ()


class ClaimWait:
    """Polls for a payment claim to clear, holding no connection between polls.

    Waiting on a row lock instead would keep a transaction (and a pooled
    connection) open for as long as the provider takes.
    """

    FIRST_DELAY = 0.02
    MAX_DELAY = 0.25

    def __init__(self, budget: float) -> None:
        self._deadline = asyncio.get_running_loop().time() + budget
        self._delay = self.FIRST_DELAY

    async def wait(self) -> bool:
        """Sleep a little; False once the budget is spent (then do not look again)."""
        remaining = self._deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return False
        await asyncio.sleep(min(self._delay, remaining))
        self._delay = min(self._delay * 2, self.MAX_DELAY)
        return True


def order_not_found(order: str) -> OrderResult:
    return OrderResult(
        None,
        (
            user_error(
                UserErrorCode.ORDER_NOT_FOUND, f"No order with id {echo(order)}", "input", "orderId"
            ),
        ),
    )


async def _lock_order(session: AsyncSession, viewer: Viewer, order: str) -> OrderRow | None:
    try:
        order_id = uuid.UUID(order)
    except ValueError:
        return None
    row = (
        await session.scalars(select(OrderRow).where(OrderRow.id == order_id).with_for_update())
    ).one_or_none()
    if row is not None and str(row.user_id) != viewer.user_id and not viewer.is_admin:
        raise Forbidden("Not allowed to change another user's order")
    return row


def mark_cancelled(row: OrderRow, reason: str) -> None:
    """Set the locked order `row` CANCELLED for `reason` (the caller publishes the event)."""
    row.status = CANCELLED
    row.cancel_reason = reason
    row.cancelled_at = func.now()
    row.updated_at = func.now()


async def cancel(db: Database, services: OrdersServices, viewer: Viewer, order: str) -> OrderResult:
    """Customers cancel unpaid orders; admins also paid ones (payments refunds them on
    OrderCancelled; releasing the reservation restocks the units).

    An order with a payment in flight is cancelled once that payment settles
    (by then it may be PAID, which a customer can no longer cancel).
    """
    claim_wait = ClaimWait(services.claim_wait)
    while True:
        result = await _cancel_unclaimed(db, viewer, order)
        if result is not None:
            break
        if not await claim_wait.wait():
            return OrderResult(
                None,
                (
                    user_error(
                        UserErrorCode.INVALID_STATUS_TRANSITION,
                        "A payment for this order is in progress; try again shortly",
                        "input",
                        "orderId",
                    ),
                ),
            )
    if result.order_id is not None and not result.errors:
        await release_quietly(services, result.order_id)
    return result


async def _cancel_unclaimed(db: Database, viewer: Viewer, order: str) -> OrderResult | None:
    """None while a payment is in flight."""
    async with db.session() as session, session.begin():
        row = await _lock_order(session, viewer, order)
        if row is None:
            return order_not_found(order)
        if row.payment_claim is not None:
            return None
        allowed = {PENDING_PAYMENT, PAID} if viewer.is_admin else {PENDING_PAYMENT}
        if row.status not in allowed:
            return OrderResult(
                row.id,
                (
                    user_error(
                        UserErrorCode.INVALID_STATUS_TRANSITION,
                        f"An order that is {row.status} cannot be cancelled",
                        "input",
                        "orderId",
                    ),
                ),
            )
        reason = "ADMIN" if viewer.is_admin else "CUSTOMER"
        await publish_order_cancelled(
            session, row.id, row.user_id, reason, was_paid=row.status == PAID
        )
        mark_cancelled(row, reason)
    return OrderResult(row.id)


async def fulfill(db: Database, order: str, viewer: Viewer) -> OrderResult:
    async with db.session() as session, session.begin():
        row = await _lock_order(session, viewer, order)
        if row is None:
            return order_not_found(order)
        if row.status != PAID:
            return OrderResult(
                row.id,
                (
                    user_error(
                        UserErrorCode.INVALID_STATUS_TRANSITION,
                        f"Only PAID orders can be fulfilled; this one is {row.status}",
                        "input",
                        "orderId",
                    ),
                ),
            )
        row.status = FULFILLED
        row.fulfilled_at = func.now()
        row.updated_at = func.now()
        # no event for this one (nothing reacts to it), only the live subscribers' wake-up
        live_in(session, LIVE_TOPIC, row.id)
    return OrderResult(row.id)


async def expire_orders(db: Database, services: OrdersServices) -> int:
    """Cancel unpaid orders past their expiry and release their stock; returns how many."""
    total = 0
    while True:
        expired = await _expire_batch(db)
        for order_id in expired:
            await release_quietly(services, order_id)
        total += len(expired)
        if len(expired) < EXPIRE_BATCH:
            return total


async def _expire_batch(db: Database) -> list[uuid.UUID]:
    """Cancel up to EXPIRE_BATCH overdue unclaimed orders, with their OrderCancelled."""
    async with db.session() as session, session.begin():
        expired = (
            await session.execute(
                update(OrderRow)
                .where(
                    OrderRow.id.in_(
                        select(OrderRow.id)
                        .where(
                            OrderRow.status == PENDING_PAYMENT,
                            OrderRow.expires_at <= func.now(),
                            # a payment in flight settles first (paying.py)
                            OrderRow.payment_claim.is_(None),
                        )
                        .limit(EXPIRE_BATCH)
                        .with_for_update(skip_locked=True)
                    )
                )
                .values(
                    status=CANCELLED,
                    cancel_reason=EXPIRED,
                    cancelled_at=func.now(),
                    updated_at=func.now(),
                )
                .returning(OrderRow.id, OrderRow.user_id)
            )
        ).all()
        for order_id, user_id in expired:
            await publish_order_cancelled(session, order_id, user_id, EXPIRED, was_paid=False)
    return [order_id for order_id, _ in expired]
