"""Subscriptions across service instances and in bad weather: a change made by one orders
process reaches the watchers of another (NATS core fan-out), a closed socket leaves no
watcher or task behind, the per-process limit refuses with a code, and with NATS
unreachable an instance keeps serving (subscriptions just get no further events)."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from live_helpers import (
    PUBLIC_STOCK_WATCH,
    completed,
    live_socket,
    next_payload,
    receive,
    send,
    start,
)
from orders_helpers import PAY, add_to_cart, checkout
from sqlalchemy import event
from subgraph_stack import ADJUST_STOCK, CODEC, Stack, admin_token, customer_token, make_product
from test_shop_subscriptions import ORDER_WATCH, order_event, placed_order

from subgraphs.common.events.server import NatsServer
from subgraphs.common.live import DROPPED, ENV_MAX_SUBSCRIPTIONS, LiveHub
from subgraphs.common.live_feed import feeds_running
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.common.ws import DEFAULT_MAX_OPERATIONS, ENV_MAX_OPERATIONS
from subgraphs.inventory.app import create_app as create_inventory_app
from subgraphs.inventory.live_stock import ENV_MAX_UNSTOCKED
from subgraphs.orders.app import create_app as create_orders_app
from tests.broker import eventually, free_port, start_nats


def hub_of(server: RunningServer) -> LiveHub:
    """The live hub of a running subgraph app."""
    hub: LiveHub = server.app.config["SHOPGRAPH_DB"].live
    return hub


async def second_orders(stack: Stack) -> RunningServer:
    """Another orders process on the stack's database and subgraphs (stopped with the stack)."""
    urls = {f"{n}_url": stack.url(n) for n in ("inventory", "products", "promotions", "payments")}
    app = create_orders_app(
        stack.database_urls["orders"],
        codec=CODEC,
        sweep_interval=0,
        upstream_timeout=10,
        reservation_ttl=timedelta(minutes=15),
        **urls,
    )
    server = await start_server(app)
    stack.extra.append(server)
    async with asyncio.timeout(15):
        await hub_of(server).listening.wait()
    return server


async def test_a_payment_on_one_instance_reaches_the_watchers_of_both(stack: Stack) -> None:
    other = await second_orders(stack)
    token = customer_token()
    order_id, product_id = await placed_order(stack, token)
    pending = order_event(order_id, "PENDING_PAYMENT", product_id)
    async with (
        live_socket(stack.url("orders"), token) as here,
        live_socket(other.graphql_url, token) as there,
    ):
        for socket in (here, there):
            await start(socket, "1", ORDER_WATCH, {"id": order_id})
            assert await next_payload(socket, "1") == pending
        variables = {
            "input": {"orderId": order_id, "idempotencyKey": "k1", "paymentToken": "tok_visa"}
        }
        paid = await stack.post(other.graphql_url, PAY, variables, token)
        assert paid["data"]["pay"]["userErrors"] == []
        for socket in (here, there):
            assert await next_payload(socket, "1") == order_event(order_id, "PAID", product_id)


def _operation_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("ws-operation-")]


async def test_a_closed_socket_leaves_no_watcher_and_no_task(stack: Stack) -> None:
    hub = hub_of(stack.servers["orders"])
    token = customer_token()
    order_id, _ = await placed_order(stack, token)
    async with live_socket(stack.url("orders"), token) as socket:
        await start(socket, "1", ORDER_WATCH, {"id": order_id})
        await next_payload(socket, "1")
        assert hub.active == 1
        assert len(_operation_tasks()) == 1

    async def released() -> bool:
        return hub.active == 0 and not _operation_tasks()

    await eventually(released)


async def test_completing_an_operation_releases_its_watcher(stack: Stack) -> None:
    hub = hub_of(stack.servers["inventory"])
    product = await make_product(stack, name="Live pot", stock=1)
    async with live_socket(stack.url("inventory")) as socket:
        await start(socket, "s", PUBLIC_STOCK_WATCH, {"id": product["id"]})
        assert await next_payload(socket, "s") == {"data": {"stockChanged": {"available": 1}}}
        await send(socket, {"id": "s", "type": "complete"})
        await send(socket, {"type": "ping"})
        assert await receive(socket) == {"type": "pong"}
        await eventually(lambda: _async(hub.active == 0))


async def _async(value: bool) -> bool:
    return value


