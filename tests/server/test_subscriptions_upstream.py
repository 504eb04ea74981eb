"""The router's graphql-transport-ws client against subgraphs that misbehave: a real
WebSocket server (the `websockets` library) playing the subgraph's side, so each
failure the router must name is produced on the wire."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from router.config import SubscriptionsConfig
from router.subscriptions.upstream import UpstreamError, UpstreamSubscription, websocket_url

Behaviour = Callable[[ServerConnection], Awaitable[None]]
SETTINGS = SubscriptionsConfig(init_timeout=0.5, max_event_bytes=2048)
SUBSCRIBE = {"query": "subscription { ticks }", "variables": {}}
PINGING = SubscriptionsConfig(init_timeout=0.5, upstream_ping_interval=0.2)
LARGE_EVENTS = SubscriptionsConfig(init_timeout=0.5)  # a megabyte per message


@asynccontextmanager
async def subgraph(behaviour: Behaviour) -> AsyncIterator[tuple[str, list[Any]]]:
    """A WebSocket subgraph running `behaviour` per connection: its URL and the
    messages it received."""
    received: list[Any] = []

    async def handler(connection: ServerConnection) -> None:
        """Record what arrives while `behaviour` runs."""
        original = connection.recv

        async def recording(*args: Any, **kwargs: Any) -> Any:
            """`recv`, recorded."""
            message = await original(*args, **kwargs)
            received.append(json.loads(message))
            return message

        connection.recv = recording  # type: ignore[method-assign]
        await behaviour(connection)

    async with serve(handler, "127.0.0.1", 0, subprotocols=["graphql-transport-ws"]) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/graphql", received


async def _acknowledge(connection: ServerConnection) -> None:
    await connection.recv()  # connection_init
    await connection.send(json.dumps({"type": "connection_ack"}))
    await connection.recv()  # subscribe


async def _events(url: str, settings: SubscriptionsConfig = SETTINGS) -> list[dict[str, Any]]:
    async with UpstreamSubscription(
        "ticks", url, {"authorization": "Bearer t"}, SUBSCRIBE, settings
    ) as upstream:
        return [event async for event in upstream]


async def test_events_until_complete_and_the_messages_sent() -> None:
    async def behaviour(connection: ServerConnection) -> None:
        """Ping first, then two events and complete."""
        await connection.recv()
        await connection.send(json.dumps({"type": "ping"}))
        await connection.recv()  # pong
        await connection.send(json.dumps({"type": "connection_ack"}))
        await connection.recv()
        for tick in (1, 2):
            payload = {"data": {"ticks": tick}}
            await connection.send(json.dumps({"id": "1", "type": "next", "payload": payload}))
        await connection.send(json.dumps({"id": "1", "type": "complete"}))
        await connection.wait_closed()

    async with subgraph(behaviour) as (url, received):
        events = await _events(url)
    assert events == [{"data": {"ticks": 1}}, {"data": {"ticks": 2}}]
    assert received == [
        {"type": "connection_init", "payload": {"authorization": "Bearer t"}},
        {"type": "pong"},
        {"id": "1", "type": "subscribe", "payload": SUBSCRIBE},
    ]


async def _failure(behaviour: Behaviour) -> dict[str, Any]:
    async with subgraph(behaviour) as (url, _):
        with pytest.raises(UpstreamError) as failed:
            await _events(url)
    (error,) = failed.value.errors
    return error


async def test_no_ack_in_time_fails_the_subscription() -> None:
    async def silent(connection: ServerConnection) -> None:
        """Never acknowledge."""
        await connection.wait_closed()

    error = await _failure(silent)
    assert error["extensions"] == {"code": "SUBSCRIPTION_UPSTREAM_FAILED", "serviceName": "ticks"}
    assert "did not acknowledge" in error["message"]


async def test_an_error_message_ends_it_with_the_subgraphs_errors() -> None:
    async def refusing(connection: ServerConnection) -> None:
        """Acknowledge, then refuse the operation."""
        await _acknowledge(connection)
        errors = [{"message": "no such tick", "extensions": {"code": "NOT_FOUND"}}, {}]
        await connection.send(json.dumps({"id": "1", "type": "error", "payload": errors}))
        await connection.wait_closed()

    async with subgraph(refusing) as (url, _):
        with pytest.raises(UpstreamError) as failed:
            await _events(url)
    assert failed.value.errors == [
        {"message": "no such tick", "extensions": {"code": "NOT_FOUND", "serviceName": "ticks"}},
        {
            "message": "Subgraph error",
            "extensions": {"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "ticks"},
        },
    ]


async def test_a_lost_socket_and_an_oversized_event_are_named() -> None:
    async def vanishing(connection: ServerConnection) -> None:
        """Acknowledge, then drop the connection."""
        await _acknowledge(connection)
        connection.transport.abort()

    async def flooding(connection: ServerConnection) -> None:
        """Acknowledge, then send an event over the size limit."""
        await _acknowledge(connection)
        payload = {"data": {"ticks": "x" * 5000}}
        await connection.send(json.dumps({"id": "1", "type": "next", "payload": payload}))
        await connection.wait_closed()

    lost = await _failure(vanishing)
    large = await _failure(flooding)
    assert lost == {
        "message": "Subgraph 'ticks' closed the subscription unexpectedly.",
        "extensions": {"code": "SUBSCRIPTION_UPSTREAM_FAILED", "serviceName": "ticks"},
    }
    assert large["extensions"] == {"code": "SUBSCRIPTION_EVENT_TOO_LARGE", "serviceName": "ticks"}


async def test_an_unreachable_subgraph_and_a_client_leaving() -> None:
    async with subgraph(lambda connection: connection.wait_closed()) as (url, _):
        pass  # the server is gone: nobody listens at `url` any more
    refused = await _failure_at(url)
    assert refused["extensions"]["code"] == "SUBSCRIPTION_UPSTREAM_FAILED"

    async def endless(connection: ServerConnection) -> None:
        """Acknowledge and send nothing more."""
        await _acknowledge(connection)
        await connection.recv()  # the router's complete
        await connection.wait_closed()

    async with subgraph(endless) as (url, received):
        task = asyncio.create_task(_events(url))
        while len(received) < 2:
            await asyncio.sleep(0.01)
        task.cancel()  # the client went away: the router says complete and closes
        with pytest.raises(asyncio.CancelledError):
            await task
        while len(received) < 3:
            await asyncio.sleep(0.01)
    assert received[2] == {"id": "1", "type": "complete"}


async def test_a_silent_subgraph_is_pinged_then_given_up() -> None:
    async def mute(connection: ServerConnection) -> None:
        """Acknowledge, then read what arrives (the router's ping) but never answer."""
        await _acknowledge(connection)
        async for _ in connection:
            pass

    async with subgraph(mute) as (url, received):
        with pytest.raises(UpstreamError) as failed:
            await _events(url, PINGING)
    assert failed.value.errors == [
        {
            "message": "Subgraph 'ticks' did not answer a ping within 0.2 s; "
            "the subscription ended.",
            "extensions": {"code": "SUBSCRIPTION_UPSTREAM_FAILED", "serviceName": "ticks"},
        }
    ]
    # the ping, then the router's complete as it leaves
    assert received[2:] == [{"type": "ping"}, {"id": "1", "type": "complete"}]


async def test_a_subgraph_answering_pings_keeps_its_subscription() -> None:
    async def answering(connection: ServerConnection) -> None:
        """Answer three pings with pong, then send one event and complete."""
        await _acknowledge(connection)
        for _ in range(3):
            assert json.loads(await connection.recv()) == {"type": "ping"}
            await connection.send(json.dumps({"type": "pong"}))
        payload = {"data": {"ticks": 1}}
        await connection.send(json.dumps({"id": "1", "type": "next", "payload": payload}))
        await connection.send(json.dumps({"id": "1", "type": "complete"}))
        await connection.wait_closed()

    async with subgraph(answering) as (url, received):
        events = await _events(url, PINGING)
    assert events == [{"data": {"ticks": 1}}]
    assert received[2:] == [{"type": "ping"}] * 3


async def _failure_at(url: str) -> dict[str, Any]:
    with pytest.raises(UpstreamError) as failed:
        await _events(url)
    return failed.value.errors[0]


def test_websocket_urls_follow_the_http_scheme() -> None:
    assert websocket_url("http://a:1/graphql") == "ws://a:1/graphql"
    assert websocket_url("https://a/graphql") == "wss://a/graphql"
    assert websocket_url("ws://a/graphql") == "ws://a/graphql"


async def _refused_with(payload: Any) -> list[dict[str, Any]]:
    """The errors the router reports for a subgraph's `error` message with `payload`."""

    async def refusing(connection: ServerConnection) -> None:
        """Acknowledge, then end the operation with `payload`."""
        await _acknowledge(connection)
        await connection.send(json.dumps({"id": "1", "type": "error", "payload": payload}))
        await connection.wait_closed()

    async with subgraph(refusing) as (url, _):
        with pytest.raises(UpstreamError) as failed:
            await _events(url, LARGE_EVENTS)
    return failed.value.errors


def _invalid(problem: str) -> dict[str, Any]:
    return {
        "message": f"Subgraph 'ticks' returned an invalid 'errors' value: {problem}.",
        "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "ticks"},
    }


async def test_malformed_error_messages_are_reported_as_such() -> None:
    string_extensions = [{"message": "bad", "extensions": "not an object"}]
    assert await _refused_with(string_extensions) == [
        _invalid("1 of its 1 items are not error objects")
    ]
    assert await _refused_with("e" * 100_000) == [_invalid("a string, not a list of error objects")]
    assert await _refused_with(None) == [_invalid("null, not a list of error objects")]
    assert await _refused_with(7) == [_invalid("a number, not a list of error objects")]
    # an empty list still ends the operation with an error
    assert await _refused_with([]) == [
        {
            "message": "Subgraph error",
            "extensions": {"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "ticks"},
        }
    ]


async def test_an_error_message_with_one_error_object_keeps_its_message() -> None:
    # graphql-transport-ws sends a list; one bare error object is taken as a list of one
    one = {"message": "no such tick", "extensions": {"code": "NOT_FOUND"}}
    assert await _refused_with(one) == [
        {"message": "no such tick", "extensions": {"code": "NOT_FOUND", "serviceName": "ticks"}}
    ]
    assert await _refused_with({"message": 7}) == [
        _invalid("1 of its 1 items are not error objects")
    ]


async def test_an_error_message_adds_at_most_a_hundred_errors() -> None:
    many = [{"message": f"e{n}", "extensions": {"code": "X"}} for n in range(5000)]
    errors = await _refused_with(many)
    assert len(errors) == 101
    assert errors[0] == {"message": "e0", "extensions": {"code": "X", "serviceName": "ticks"}}
    assert errors[99]["message"] == "e99"
    assert errors[100] == {
        "message": "Subgraph 'ticks' returned more errors than the router reports for one "
        "fetch (100); the rest were left out.",
        "extensions": {"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "ticks"},
    }
