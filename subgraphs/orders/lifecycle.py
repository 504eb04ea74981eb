"""An order after checkout: PENDING_PAYMENT -> PAID -> FULFILLED, or CANCELLED."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.auth import Viewer
from subgraphs.common.database import Database
from subgraphs.common.errors import Forbidden
from subgraphs.common.types import UserError, UserErrorCode, user_error

from .checkout import release_quietly
from .clients import UpstreamError
from .models import (
    CANCELLED,
    CAPTURED,
    DECLINED,
    FULFILLED,
    PAID,
    PENDING_PAYMENT,
    REFUNDED,
    OrderRow,
    PaymentRow,
)
from .payments import PaymentProviderError
from .services import OrdersServices

logger = logging.getLogger("shopgraph.orders.lifecycle")

EXPIRE_BATCH = 100
EXPIRED = "EXPIRED"
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class OrderResult:
    order_id: uuid.UUID | None
    errors: tuple[UserError, ...] = ()


def _order_not_found(order: str) -> OrderResult:
    return OrderResult(
        None,
        (
            user_error(
                UserErrorCode.ORDER_NOT_FOUND, f"No order with id {order}", "input", "orderId"
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


def _cancel(row: OrderRow, reason: str) -> None:
    row.status = CANCELLED
    row.cancel_reason = reason
    row.cancelled_at = func.now()
    row.updated_at = func.now()


async def pay(
    db: Database,
    services: OrdersServices,
    viewer: Viewer,
    order: str,
    payment_token: str,
    idempotency_key: str,
) -> OrderResult:
    key = idempotency_key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        return OrderResult(
            None,
            (
                user_error(
                    UserErrorCode.INVALID_INPUT,
                    f"idempotencyKey must be 1-{MAX_KEY_LENGTH} characters",
                    "input",
                    "idempotencyKey",
                ),
            ),
        )
    release_after = False
    async with db.session() as session, session.begin():
        row = await _lock_order(session, viewer, order)
        if row is None:
            return _order_not_found(order)
        previous = await session.scalar(
            select(PaymentRow).where(
                PaymentRow.order_id == row.id, PaymentRow.idempotency_key == key
            )
        )
        if previous is not None:
            return OrderResult(row.id, _replayed_errors(previous.status))
        if row.status != PENDING_PAYMENT:
            return OrderResult(
                row.id,
                (
                    user_error(
                        UserErrorCode.ORDER_NOT_PAYABLE,
                        f"Order is {row.status}",
                        "input",
                        "orderId",
                    ),
                ),
            )
        now = await session.scalar(select(func.now()))
        if row.expires_at <= now:
            _cancel(row, EXPIRED)
            release_after = True
            result = OrderResult(row.id, (_expired(),))
        else:
            result = await _charge_and_commit(session, services, row, payment_token, key)
            release_after = row.status == CANCELLED
    if release_after:
        await release_quietly(services, row.id)
    return result


def _expired() -> UserError:
    return user_error(
        UserErrorCode.ORDER_EXPIRED, "The order expired before it was paid", "input", "orderId"
    )


def _replayed_errors(status: str) -> tuple[UserError, ...]:
    if status == CAPTURED:
        return ()
    if status == DECLINED:
        return (user_error(UserErrorCode.PAYMENT_DECLINED, "The payment was declined"),)
    return (
        user_error(
            UserErrorCode.SERVICE_UNAVAILABLE,
            "The payment was refunded because stock could not be confirmed; "
            "pay again with a new key",
        ),
    )


async def _charge_and_commit(
    session: AsyncSession, services: OrdersServices, row: OrderRow, token: str, key: str
) -> OrderResult:
    try:
        charge = await services.payments.charge(
            amount=row.total,
            currency=row.currency_code,
            token=token,
            idempotency_key=f"{row.id}:{key}",
        )
    except PaymentProviderError:
        logger.exception("payment provider failed for order %s", row.id)
        return OrderResult(
            row.id,
            (user_error(UserErrorCode.SERVICE_UNAVAILABLE, "Payments are unavailable; try again"),),
        )
    payment = PaymentRow(
        id=uuid.uuid4(),
        order_id=row.id,
        idempotency_key=key,
        amount=row.total,
        currency_code=row.currency_code,
        status=DECLINED,
        provider_reference=charge.reference,
    )
    session.add(payment)
    if not charge.approved:
        return OrderResult(row.id, _replayed_errors(DECLINED))
    try:
        outcome = await services.inventory.commit(row.id)
    except UpstreamError:
        logger.exception("committing stock for order %s failed; refunding", row.id)
        outcome = None
    if outcome is None or not outcome.ok:
        await services.payments.refund(charge.reference)
        payment.status = REFUNDED
        if outcome is not None:  # inventory says the reservation is gone: the order cannot be paid
            _cancel(row, EXPIRED)
            return OrderResult(row.id, (_expired(),))
        return OrderResult(row.id, _replayed_errors(REFUNDED))
    payment.status = CAPTURED
    row.status = PAID
    row.paid_at = func.now()
    row.updated_at = func.now()
    return OrderResult(row.id)


async def cancel(db: Database, services: OrdersServices, viewer: Viewer, order: str) -> OrderResult:
    """Customers cancel unpaid orders; admins also paid ones (refunded, restocked)."""
    async with db.session() as session, session.begin():
        row = await _lock_order(session, viewer, order)
        if row is None:
            return _order_not_found(order)
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
        if row.status == PAID:
            captured = (
                await session.scalars(
                    select(PaymentRow).where(
                        PaymentRow.order_id == row.id, PaymentRow.status == CAPTURED
                    )
                )
            ).all()
            for payment in captured:
                await services.payments.refund(payment.provider_reference or "")
                payment.status = REFUNDED
        _cancel(row, "ADMIN" if viewer.is_admin else "CUSTOMER")
    await release_quietly(services, row.id)
    return OrderResult(row.id)


async def fulfill(db: Database, order: str, viewer: Viewer) -> OrderResult:
    async with db.session() as session, session.begin():
        row = await _lock_order(session, viewer, order)
        if row is None:
            return _order_not_found(order)
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
    return OrderResult(row.id)


async def expire_orders(db: Database, services: OrdersServices) -> int:
    """Cancel unpaid orders past their expiry and release their stock; returns how many."""
    total = 0
    while True:
        async with db.session() as session, session.begin():
            expired = (
                await session.scalars(
                    update(OrderRow)
                    .where(
                        OrderRow.id.in_(
                            select(OrderRow.id)
                            .where(
                                OrderRow.status == PENDING_PAYMENT,
                                OrderRow.expires_at <= func.now(),
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
                    .returning(OrderRow.id)
                )
            ).all()
        for order_id in expired:
            await release_quietly(services, order_id)
        total += len(expired)
        if len(expired) < EXPIRE_BATCH:
            return total
