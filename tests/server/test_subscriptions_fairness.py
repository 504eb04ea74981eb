"""`subscriptions.max_per_client`: one client address may run only so many subscriptions,
over WebSockets and SSE together, however many connections it opens; the address is the
one the router's edge works out (`traffic.trusted_proxies`, `x-forwarded-for`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from router.subscriptions.clients import UNKNOWN, ClientCounts
from tests.server.subscription_graph import (
    HUB,
    REVIEW_QUERY,
    WAIT,
    Stack,
    running,
    serve_subgraphs,
    wait_until,
)

Subgraphs = Any
PROTOCOL = Subprotocol("graphql-transport-ws")
STREAM = {"accept": "text/event-stream"}
LIMIT_CODE = "SUBSCRIPTION_LIMIT"


@pytest.fixture(scope="module")
def subgraphs() -> Iterator[Subgraphs]:
    """The reviews and products subgraphs, for the whole module."""
    yield from serve_subgraphs()


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), WAIT))  # type: ignore[no-any-return]


async def _connection(
    stack: Stack, exits: AsyncExitStack, forwarded: str | None = None
) -> ClientConnection:
    """An acknowledged WebSocket, closed when `exits` closes."""
    headers = {"x-forwarded-for": forwarded} if forwarded else None
    ws = await exits.enter_async_context(
        connect(
            stack.ws_url, subprotocols=[PROTOCOL], additional_headers=headers, open_timeout=WAIT
        )
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert await _receive(ws) == {"type": "connection_ack"}
    return ws


async def _subscribe(ws: ClientConnection, op_id: str) -> None:
    message = {"id": op_id, "type": "subscribe", "payload": {"query": REVIEW_QUERY}}
    await ws.send(json.dumps(message))


@asynccontextmanager
async def _stream(client: httpx.AsyncClient, stack: Stack) -> AsyncIterator[httpx.Response]:
    """An SSE subscription, open while the block runs."""
    body = {"query": REVIEW_QUERY}
    async with client.stream("POST", stack.http_url, json=body, headers=STREAM) as answer:
        yield answer


def _limit_error(limit: int) -> dict[str, Any]:
    return {
        "message": f"This client runs {limit} subscriptions already "
        "(subscriptions.max_per_client); end one first.",
        "extensions": {"code": LIMIT_CODE},
    }


async def test_one_address_is_capped_over_websockets_and_sse_together(
    subgraphs: Subgraphs,
) -> None:
    config = {"subscriptions": {"max_per_client": 3}}
    with running(subgraphs, config) as stack:
        async with AsyncExitStack() as exits, httpx.AsyncClient(timeout=WAIT) as client:
            one, two = await _connection(stack, exits), await _connection(stack, exits)
            await _subscribe(one, "a")
            await _subscribe(two, "b")
            await exits.enter_async_context(_stream(client, stack))
            await wait_until(lambda: HUB.active == 3)
            # a new connection does not help, nor does naming another address
            three = await _connection(stack, exits, forwarded="10.9.9.9")
            await _subscribe(three, "c")
            over_ws = await _receive(three)
            over_sse = await client.post(
                stack.http_url, json={"query": REVIEW_QUERY}, headers=STREAM
            )
            # ending one frees its place
            await one.send(json.dumps({"id": "a", "type": "complete"}))
            await wait_until(lambda: HUB.active == 2)
            await _subscribe(three, "d")
            await wait_until(lambda: HUB.active == 3)
            counted = stack.app.subscriptions.clients.running("127.0.0.1")
    assert over_ws == {"id": "c", "type": "error", "payload": [_limit_error(3)]}
    assert over_sse.status_code == 200
    first, end = over_sse.text.split("\n\n", 1)
    assert json.loads(first.split("data: ", 1)[1]) == {"errors": [_limit_error(3)]}
    assert end == "event: complete\ndata:\n\n"
    assert counted == 3


async def test_clients_behind_a_trusted_proxy_are_counted_apart(subgraphs: Subgraphs) -> None:
    config = {
        "subscriptions": {"max_per_client": 1},
        "traffic": {"trusted_proxies": ["127.0.0.1"]},
    }
    with running(subgraphs, config) as stack:
        async with AsyncExitStack() as exits:
            first = await _connection(stack, exits, forwarded="10.0.0.1")
            second = await _connection(stack, exits, forwarded="10.0.0.2")
            await _subscribe(first, "1")
            await _subscribe(second, "1")
            await wait_until(lambda: HUB.active == 2)
            await _subscribe(first, "2")
            refused = await _receive(first)
            counts = stack.app.subscriptions.clients
            per_client = (counts.running("10.0.0.1"), counts.running("10.0.0.2"))
        await wait_until(lambda: not stack.app.subscriptions.running)
        left = (counts.running("10.0.0.1"), counts.running("10.0.0.2"))
    assert refused == {"id": "2", "type": "error", "payload": [_limit_error(1)]}
    assert per_client == (1, 1)
    assert left == (0, 0)


def test_the_client_is_the_last_address_no_trusted_proxy_wrote() -> None:
    counts = ClientCounts(2, ["10.0.0.0/8"])
    assert counts.client({"x-forwarded-for": "203.0.113.7"}) == "203.0.113.7"
    assert counts.client({"x-forwarded-for": "1.1.1.1, 203.0.113.7, 10.0.0.2"}) == "203.0.113.7"
    assert counts.client({"x-forwarded-for": "10.0.0.3, 10.0.0.2"}) == "10.0.0.3"
    assert counts.client({"x-forwarded-for": "::ffff:10.0.0.9, 198.51.100.1"}) == "198.51.100.1"
    assert counts.client({"x-forwarded-for": "junk, 10.0.0.2"}) == "junk"
    assert counts.client({}) == UNKNOWN
    assert ClientCounts(2).client({"x-forwarded-for": "10.0.0.3, 10.0.0.2"}) == "10.0.0.2"


def test_counts_are_taken_up_to_the_limit_and_given_back() -> None:
    counts = ClientCounts(2)
    assert [counts.take("a"), counts.take("a"), counts.take("a"), counts.take("b")] == [
        True,
        True,
        False,
        True,
    ]
    counts.give_back("a")
    assert (counts.running("a"), counts.take("a"), counts.running("a")) == (1, True, 2)
    counts.give_back("b")
    counts.give_back("b")  # once too often: never below zero
    assert counts.running("b") == 0 and counts.take("b")