async def lonely_inventory(stack: Stack, **environment: str) -> RunningServer:
    """Another inventory process on the stack's database, made and started with these
    environment variables set."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        app = create_inventory_app(stack.database_urls["inventory"], codec=CODEC, sweep_interval=0)
        server = await start_server(app)
    stack.extra.append(server)
    return server


async def test_the_process_limit_refuses_with_a_code(stack: Stack) -> None:
    server = await lonely_inventory(stack, **{ENV_MAX_SUBSCRIPTIONS: "1"})
    product = await make_product(stack, name="Live jar", stock=2)
    async with live_socket(server.graphql_url) as socket:
        await start(socket, "a", PUBLIC_STOCK_WATCH, {"id": product["id"]})
        assert await next_payload(socket, "a") == {"data": {"stockChanged": {"available": 2}}}
        await start(socket, "b", PUBLIC_STOCK_WATCH, {"id": product["id"]})
        error = {
            "message": "This server has 1 subscriptions open, its limit; retry later",
            "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"},
        }
        assert await next_payload(socket, "b") == {"errors": [error]}
        await completed(socket, "b")


async def test_without_nats_an_instance_serves_and_drops_notifications(stack: Stack) -> None:
    server = await lonely_inventory(stack, SHOPGRAPH_NATS_URL=f"nats://127.0.0.1:{free_port()}")
    product = await make_product(stack, name="Live lid", stock=2)
    dropped = DROPPED.labels("inventory")
    before = dropped._value.get()
    async with live_socket(server.graphql_url) as socket:
        await start(socket, "s", PUBLIC_STOCK_WATCH, {"id": product["id"]})
        assert await next_payload(socket, "s") == {"data": {"stockChanged": {"available": 2}}}
        token = customer_token()
        await add_to_cart(stack, token, product["id"], 1)
        # the write goes through this instance: it succeeds, its notification is dropped
        adjusted = await set_stock_via(stack, server, product["id"])
        assert adjusted["userErrors"] == []
        await eventually(lambda: _async(dropped._value.get() == before + 1))
        await send(socket, {"type": "ping"})
        assert await receive(socket) == {"type": "pong"}
    assert (await checkout(stack, token, str(uuid.uuid4())))["userErrors"] == []


async def set_stock_via(stack: Stack, server: RunningServer, product_id: str) -> dict[str, object]:
    """adjustStock(+1) through `server` (an admin)."""
    key = f"live-{uuid.uuid4().hex[:12]}"
    variables = {"input": {"productId": product_id, "delta": 1, "idempotencyKey": key}}
    body = await stack.post(server.graphql_url, ADJUST_STOCK, variables, admin_token())
    payload: dict[str, object] = body["data"]["adjustStock"]
    return payload


async def test_each_event_runs_under_the_resolution_budget(stack: Stack) -> None:
    server = await lonely_inventory(stack, SHOPGRAPH_SUBGRAPH_MAX_RESOLUTIONS="2")
    product = await make_product(stack, name="Live spoon", stock=1)
    async with live_socket(server.graphql_url, admin_token()) as socket:
        query = "subscription ($id: ID!) { stockChanged(productId: $id) { available onHand } }"
        await start(socket, "s", query, {"id": product["id"]})
        message = (
            "The result is too large: the operation needs more than 2 field resolutions, "
            "the limit. Ask for fewer items or less nesting."
        )
        error = {"message": message, "extensions": {"code": "RESULT_TOO_LARGE"}}
        assert await next_payload(socket, "s") == {"errors": [error]}
        await completed(socket, "s")


@contextmanager
def stock_reads(stack: Stack) -> Iterator[list[str]]:
    """The SELECTs on stock_items the inventory app sends while the block runs."""
    engine = stack.app_db("inventory").engine.sync_engine
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "stock_items" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield reads
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_many_watchers_of_one_product_cost_one_read_per_change(stack: Stack) -> None:
    watched = await make_product(stack, name="Live crowd", stock=1)
    quiet = await make_product(stack, name="Live quiet", stock=1)
    inventory = stack.servers["inventory"]
    async with AsyncExitStack() as sockets:
        watchers = []
        for n in range(3):  # 30 subscribers, on three connections
            socket = await sockets.enter_async_context(live_socket(stack.url("inventory")))
            for i in range(10):
                await start(socket, f"{n}-{i}", PUBLIC_STOCK_WATCH, {"id": watched["id"]})
                watchers.append((socket, f"{n}-{i}"))
        for socket, op_id in watchers:
            assert await next_payload(socket, op_id) == {"data": {"stockChanged": {"available": 1}}}
        assert feeds_running(hub_of(inventory)) == 1
        with stock_reads(stack) as reads:  # what the mutation reads itself, without watchers
            assert (await set_stock_via(stack, inventory, quiet["id"]))["userErrors"] == []
        alone = len(reads)
        with stock_reads(stack) as reads:
            assert (await set_stock_via(stack, inventory, watched["id"]))["userErrors"] == []
            for socket, op_id in watchers:
                available = await next_payload(socket, op_id)
                assert available == {"data": {"stockChanged": {"available": 2}}}
        assert len(reads) == alone + 1
    await eventually(lambda: _async(feeds_running(hub_of(inventory)) == 0))


async def test_ids_without_stock_have_a_small_budget_of_their_own(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_MAX_UNSTOCKED, "2")
    product = await make_product(stack, name="Live cup", stock=3)
    async with live_socket(stack.url("inventory")) as socket:
        for op_id in ("a", "b"):
            await start(socket, op_id, PUBLIC_STOCK_WATCH, {"id": str(uuid.uuid4())})
            assert await next_payload(socket, op_id) == {"data": {"stockChanged": {"available": 0}}}
        await start(socket, "c", PUBLIC_STOCK_WATCH, {"id": str(uuid.uuid4())})
        message = (
            "This server has 2 subscriptions to products without stock open, its limit; retry later"
        )
        error = {"message": message, "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"}}
        assert await next_payload(socket, "c") == {"errors": [error]}
        await completed(socket, "c")
        # a stocked product is not held back by them
        await start(socket, "d", PUBLIC_STOCK_WATCH, {"id": product["id"]})
        assert await next_payload(socket, "d") == {"data": {"stockChanged": {"available": 3}}}
        # a finished one gives its place back
        await send(socket, {"id": "a", "type": "complete"})
        await start(socket, "e", PUBLIC_STOCK_WATCH, {"id": str(uuid.uuid4())})
        assert await next_payload(socket, "e") == {"data": {"stockChanged": {"available": 0}}}


async def refused_after(stack: Stack, allowed: int) -> None:
    """`allowed` subscriptions run on one connection; the next one is refused."""
    product = await make_product(stack, name="Live bowl set", stock=1)
    async with live_socket(stack.url("inventory")) as socket:
        for i in range(allowed):
            await start(socket, str(i), PUBLIC_STOCK_WATCH, {"id": product["id"]})
            assert await next_payload(socket, str(i)) == {
                "data": {"stockChanged": {"available": 1}}
            }
        await start(socket, "over", PUBLIC_STOCK_WATCH, {"id": product["id"]})
        error = {
            "message": f"At most {allowed} operations at once on one connection",
            "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"},
        }
        assert await receive(socket) == {"id": "over", "type": "error", "payload": [error]}


async def test_one_connection_runs_at_most_32_operations(stack: Stack) -> None:
    assert DEFAULT_MAX_OPERATIONS == 32
    await refused_after(stack, 32)


async def test_the_per_connection_limit_is_a_setting(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_MAX_OPERATIONS, "3")
    await refused_after(stack, 3)


async def test_subscribers_old_and_new_get_changes_after_nats_restarts(stack: Stack) -> None:
    nats: NatsServer = await asyncio.to_thread(start_nats, Path(tempfile.mkdtemp(prefix="sgn-")))
    server: RunningServer | None = None
    try:
        server = await lonely_inventory(stack, SHOPGRAPH_NATS_URL=nats.url)
        hub = hub_of(server)
        async with asyncio.timeout(15):
            await hub.listening.wait()
        product = await make_product(stack, name="Live kettle", stock=1)
        async with live_socket(server.graphql_url) as socket:
            await start(socket, "old", PUBLIC_STOCK_WATCH, {"id": product["id"]})
            assert await next_payload(socket, "old") == {"data": {"stockChanged": {"available": 1}}}
            await asyncio.to_thread(nats.stop)
            await eventually(lambda: _async(not hub._broker.connected))  # type: ignore[union-attr]
            await asyncio.to_thread(nats.restart)
            await eventually(lambda: _async(hub._broker.connected), timeout=30)  # type: ignore[union-attr]
            await start(socket, "new", PUBLIC_STOCK_WATCH, {"id": product["id"]})
            assert await next_payload(socket, "new") == {"data": {"stockChanged": {"available": 1}}}
            assert (await set_stock_via(stack, server, product["id"]))["userErrors"] == []
            for op_id in ("old", "new"):
                assert await next_payload(socket, op_id) == {
                    "data": {"stockChanged": {"available": 2}}
                }
    finally:
        if server is not None:
            await server.stop()  # before its broker goes away
        await asyncio.to_thread(nats.stop)
