"""What a `pay` idempotency key is bound to: the order and the payment token of its
first request.

A key is scoped to the order's owner. Reusing it for another order, or for the
same order with another payment token, is IDEMPOTENCY_KEY_REUSED; the token is
compared by its SHA-256, never stored. A declined payment is a recorded result,
so it uses up its key: retrying with a new token needs a new key.
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.types import UserError, UserErrorCode, user_error

from .models import OrderRow, PaymentRow


def token_hash(payment_token: str) -> str:
    """The SHA-256 of a payment token, hex: what is stored instead of the token."""
    return hashlib.sha256(payment_token.encode()).hexdigest()


def key_reused(message: str) -> UserError:
    """IDEMPOTENCY_KEY_REUSED on the input's idempotencyKey."""
    return user_error(UserErrorCode.IDEMPOTENCY_KEY_REUSED, message, "input", "idempotencyKey")


def other_token() -> UserError:
    """The key was first used with another payment token."""
    return key_reused(
        "This idempotencyKey was used with a different paymentToken; pay with a new key"
    )


async def lock_owner_keys(session: AsyncSession, owner: uuid.UUID) -> None:
    """Serialise key checks of one owner's payments until the transaction ends, so two
    orders cannot both take the same key at once."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(str(owner), 0))))


async def used_for_another_order(
    session: AsyncSession, owner: uuid.UUID, order_id: uuid.UUID, key: str
) -> UserError | None:
    """IDEMPOTENCY_KEY_REUSED if `key` paid (or is paying) another of the owner's orders."""
    paid_elsewhere = (
        select(PaymentRow.order_id)
        .join(OrderRow, OrderRow.id == PaymentRow.order_id)
        .where(PaymentRow.idempotency_key == key, OrderRow.user_id == owner)
    )
    elsewhere = await session.scalar(
        select(OrderRow.id)
        .where(
            OrderRow.user_id == owner,
            OrderRow.id != order_id,
            or_(OrderRow.payment_claim_key == key, OrderRow.id.in_(paid_elsewhere)),
        )
        .limit(1)
    )
    if elsewhere is None:
        return None
    return key_reused("This idempotencyKey was used to pay another order; pay with a new key")
