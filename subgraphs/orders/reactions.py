"""What orders does when other services' events arrive.

The events framework (subgraphs.common.events) runs each handler in one
transaction on orders' database and records the event as handled in it, so a
redelivered event is skipped; everything below only has to be right once.

- PaymentCaptured: a PENDING_PAYMENT order becomes PAID and OrderPaid goes out,
  as `pay` would have done: this settles a payment whose answer `pay` never got
  (its claim is cleared; the customer's retry with the same key replays PAID).
  Only a capture of exactly the order's total in its currency counts; any other
  is dead-lettered (PoisonEvent) and changes nothing.
- PaymentFailed: the claim that made that charge is settled (DECLINED recorded,
  FAILED: nothing charged, the key is free again).
- StockCommitFailed: inventory could not sell a PAID order's units; the order
  is cancelled (OUT_OF_STOCK) and OrderCancelled with wasPaid makes payments
  refund it.

An order orders does not know is not an error (the event may be about an order
of a database that was emptied since): the handler does nothing.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.events import Consumer, Event, PoisonEvent

from .lifecycle import mark_cancelled
from .models import (
    CANCELLED,
    CAPTURED,
    DECLINED,
    OUT_OF_STOCK,
    PAID,
    PENDING_PAYMENT,
    OrderRow,
    PaymentRow,
)
from .order_events import publish_order_cancelled
from .paying import Claim, Outcome, payments_key, record_in

logger = logging.getLogger("shopgraph.orders.reactions")


def _order_id(event: Event) -> uuid.UUID:
    """The event's orderId; ValueError (a poison message) if it has none or a bad one."""
    try:
        return uuid.UUID(str(event.data["orderId"]))
    except (KeyError, ValueError) as error:
        raise ValueError(f"{event.type} {event.id} has no valid orderId") from error


async def _locked_order(session: AsyncSession, order_id: uuid.UUID) -> OrderRow | None:
    return (
        await session.scalars(select(OrderRow).where(OrderRow.id == order_id).with_for_update())
    ).one_or_none()


def _claim_of(row: OrderRow, charged_key: str) -> Claim | None:
    """The order's claim if it is the one that charged under `charged_key`."""
    if row.payment_claim is None or row.payment_claim_key is None:
        return None
    if payments_key(row.id, row.payment_claim_token_hash, row.payment_claim_key) != charged_key:
        return None
    return Claim(
        row.id,
        row.payment_claim,
        row.payment_claim_key,
        row.total,
        row.currency_code,
        row.user_id,
        row.payment_claim_token_hash,
    )


def _unclaimed(row: OrderRow, charged_key: str) -> Claim:
    """A stand-in claim for a charge whose claim is gone: the pay key is the last part of
    payments' key (see paying.payments_key); the token's hash is not known any more."""
    parts = charged_key.split(":", 2)
    key = parts[2] if len(parts) == 3 and parts[0] == str(row.id) else charged_key
    return Claim(row.id, row.payment_claim, key[:200], row.total, row.currency_code, row.user_id)


def _decimal(value: object) -> Decimal | None:
    """A money string or int as a finite Decimal; None for anything else."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None


def _check_captured_sum(row: OrderRow, event: Event) -> None:
    """PoisonEvent unless the event captured exactly the order's total in its currency.

    Defence in depth: anyone able to publish to the broker could otherwise mark an
    order PAID with a capture of one cent. Such an event is dead-lettered (with an
    ERROR line and the metric), so it is seen, and the order stays as it is.
    """
    raw_amount, currency = event.data.get("amount"), event.data.get("currency")
    if _decimal(raw_amount) == row.total and currency == row.currency_code:
        return
    raise PoisonEvent(
        f"{event.type} {event.id} captured {str(raw_amount)[:40]!r} {str(currency)[:10]!r}, "
        f"but order {row.id} is {row.total} {row.currency_code}; not marked paid"
    )


async def on_payment_captured(session: AsyncSession, event: Event, services: object) -> None:
    """Mark the order PAID (with OrderPaid) unless that is done already; a capture of
    another sum than the order's total is a PoisonEvent (see `_check_captured_sum`)."""
    row = await _locked_order(session, _order_id(event))
    if row is None:
        return
    _check_captured_sum(row, event)
    payment_id = str(event.data["paymentId"])
    charged_key = str(event.data.get("idempotencyKey", ""))
    if row.status == PENDING_PAYMENT:
        claim = _claim_of(row, charged_key) or _unclaimed(row, charged_key)
        await record_in(session, claim, Outcome(CAPTURED, payment_id))
        return
    known = await session.scalar(
        select(PaymentRow.id).where(
            PaymentRow.order_id == row.id, PaymentRow.provider_reference == payment_id
        )
    )
    if known is None:
        await _captured_too_late(session, row, payment_id)


async def _captured_too_late(session: AsyncSession, row: OrderRow, payment_id: str) -> None:
    """A charge that landed after its order stopped being payable (its claim was given up
    on as uncharged): a cancelled order's money goes back through payments' refund."""
    logger.warning(
        "payment %s was captured for order %s, which is %s", payment_id, row.id, row.status
    )
    if row.status == CANCELLED and row.paid_at is None:
        reason = row.cancel_reason or "EXPIRED"
        await publish_order_cancelled(session, row.id, row.user_id, reason, was_paid=True)


async def on_payment_failed(session: AsyncSession, event: Event, services: object) -> None:
    """Settle the claim that made the failed charge (if it is still on the order)."""
    row = await _locked_order(session, _order_id(event))
    if row is None:
        return
    claim = _claim_of(row, str(event.data.get("idempotencyKey", "")))
    # A claim made after the failure is a retry with the same key: not this charge's.
    if claim is None or (row.payment_claimed_at or event.occurred_at) > event.occurred_at:
        return
    declined = event.data.get("status") == DECLINED
    payment_id = str(event.data.get("paymentId")) if declined else None
    await record_in(session, claim, Outcome(DECLINED if declined else None, payment_id))


async def on_stock_commit_failed(session: AsyncSession, event: Event, services: object) -> None:
    """Cancel the PAID order whose units could not be sold; payments refunds it."""
    row = await _locked_order(session, _order_id(event))
    if row is None or row.status != PAID:
        if row is not None and row.status != CANCELLED:  # cancelled: released on purpose
            logger.warning("stock of order %s not committed; it is %s", row.id, row.status)
        return
    mark_cancelled(row, OUT_OF_STOCK)
    await publish_order_cancelled(session, row.id, row.user_id, OUT_OF_STOCK, was_paid=True)


CONSUMERS = (
    Consumer("mark-paid", ("PaymentCaptured",), on_payment_captured),
    Consumer("settle-failed", ("PaymentFailed",), on_payment_failed),
    Consumer("out-of-stock", ("StockCommitFailed",), on_stock_commit_failed),
)
