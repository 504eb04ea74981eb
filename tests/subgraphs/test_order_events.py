"""orders' events: what checkout, pay, cancel and expiry publish, and what orders does with
payments' and inventory's events, end to end over the stack's nats-server.

pay answers as soon as payments has captured; the stock is sold by inventory when
OrderPaid reaches it, so what follows a payment is polled (`eventually`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest_asyncio
from orders_helpers import (
    CANCEL,
    add_to_cart,
    checkout,
    order_status,
    pay,
    payment_of,
    stock_of,
    stock_settles,
)
from subgraph_stack import Stack, customer_token, make_product, service_token

from subgraphs.common.auth import CUSTOMER, Viewer
from subgraphs.common.events import Event, Handler, new_event
from subgraphs.common.events.broker import EventBroker
from subgraphs.common.events.envelope import encode, subject_of
from subgraphs.common.events.server import NatsServer
from subgraphs.orders import lifecycle, paying, reactions
from subgraphs.orders.payment_keys import token_hash
from tests.broker import eventually

RELEASE = """
mutation ($input: ReservationIdInput!) {
  releaseReservation(input: $input) { reservation { status } userErrors { code } }
}
"""
ORDER = "query ($id: ID!) { order(id: $id) { status cancelReason } }"


async def _published(stack: Stack, order_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(type, data) of the events orders wrote about the order, oldest first."""
    rows = await stack.sql(
        "orders",
        "SELECT type, body::text FROM event_outbox WHERE body->'data'->>'orderId' = :id "
        "ORDER BY created_at, type",
        id=order_id,
    )
    return [(kind, orjson.loads(body)["data"]) for kind, body in rows]


async def _order(stack: Stack, token: str, product_id: str, quantity: int, key: str) -> str:
    await add_to_cart(stack, token, product_id, quantity)
    done = await checkout(stack, token, key)
    assert done["userErrors"] == []
    order_id: str = done["order"]["id"]
    return order_id


async def test_a_payment_sells_the_units_through_order_paid(stack: Stack) -> None:
    user = str(uuid.uuid4())
    token = customer_token(user)
    item = await make_product(stack, sku="MUG-1", name="Mug", price="12.00", stock=5)
    order_id = await _order(stack, token, item["id"], 2, "c1")
    line = {"productId": item["id"], "sku": "MUG-1", "name": "Mug", "quantity": 2}
    [(kind, placed)] = await _published(stack, order_id)
    assert kind == "OrderPlaced"
    assert datetime.fromisoformat(placed.pop("placedAt")).tzinfo is not None
    assert placed == {
        "orderId": order_id,
        "userId": user,
        "currency": "USD",
        "subtotal": "24.00",
        "discountTotal": "0.00",
        "total": "24.00",
        "lines": [{**line, "unitPrice": "12.00"}],
    }

    paid = await pay(stack, token, order_id, "p1")
    assert (paid["userErrors"], paid["order"]["status"]) == ([], "PAID")
    payment = await payment_of(stack, order_id, token)
    assert payment is not None
    assert {k: payment[k] for k in ("status", "gateway", "amount")} == {
        "status": "CAPTURED",
        "gateway": "fake",
        "amount": {"amount": "24.00", "currencyCode": "USD"},
    }
    await stock_settles(stack, item["id"], (3, 0))
    [reservation] = await stack.sql(
        "inventory", "SELECT status FROM reservations WHERE id = CAST(:id AS uuid)", id=order_id
    )
    assert reservation.status == "COMMITTED"
    assert (await _published(stack, order_id))[1] == (
        "OrderPaid",
        {
            "orderId": order_id,
            "userId": user,
            "paymentId": payment["id"],
            "currency": "USD",
            "total": "24.00",
            "lines": [{**line, "unitPrice": "12.00"}],
        },
    )


