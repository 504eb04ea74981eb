"""Refunding a captured payment when its paid order is cancelled (OrderCancelled with
wasPaid=true: stock could not be committed, or an admin cancelled a paid order).

Delivery is at least once, so the gateway refund carries a key derived from the
payment id ("refund-<payment id>"): a redelivered event asks the gateway again
with the same key and nothing is refunded twice. The gateway call is inside the
consumer's transaction on purpose: it is idempotent and bounded by the timeout,
and a failure rolls the whole handling back for redelivery.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.events import Consumer, Event, new_event, publish_in
from subgraphs.common.ids import parse_uuid

from .charging import SOURCE, PaymentsServices, payment_data
from .models import CAPTURED, REFUNDED, PaymentRow

REASONS = {
    "OUT_OF_STOCK": "Refunded: the order's stock could not be committed",
    "CUSTOMER": "Refunded: the customer cancelled the order",
}


def refund_reason(cancel_reason: Any) -> str:
    """The payment's reason for a refund after an order cancelled for `cancel_reason`."""
    return REASONS.get(str(cancel_reason), f"Refunded: the order was cancelled ({cancel_reason})")


async def refund_cancelled_order(
    session: AsyncSession, event: Event, services: PaymentsServices
) -> None:
    """OrderCancelled: refund the order's captured payment, if it was paid and has one."""
    order_id = parse_uuid(str(event.data.get("orderId")))
    if event.data.get("wasPaid") is not True or order_id is None:
        return
    row = await session.scalar(
        select(PaymentRow)
        .where(PaymentRow.order_id == order_id, PaymentRow.status == CAPTURED)
        .with_for_update()
    )
    if row is None or row.reference is None:  # unknown order, or refunded already
        return
    call = services.gateway.refund(row.reference, row.amount, f"refund-{row.id}")
    await asyncio.wait_for(call, services.settings.timeout)
    row.status = REFUNDED
    row.reason = refund_reason(event.data.get("reason"))
    await publish_in(
        session,
        new_event("PaymentRefunded", SOURCE, {**payment_data(row), "reason": row.reason}),
    )


CONSUMERS = (
    Consumer(
        name="refund-cancelled",
        event_types=("OrderCancelled",),
        handle=refund_cancelled_order,
    ),
)
