"""A gateway slower than payments' charge budget: chargeOrder answers PENDING within its
budget, so pay gives its designed "retry with the same key" answer (not orders' or the
router's timeout), and the charge, going on by itself, settles the order afterwards.

The timeouts are ordered so: payments' charge budget < orders' payments call timeout <
the router's default subgraph timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest_asyncio
from orders_helpers import PAY, add_to_cart, checkout, order_status, stock_settles
from subgraph_stack import CODEC, Stack, customer_token, make_product

from router.config import TrafficConfig
from subgraphs.common.database import Database
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.orders import paying
from subgraphs.orders.app import create_app as create_orders
from subgraphs.orders.settings import OrdersSettings
from subgraphs.payments.app import create_app as create_payments
from subgraphs.payments.gateways.fake import FakeGateway
from subgraphs.payments.settings import PaymentsSettings
from tests.broker import eventually

BUDGET = 0.3  # payments' charge budget here
PATIENT = 600.0  # per gateway call and per call to payments: only the budget can answer
HANG_GUARD = 60.0  # a pay still unanswered after this has hung (the bug this file is about)


@dataclass
class SlowPayments:
    """Orders that waits PATIENT for payments, on a payments whose gateway is gated."""

    orders: RunningServer
    gateway: FakeGateway


@pytest_asyncio.fixture(scope="module", loop_scope="session", name="slow")
async def slow_fixture(stack: Stack) -> AsyncIterator[SlowPayments]:
    """A second payments (its own gated fake gateway, charge budget BUDGET) and a second
    orders that calls it, on the stack's databases and broker."""
    gateway_db = Database(stack.database_urls["payments"])
    gateway = FakeGateway(gateway_db)
    payments = await start_server(
        create_payments(
            stack.database_urls["payments"],
            codec=CODEC,
            gateway=gateway,
            timeout=PATIENT,
            charge_budget=BUDGET,
            sweep_interval=0,
        )
    )
    orders = await start_server(
        create_orders(
            stack.database_urls["orders"],
            codec=CODEC,
            inventory_url=stack.url("inventory"),
            products_url=stack.url("products"),
            promotions_url=stack.url("promotions"),
            payments_url=payments.graphql_url,
            payments_call_timeout=PATIENT,
            payment_claim_ttl=timedelta(seconds=2 * PATIENT),
            sweep_interval=0,
            reservation_ttl=timedelta(minutes=15),
        )
    )
    yield SlowPayments(orders, gateway)
    await orders.stop()
    await payments.stop()
    await gateway_db.dispose()


def test_the_default_timeouts_nest() -> None:
    budget = PaymentsSettings().charge_budget
    call_timeout = OrdersSettings().payments_call_timeout
    assert budget < call_timeout < TrafficConfig().subgraph_timeout


async def test_a_gateway_slower_than_the_budget_is_unconfirmed_then_settles(
    stack: Stack, slow: SlowPayments
) -> None:
    token = customer_token()
    item = await make_product(stack, price="9.00", stock=3)
    await add_to_cart(stack, token, item["id"], 2)
    order_id = (await checkout(stack, token, "c1"))["order"]["id"]
    body = {"input": {"orderId": order_id, "idempotencyKey": "p1", "paymentToken": "tok_visa"}}

    gate = slow.gateway.response_gate = asyncio.Event()
    try:
        answered: dict[str, Any] = await asyncio.wait_for(
            stack.post(slow.orders.graphql_url, PAY, body, token), HANG_GUARD
        )
        assert slow.gateway.held == 1  # the gateway has still not answered
    finally:
        gate.set()
        slow.gateway.response_gate = None
    assert answered == {
        "data": {
            "pay": {
                "order": {"id": order_id, "status": "PENDING_PAYMENT", "paidAt": None},
                "userErrors": [
                    {"code": "SERVICE_UNAVAILABLE", "field": None, "message": paying.UNCONFIRMED}
                ],
            }
        }
    }

    async def paid() -> bool:
        return await order_status(stack, order_id) == ("PAID", None)

    await eventually(paid)  # the charge went on and its PaymentCaptured settled the order
    assert await stack.charges() == [("18.00", "CAPTURED")]
    await stock_settles(stack, item["id"], (1, 0))
