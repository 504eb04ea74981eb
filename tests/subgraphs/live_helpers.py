"""A graphql-transport-ws client (the `websockets` library) for the subscription tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

PROTOCOL = "graphql-transport-ws"
WAIT = 15.0  # seconds a test waits for a message that must come

ORDER_WATCH = """
subscription Watch($id: ID!) {
  orderStatusChanged(orderId: $id) { id status lines { product { id } quantity } }
}
"""
STOCK_WATCH = """
subscription Stock($id: ID!) { stockChanged(productId: $id) { available onHand reserved } }
"""
PUBLIC_STOCK_WATCH = """
subscription Stock($id: ID!) { stockChanged(productId: $id) { available } }
"""


def ws_url(graphql_url: str) -> str:
    """The WebSocket URL of a subgraph's HTTP GraphQL URL."""
    return "ws" + graphql_url.removeprefix("http")


async def send(socket: ClientConnection, message: dict[str, Any]) -> None:
    """Send one protocol message."""
    await socket.send(orjson.dumps(message).decode())


async def receive(socket: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    """The next protocol message (a `pong` the server sends on its own is not skipped)."""
    async with asyncio.timeout(timeout):
        message: dict[str, Any] = orjson.loads(await socket.recv())
    return message


@contextlib.asynccontextmanager
async def live_socket(
    graphql_url: str, token: str | None = None, *, header_token: str | None = None
) -> AsyncIterator[ClientConnection]:
    """An acknowledged connection: `token` in connection_init's payload (as the router sends
    it), `header_token` in the upgrade request's Authorization header."""
    headers = {"Authorization": f"Bearer {header_token}"} if header_token else None
    protocols = [Subprotocol(PROTOCOL)]
    async with connect(
        ws_url(graphql_url), subprotocols=protocols, additional_headers=headers
    ) as socket:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await send(socket, {"type": "connection_init", "payload": payload})
        assert await receive(socket) == {"type": "connection_ack"}
        yield socket


async def start(
    socket: ClientConnection, op_id: str, query: str, variables: dict[str, Any]
) -> None:
    """Send a `subscribe` for `query`."""
    payload = {"query": query, "variables": variables}
    await send(socket, {"id": op_id, "type": "subscribe", "payload": payload})


async def next_payload(socket: ClientConnection, op_id: str) -> dict[str, Any]:
    """The payload of the next message, which must be `next` for `op_id`."""
    message = await receive(socket)
    assert message["type"] == "next" and message["id"] == op_id, message
    payload: dict[str, Any] = message["payload"]
    return payload


async def completed(socket: ClientConnection, op_id: str) -> None:
    """The next message must be `complete` for `op_id`."""
    assert await receive(socket) == {"id": op_id, "type": "complete"}
