"""graphql-transport-ws as the subgraphs speak it: the handshake, single-result operations,
refusals with the protocol's close codes, and a subscription sent over plain HTTP."""

from __future__ import annotations

import uuid

import pytest
from live_helpers import (
    PROTOCOL,
    PUBLIC_STOCK_WATCH,
    completed,
    live_socket,
    next_payload,
    receive,
    send,
    start,
    ws_url,
)
from subgraph_stack import CODEC, Stack, make_product
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError
from websockets.typing import Subprotocol

from subgraphs.common.auth import CUSTOMER

PROTOCOLS = [Subprotocol(PROTOCOL)]


async def closed_with(stack: Stack, messages: list[str]) -> tuple[int | None, str | None]:
    """Send raw `messages` on a new connection; the close code and reason it ends with."""
    async with connect(ws_url(stack.url("inventory")), subprotocols=PROTOCOLS) as socket:
        for message in messages:
            await socket.send(message)
        with pytest.raises(ConnectionClosedError):
            while True:
                await receive(socket)
        return socket.close_code, socket.close_reason


INIT = '{"type": "connection_init"}'
SUBSCRIBE = '{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}'


@pytest.mark.parametrize(
    ("messages", "code", "reason"),
    [
        ([SUBSCRIBE], 4401, "Unauthorized"),
        (["{not json"], 4400, "Message is not valid JSON"),
        ([INIT, INIT], 4429, "Too many initialisation requests"),
        ([INIT, '{"type": "shout"}'], 4400, "Unknown message type 'shout'"),
        (
            [INIT, '{"type": "subscribe", "id": ""}'],
            4400,
            "`id` must be a string of 1-128 characters",
        ),
        (
            ['{"type": "connection_init", "payload": 3}'],
            4400,
            "connection_init payload must be an object",
        ),
        (
            [INIT, '{"type": "subscribe", "id": "1", "payload": "{ __typename }"}'],
            4400,
            "subscribe payload must be an object",
        ),
        ([INIT, '{"type": "subscribe", "id": "1"}'], 4400, "subscribe payload must be an object"),
        (['{"type": "ping"}', SUBSCRIBE], 4401, "Unauthorized"),
    ],
)
async def test_protocol_violations_close_with_their_codes(
    stack: Stack, messages: list[str], code: int, reason: str
) -> None:
    assert await closed_with(stack, messages) == (code, reason)


async def test_a_second_subscribe_with_a_running_id_closes_4409(stack: Stack) -> None:
    product = await make_product(stack, name="Live bowl", stock=1)
    variables = {"id": product["id"]}
    async with live_socket(stack.url("inventory")) as socket:
        await start(socket, "same", PUBLIC_STOCK_WATCH, variables)
        await next_payload(socket, "same")
        await start(socket, "same", PUBLIC_STOCK_WATCH, variables)
        with pytest.raises(ConnectionClosedError):
            await receive(socket)
        assert socket.close_code == 4409
        assert socket.close_reason == "Subscriber for same already exists"


async def test_a_missing_subprotocol_closes_4406(stack: Stack) -> None:
    async with connect(ws_url(stack.url("inventory"))) as socket:
        with pytest.raises(ConnectionClosedError):
            await receive(socket)
        assert (socket.close_code, socket.close_reason) == (
            4406,
            "Subprotocol not acceptable",
        )


async def test_a_query_is_one_next_then_complete(stack: Stack) -> None:
    async with live_socket(stack.url("inventory")) as socket:
        await send(socket, {"type": "ping"})
        assert await receive(socket) == {"type": "pong"}
        await start(socket, "q", "{ __typename }", {})
        assert await next_payload(socket, "q") == {"data": {"__typename": "Query"}}
        await completed(socket, "q")


async def test_an_invalid_document_is_an_error_message(stack: Stack) -> None:
    async with live_socket(stack.url("inventory")) as socket:
        await start(socket, "v", "subscription { nothing }", {})
        message = await receive(socket)
        assert message == {
            "id": "v",
            "type": "error",
            "payload": [
                {
                    "message": "Cannot query field 'nothing' on type 'Subscription'.",
                    "locations": [{"line": 1, "column": 16}],
                    "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
                }
            ],
        }
        await start(socket, "p", "subscription", {})
        assert (await receive(socket))["payload"][0]["extensions"] == {
            "code": "GRAPHQL_PARSE_FAILED"
        }


async def test_a_subscription_over_http_is_a_400(stack: Stack) -> None:
    query = "subscription ($id: ID!) { stockChanged(productId: $id) { available } }"
    response = await stack.http.post(
        stack.url("inventory"), json={"query": query, "variables": {"id": str(uuid.uuid4())}}
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "Subscriptions are served over a WebSocket (graphql-transport-ws) "
                "on this path",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }


async def test_the_socket_closes_when_the_token_expires(stack: Stack) -> None:
    product = await make_product(stack, name="Live tray", stock=1)
    short = CODEC.issue(str(uuid.uuid4()), CUSTOMER, ttl_seconds=2)
    async with live_socket(stack.url("inventory"), short) as socket:
        await start(socket, "s", PUBLIC_STOCK_WATCH, {"id": product["id"]})
        assert await next_payload(socket, "s") == {"data": {"stockChanged": {"available": 1}}}
        with pytest.raises(ConnectionClosedError):
            await receive(socket)
        assert (socket.close_code, socket.close_reason) == (4403, "Forbidden: token expired")


async def test_a_ping_before_the_init_gets_a_pong(stack: Stack) -> None:
    async with connect(ws_url(stack.url("inventory")), subprotocols=PROTOCOLS) as socket:
        await send(socket, {"type": "ping"})
        assert await receive(socket) == {"type": "pong"}
        await send(socket, {"type": "pong"})  # unanswered, and no violation either
        await send(socket, {"type": "connection_init"})
        assert await receive(socket) == {"type": "connection_ack"}
        await start(socket, "q", "{ __typename }", {})
        assert await next_payload(socket, "q") == {"data": {"__typename": "Query"}}


MIB = 1024 * 1024


async def test_a_message_over_the_body_limit_is_refused_by_the_server_as_it_arrives(
    stack: Stack,
) -> None:
    async with live_socket(stack.url("inventory")) as socket:
        # just under the 2 MiB body limit: served
        await socket.send('{"type": "ping"}' + " " * (2 * MIB - 100))
        assert await receive(socket) == {"type": "pong"}
        await socket.send('{"type": "ping"}' + " " * (3 * MIB))
        with pytest.raises(ConnectionClosedError):
            await receive(socket)
        # hypercorn's own close (no reason), not the app's after it buffered the whole message
        assert (socket.close_code, socket.close_reason) == (1009, "")