async def test_a_paid_order_whose_stock_is_gone_is_cancelled_and_refunded(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, price="10.00", stock=3)
    order_id = await _order(stack, token, item["id"], 1, "c1")
    # The reservation is gone (released in inventory) while the order is still payable.
    released = await stack.data(
        "inventory", RELEASE, {"input": {"reservationId": order_id}}, service_token()
    )
    assert released["releaseReservation"]["reservation"] == {"status": "RELEASED"}

    paid = await pay(stack, token, order_id, "p1")  # pay does not ask inventory any more
    assert (paid["userErrors"], paid["order"]["status"]) == ([], "PAID")

    # inventory: StockCommitFailed -> orders: CANCELLED, OrderCancelled(wasPaid) -> refund.
    async def refunded() -> dict[str, Any] | None:
        payment = await payment_of(stack, order_id, token)
        return payment if payment and payment["status"] == "REFUNDED" else None

    await eventually(refunded)
    assert await order_status(stack, order_id) == ("CANCELLED", "OUT_OF_STOCK")
    shown = await stack.data("orders", ORDER, {"id": order_id}, token)
    assert shown["order"] == {"status": "CANCELLED", "cancelReason": "OUT_OF_STOCK"}
    assert await stack.charges() == [("10.00", "REFUNDED")]
    assert await stock_of(stack, item["id"]) == (3, 0)
    cancelled = [data for kind, data in await _published(stack, order_id) if kind != "OrderPlaced"]
    assert [d.get("reason") for d in cancelled] == [None, "OUT_OF_STOCK"]  # OrderPaid first
    assert cancelled[1]["wasPaid"] is True


async def test_cancel_and_expiry_publish_order_cancelled(stack: Stack) -> None:
    user = str(uuid.uuid4())
    token = customer_token(user)
    item = await make_product(stack, stock=6)
    by_customer = await _order(stack, token, item["id"], 1, "c1")
    cancelled = await stack.data("orders", CANCEL, {"input": {"orderId": by_customer}}, token)
    assert cancelled["cancelOrder"]["userErrors"] == []
    overdue = await _order(stack, token, item["id"], 1, "c2")
    paid_late = await _order(stack, token, item["id"], 1, "c3")
    await stack.sql(
        "orders",
        "UPDATE orders SET expires_at = now() - interval '1 second' "
        "WHERE id IN (CAST(:a AS uuid), CAST(:b AS uuid))",
        a=overdue,
        b=paid_late,
    )
    late = await pay(stack, token, paid_late, "p1")
    assert [e["code"] for e in late["userErrors"]] == ["ORDER_EXPIRED"]
    services = stack.servers["orders"].app.config["SHOPGRAPH_SPEC"].services
    assert await lifecycle.expire_orders(stack.app_db("orders"), services) == 1

    for order_id, reason in (
        (by_customer, "CUSTOMER"),
        (overdue, "EXPIRED"),
        (paid_late, "EXPIRED"),
    ):
        assert (await _published(stack, order_id))[1:] == [
            (
                "OrderCancelled",
                {"orderId": order_id, "userId": user, "reason": reason, "wasPaid": False},
            )
        ]
    assert await stock_of(stack, item["id"]) == (6, 0)  # released at once, as before


async def _handle(stack: Stack, handler: Handler, event: Event) -> None:
    async with stack.app_db("orders").session() as session, session.begin():
        await handler(session, event, None)


def _payment_event(kind: str, claim: paying.Claim, **extra: Any) -> Event:
    data = {
        "paymentId": str(uuid.uuid4()),
        "orderId": str(claim.order_id),
        "userId": str(claim.user_id),
        "amount": "10.00",
        "currency": "USD",
        "gateway": "fake",
        "idempotencyKey": claim.payments_key,
        **extra,
    }
    return new_event(kind, "payments", data)


async def test_payment_events_settle_claims_and_unknown_orders_are_ignored(stack: Stack) -> None:
    db = stack.app_db("orders")
    user = str(uuid.uuid4())
    token = customer_token(user)
    viewer = Viewer(user, CUSTOMER)
    item = await make_product(stack, price="10.00", stock=5)
    declined_id = await _order(stack, token, item["id"], 1, "c1")
    retried_id = await _order(stack, token, item["id"], 1, "c2")
    visa = token_hash("tok_visa")
    declined = await paying.claim(db, viewer, uuid.UUID(declined_id), "p1", visa)
    retried = await paying.claim(db, viewer, uuid.UUID(retried_id), "p2", visa)
    assert isinstance(declined, paying.Claim) and isinstance(retried, paying.Claim)

    failure = _payment_event("PaymentFailed", declined, status="DECLINED", reason="Declined")
    await _handle(stack, reactions.on_payment_failed, failure)
    replay = await pay(stack, token, declined_id, "p1")
    assert [e["code"] for e in replay["userErrors"]] == ["PAYMENT_DECLINED"]
    # A failure older than the claim is an earlier attempt's under the same key: not settled.
    earlier = _payment_event("PaymentFailed", retried, status="FAILED", reason="Unavailable")
    earlier = dataclasses.replace(earlier, occurred_at=earlier.occurred_at - timedelta(hours=1))
    await _handle(stack, reactions.on_payment_failed, earlier)
    [claimed] = await stack.sql(
        "orders",
        "SELECT payment_claim IS NOT NULL FROM orders WHERE id = CAST(:id AS uuid)",
        id=retried_id,
    )
    assert claimed[0] is True

    unknown = dataclasses.replace(retried, order_id=uuid.uuid4())
    for handler, kind in (
        (reactions.on_payment_captured, "PaymentCaptured"),
        (reactions.on_payment_failed, "PaymentFailed"),
        (reactions.on_stock_commit_failed, "StockCommitFailed"),
    ):
        await _handle(stack, handler, _payment_event(kind, unknown, status="FAILED"))
    assert await order_status(stack, retried_id) == ("PENDING_PAYMENT", None)


