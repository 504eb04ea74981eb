"""Live order status through the router of `shopgraph dev`, with real client libraries.

A customer subscribes to orderStatusChanged with graphql-ws (graphql-transport-ws) and
with graphql-sse (distinct connections) — tests/clients/subscribe_ws.mjs and
subscribe_sse.mjs — selecting fields of three subgraphs (orders: status; payments:
payment; products: the lines' product names). Both get the order as it is, then PAID
with the CAPTURED payment after `pay` through the router, then FULFILLED after an
admin fulfils it, and the stream completes.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.server.dev_stack import DevStack, login, running_stack

CLIENTS = Path(__file__).resolve().parent / "clients"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None
    or not (CLIENTS / "node_modules" / "graphql-ws").is_dir()
    or not (CLIENTS / "node_modules" / "graphql-sse").is_dir(),
    reason="node and tests/clients/node_modules are installed by `shopgraph test`",
)
WAIT = 30.0  # seconds for an event that must come much sooner

WATCH = """
subscription Watch($id: ID!) {
  orderStatusChanged(orderId: $id) { status payment { status } lines { product { name } } }
}
"""
REGISTER = """
mutation Register($email: String!) {
  register(input: {email: $email, password: "a long live-updates passphrase 42", name: "Live"}) {
    token
    userErrors { code message }
  }
}
"""
PRODUCT = "query($slug: String!) { product(slug: $slug) { id name } }"
ADD = """
mutation Add($id: ID!) {
  addToCart(input: {productId: $id, quantity: 1}) { userErrors { code message } }
}
"""
CHECKOUT = """
mutation Checkout($key: String!) {
  checkout(input: {idempotencyKey: $key}) { order { id status } userErrors { code message } }
}
"""
PAY = """
mutation Pay($order: ID!, $key: String!) {
  pay(input: {orderId: $order, idempotencyKey: $key, paymentToken: "tok_visa"}) {
    order { status }
    userErrors { code message }
  }
}
"""
FULFILL = """
mutation Fulfill($order: ID!) {
  fulfillOrder(input: {orderId: $order}) { order { status } userErrors { code message } }
}
"""
PRODUCTS = ("earl-grey-supreme-100g", "aeropress-go")


def ok(body: dict[str, Any]) -> dict[str, Any]:
    """The data of a response without errors."""
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> DevStack:
    return running_stack(request)


def placed_order(stack: DevStack, token: str) -> tuple[str, list[str]]:
    """A new customer order of one unit of each of PRODUCTS: its id and product names."""
    names = []
    for slug in PRODUCTS:
        product = ok(stack.graphql(PRODUCT, {"slug": slug}))["product"]
        added = ok(stack.graphql(ADD, {"id": product["id"]}, token=token))
        assert added["addToCart"]["userErrors"] == []
        names.append(product["name"])
    placed = ok(stack.graphql(CHECKOUT, {"key": str(uuid.uuid4())}, token=token))["checkout"]
    assert placed["userErrors"] == [] and placed["order"]["status"] == "PENDING_PAYMENT"
    return placed["order"]["id"], names


class Client:
    """A node client script subscribed to WATCH; reads the JSON lines it prints."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, script: str, url: str, token: str, order_id: str) -> Client:
        """Run `script` against the router at `url` as the holder of `token`."""
        process = await asyncio.create_subprocess_exec(
            "node",
            str(CLIENTS / script),
            url,
            WATCH,
            f"Bearer {token}",
            json.dumps({"id": order_id}),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def line(self) -> dict[str, Any]:
        """The next line the script printed."""
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), WAIT)
        assert raw, await self._failure()
        line: dict[str, Any] = json.loads(raw)
        return line

    async def exit_code(self) -> int:
        """Wait for the script to end."""
        return await asyncio.wait_for(self.process.wait(), WAIT)

    async def _failure(self) -> str:
        assert self.process.stderr is not None
        return f"the client ended: {(await self.process.stderr.read()).decode()}"

    async def stop(self) -> None:
        """Kill the script if it still runs."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def event(status: str, payment: str | None, names: list[str]) -> dict[str, Any]:
    """A line announcing an orderStatusChanged event."""
    lines = [{"product": {"name": name}} for name in names]
    change = {"status": status, "payment": payment and {"status": payment}, "lines": lines}
    return {"next": {"data": {"orderStatusChanged": change}}}


async def test_both_clients_follow_the_order_to_fulfilment(stack: DevStack) -> None:
    email = f"live-{uuid.uuid4().hex[:8]}@example.com"
    token = ok(stack.graphql(REGISTER, {"email": email}))["register"]["token"]
    order_id, names = placed_order(stack, token)
    ws_url = stack.router_url.replace("http", "ws", 1) + "/graphql"
    clients = [
        await Client.start("subscribe_ws.mjs", ws_url, token, order_id),
        await Client.start("subscribe_sse.mjs", f"{stack.router_url}/graphql", token, order_id),
    ]
    try:
        for client in clients:
            assert await client.line() == {"connected": True}
            assert await client.line() == event("PENDING_PAYMENT", None, names)
        variables = {"order": order_id, "key": str(uuid.uuid4())}
        paid = ok(await asyncio.to_thread(stack.graphql, PAY, variables, token))["pay"]
        assert paid == {"order": {"status": "PAID"}, "userErrors": []}
        for client in clients:
            assert await client.line() == event("PAID", "CAPTURED", names)
        admin = await asyncio.to_thread(login, stack, "admin@shopgraph.dev", "admin-password")
        done = await asyncio.to_thread(stack.graphql, FULFILL, {"order": order_id}, admin)
        assert ok(done)["fulfillOrder"] == {"order": {"status": "FULFILLED"}, "userErrors": []}
        for client in clients:
            assert await client.line() == event("FULFILLED", "CAPTURED", names)
            assert await client.line() == {"complete": True}
            assert await client.exit_code() == 0
    finally:
        for client in clients:
            await client.stop()
