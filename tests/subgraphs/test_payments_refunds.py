"""OrderCancelled (wasPaid=true) over a real NATS JetStream refunds the captured payment once,
through the gateway, and publishes PaymentRefunded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from payments_helpers import (  # noqa: F401 (the *_fixture functions are fixtures)
    ORDER_ID,
    USER_ID,
    PaymentsApp,
    app_fixture,
    payments_fixture,
    payments_nats_fixture,
)

from subgraphs.common.events import Event, new_event
from subgraphs.common.events.broker import EventBroker
from subgraphs.common.events.envelope import encode, subject_of
from subgraphs.common.events.server import NatsServer
from tests.broker import eventually


@pytest_asyncio.fixture(name="publisher")
async def publisher_fixture(payments_nats: NatsServer) -> AsyncIterator[EventBroker]:
    broker = EventBroker(payments_nats.url, name="test-orders")
    task = asyncio.create_task(broker.run())
    await eventually(lambda: _true(broker.connected))
    yield broker
    task.cancel()
    await broker.close()


async def _true(value: bool) -> bool:
    return value


def _cancelled(was_paid: bool, order_id: str = ORDER_ID) -> Event:
    data = {"orderId": order_id, "userId": USER_ID, "reason": "OUT_OF_STOCK", "wasPaid": was_paid}
    return new_event("OrderCancelled", "orders", data)


async def _publish(broker: EventBroker, event: Event) -> None:
    await broker.publish(encode(event), subject_of(event.type), str(event.id))


async def _handled(app: PaymentsApp, event: Event) -> Any:
    rows = await app.sql("SELECT consumer FROM event_handled WHERE event_id = :id", id=event.id)
    return rows or None


async def test_a_paid_order_cancelled_is_refunded_once(
    app: PaymentsApp, publisher: EventBroker
) -> None:
    paid = await app.charge()
    event = _cancelled(was_paid=True)
    await _publish(publisher, event)
    await eventually(lambda: _handled(app, event))
    rows = await app.sql("SELECT status, reason FROM payments")
    assert rows == [("REFUNDED", "Refunded: the order's stock could not be committed")]
    charges = await app.sql("SELECT status, refunded_amount FROM fake_gateway_charges")
    assert [(s, str(a)) for s, a in charges] == [("REFUNDED", "12.50")]
    refunded = await app.sql("SELECT body->'data' FROM event_outbox WHERE type = 'PaymentRefunded'")
    assert [row[0] for row in refunded] == [
        {
            "paymentId": paid["paymentId"],
            "orderId": ORDER_ID,
            "userId": USER_ID,
            "amount": "12.50",
            "currency": "USD",
            "reason": "Refunded: the order's stock could not be committed",
        }
    ]
    again = _cancelled(was_paid=True)  # a second cancellation finds nothing captured
    await _publish(publisher, again)
    await eventually(lambda: _handled(app, again))
    assert len(await app.sql("SELECT 1 FROM event_outbox WHERE type = 'PaymentRefunded'")) == 1


async def test_an_unpaid_cancellation_or_an_unknown_order_changes_nothing(
    app: PaymentsApp, publisher: EventBroker
) -> None:
    await app.charge()
    unpaid = _cancelled(was_paid=False)
    unknown = _cancelled(was_paid=True, order_id="0c9a7d12-4b3e-4f5a-8c6d-7e8f9a0b1c2d")
    for event in (unpaid, unknown):
        await _publish(publisher, event)
        await eventually(lambda event=event: _handled(app, event))  # type: ignore[misc]
    assert await app.sql("SELECT status FROM payments") == [("CAPTURED",)]
    assert await app.sql("SELECT status FROM fake_gateway_charges") == [("CAPTURED",)]