async def test_a_capture_for_an_order_cancelled_meanwhile_is_refunded(stack: Stack) -> None:
    user = str(uuid.uuid4())
    token = customer_token(user)
    item = await make_product(stack, price="10.00", stock=5)
    order_id = await _order(stack, token, item["id"], 1, "c1")
    taken = await paying.claim(
        stack.app_db("orders"), Viewer(user, CUSTOMER), uuid.UUID(order_id), "p1", "h" * 64
    )
    assert isinstance(taken, paying.Claim)
    # The claim was given up on as uncharged and the order cancelled; then the charge lands.
    await stack.sql(
        "orders",
        "UPDATE orders SET payment_claim = NULL, payment_claim_key = NULL, "
        "payment_claimed_at = NULL, status = 'CANCELLED', cancel_reason = 'ADMIN' "
        "WHERE id = CAST(:id AS uuid)",
        id=order_id,
    )
    await _handle(stack, reactions.on_payment_captured, _payment_event("PaymentCaptured", taken))
    assert await order_status(stack, order_id) == ("CANCELLED", "ADMIN")
    assert (await _published(stack, order_id))[1:] == [
        (
            "OrderCancelled",
            {"orderId": order_id, "userId": user, "reason": "ADMIN", "wasPaid": True},
        )
    ]


@pytest_asyncio.fixture(name="publisher")
async def publisher_fixture(stack_nats: NatsServer) -> AsyncIterator[EventBroker]:
    """A publisher on the stack's nats-server, as anyone with access to it could be."""
    broker = EventBroker(stack_nats.url, name="test-forger")
    task = asyncio.create_task(broker.run())
    await eventually(lambda: _true(broker.connected))
    yield broker
    task.cancel()
    await broker.close()


async def _true(value: bool) -> bool:
    return value


async def _dead_letter(stack: Stack, event: Event) -> tuple[int, str] | None:
    rows = await stack.sql(
        "orders",
        "SELECT deliveries, error FROM event_dead_letters "
        "WHERE event_id = :id AND consumer = 'mark-paid'",
        id=event.id,
    )
    return (rows[0].deliveries, rows[0].error) if rows else None


async def test_a_capture_of_another_sum_does_not_pay_the_order(
    stack: Stack, publisher: EventBroker
) -> None:
    user = str(uuid.uuid4())
    item = await make_product(stack, price="4.20", stock=5)
    order_id = await _order(stack, customer_token(user), item["id"], 1, "c1")
    stand_in = paying.Claim(
        uuid.UUID(order_id), None, "p1", Decimal("4.20"), "USD", uuid.UUID(user)
    )
    for amount, currency in (("0.01", "USD"), ("4.20", "EUR"), ("4.2e0x", "USD")):
        forged = _payment_event("PaymentCaptured", stand_in, amount=amount, currency=currency)
        await publisher.publish(encode(forged), subject_of(forged.type), str(forged.id))
        deliveries, error = await eventually(lambda forged=forged: _dead_letter(stack, forged))
        assert deliveries == 1
        assert error.endswith(
            f"PaymentCaptured {forged.id} captured {amount!r} {currency!r}, "
            f"but order {order_id} is 4.20 USD; not marked paid"
        )
    assert await order_status(stack, order_id) == ("PENDING_PAYMENT", None)
    assert [kind for kind, _ in await _published(stack, order_id)] == ["OrderPlaced"]
    # The order's own total in its currency is what a capture must say.
    right = _payment_event("PaymentCaptured", stand_in, amount="4.20", currency="USD")
    await _handle(stack, reactions.on_payment_captured, right)
    assert (await order_status(stack, order_id))[0] == "PAID"
