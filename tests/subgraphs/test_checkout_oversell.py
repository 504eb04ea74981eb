"""50 concurrent checkouts against 20 units: exactly 20 sold, never negative, no orphans."""

from __future__ import annotations

import asyncio
import uuid

from orders_helpers import add_to_cart, checkout, pay, stock_of, stock_settles
from subgraph_stack import Stack, customer_token, make_product

CUSTOMERS = 50
UNITS = 20


async def test_fifty_concurrent_checkouts_sell_exactly_twenty_units(stack: Stack) -> None:
    item = await make_product(stack, price="9.99", stock=UNITS)
    tokens = [customer_token() for _ in range(CUSTOMERS)]
    added = await asyncio.gather(*(add_to_cart(stack, t, item["id"]) for t in tokens))
    assert all(a["userErrors"] == [] for a in added)

    lowest_available = UNITS
    running = True

    async def watch_stock() -> None:
        nonlocal lowest_available
        while running:
            on_hand, reserved = await stock_of(stack, item["id"])
            lowest_available = min(lowest_available, on_hand - reserved)
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch_stock())
    results = await asyncio.gather(
        *(checkout(stack, t, f"oversell-{uuid.uuid4()}") for t in tokens)
    )
    running = False
    await watcher

    orders = [r["order"] for r in results if r["order"] is not None]
    refused = [r["userErrors"] for r in results if r["order"] is None]
    assert len(orders) == UNITS
    assert all(r["userErrors"] == [] for r in results if r["order"] is not None)
    assert len(refused) == CUSTOMERS - UNITS
    assert {e[0]["code"] for e in refused} == {"INSUFFICIENT_STOCK"}
    assert lowest_available >= 0
    assert await stock_of(stack, item["id"]) == (UNITS, UNITS)

    order_ids = {o["id"] for o in orders}
    stored_orders = await stack.sql("orders", "SELECT id::text AS id FROM orders")
    assert {r.id for r in stored_orders} == order_ids
    reservations = await stack.sql(
        "inventory",
        "SELECT r.id::text AS id, r.status, l.quantity FROM reservations r "
        "LEFT JOIN reservation_lines l ON l.reservation_id = r.id",
    )
    # Every order has its reservation and there is no reservation without an order.
    assert {r.id for r in reservations} == order_ids
    assert {(r.status, r.quantity) for r in reservations} == {("ACTIVE", 1)}

    paid = await asyncio.gather(
        *(
            pay(stack, tokens[i], r["order"]["id"], "pay-1")
            for i, r in enumerate(results)
            if r["order"] is not None
        )
    )
    assert {p["order"]["status"] for p in paid} == {"PAID"}
    await stock_settles(stack, item["id"], (0, 0))  # inventory sells them on OrderPaid
    statuses = await stack.sql("inventory", "SELECT DISTINCT status FROM reservations")
    assert [s.status for s in statuses] == ["COMMITTED"]
