"""A checkout whose inventory call fails or times out leaves no order and holds no stock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import pytest_asyncio
from fault_proxy import LOSE_RESPONSE, PASS, REFUSE, SLOW_REQUEST, SLOW_RESPONSE, FaultProxy
from orders_helpers import CHECKOUT, add_to_cart, stock_of
from subgraph_stack import CODEC, Stack, customer_token, make_product

from subgraphs.common.serve import RunningServer, start_server
from subgraphs.stack import create_app

TIMEOUT = 0.5
# Whether inventory had reserved (and so compensation had real units to give back).
RESERVED_BEFORE_FAILURE = {
    REFUSE: False,
    LOSE_RESPONSE: True,
    SLOW_RESPONSE: True,
    SLOW_REQUEST: False,
}


@dataclass
class FaultyOrders:
    proxy: FaultProxy
    orders: RunningServer


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def faulty(stack: Stack) -> AsyncIterator[FaultyOrders]:
    proxy = FaultProxy(stack.servers["inventory"].url, delay=3 * TIMEOUT)
    proxy_server = await start_server(proxy)  # type: ignore[arg-type]
    orders = await start_server(
        create_app(
            "orders",
            stack.database_urls["orders"],
            codec=CODEC,
            inventory_url=proxy_server.graphql_url,
            products_url=stack.servers["products"].graphql_url,
            promotions_url=stack.url("promotions"),
            upstream_timeout=TIMEOUT,
            sweep_interval=0,
            reservation_ttl=timedelta(minutes=15),
        )
    )
    yield FaultyOrders(proxy, orders)
    await orders.stop()
    await proxy_server.stop()


@pytest.mark.parametrize("mode", [REFUSE, LOSE_RESPONSE, SLOW_RESPONSE, SLOW_REQUEST])
async def test_failed_inventory_call_leaves_nothing_behind(
    stack: Stack, faulty: FaultyOrders, mode: str
) -> None:
    token = customer_token()
    item = await make_product(stack, stock=5)
    await add_to_cart(stack, token, item["id"], 2)

    faulty.proxy.mode = mode
    try:
        body = await stack.post(
            faulty.orders.graphql_url, CHECKOUT, {"input": {"idempotencyKey": "k1"}}, token
        )
        await faulty.proxy.idle()  # let a late reserve reach inventory before we look
    finally:
        faulty.proxy.mode = PASS

    assert "errors" not in body
    assert body["data"]["checkout"]["order"] is None
    assert [e["code"] for e in body["data"]["checkout"]["userErrors"]] == ["SERVICE_UNAVAILABLE"]
    assert await stack.sql("orders", "SELECT id FROM orders") == []
    assert await stock_of(stack, item["id"]) == (5, 0)
    held = await stack.sql(
        "inventory", "SELECT id FROM reservations WHERE status IN ('ACTIVE', 'COMMITTED')"
    )
    assert held == []
    released = await stack.sql(
        "inventory",
        "SELECT r.status, count(l.product_id) AS lines FROM reservations r "
        "LEFT JOIN reservation_lines l ON l.reservation_id = r.id GROUP BY r.id",
    )
    # Compensation ran in every case: a released reservation, or a tombstone that
    # turned the late reserve away.
    assert [(r.status, r.lines > 0) for r in released] == [
        ("RELEASED", RESERVED_BEFORE_FAILURE[mode])
    ]
    cart = await stack.data("orders", "{ cart { totalQuantity } }", token=token)
    assert cart["cart"]["totalQuantity"] == 2

    # Once inventory answers again, retrying with the same key checks out normally.
    retry = await stack.post(
        faulty.orders.graphql_url, CHECKOUT, {"input": {"idempotencyKey": "k1"}}, token
    )
    assert retry["data"]["checkout"]["userErrors"] == []
    assert retry["data"]["checkout"]["order"]["status"] == "PENDING_PAYMENT"
    assert await stock_of(stack, item["id"]) == (5, 2)
