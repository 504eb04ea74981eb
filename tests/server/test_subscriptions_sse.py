"""Subscriptions over graphql-sse (distinct connections mode) through the router's real
server: `event: next` per event (completed from both subgraphs), `event: complete`;
queries and refusals as one `next`; heartbeats; token expiry; limits; a client leaving."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.server.subscription_graph import (
    HUB,
    REVIEW_QUERY,
    SECRET,
    WAIT,
    review,
    running,
    serve_subgraphs,
    token,
    wait_until,
)

Subgraphs = Any
STREAM = {"accept": "text/event-stream"}


@pytest.fixture(scope="module")
def subgraphs() -> Iterator[Subgraphs]:
    """The reviews and products subgraphs, for the whole module."""
    yield from serve_subgraphs()


async def _events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) per SSE message; ("comment", text) for a comment line."""
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            if block.startswith(":"):
                yield "comment", block
                continue
            fields = dict(line.split(":", 1) for line in block.split("\n"))
            data = fields.get("data", "").strip()
            yield fields["event"].strip(), json.loads(data) if data else None


async def _collect(response: httpx.Response, count: int) -> list[tuple[str, Any]]:
    """The next `count` messages of the stream."""
    out: list[tuple[str, Any]] = []

    async def read() -> None:
        """Read until `count` messages arrived."""
        async for message in _events(response):
            out.append(message)
            if len(out) == count:
                return

    await asyncio.wait_for(read(), WAIT)
    return out


async def _until_end(response: httpx.Response) -> list[tuple[str, Any]]:
    """Every message until the response ends."""
    return [message async for message in _events(response)]


async def test_events_stream_as_next_then_complete(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            body = {"query": REVIEW_QUERY}
            headers = {**STREAM, "authorization": "Bearer opaque"}
            async with client.stream("POST", stack.http_url, json=body, headers=headers) as answer:
                await wait_until(lambda: HUB.active == 1)
                HUB.publish("p1", review("great"))
                HUB.publish("p1", None)
                # the router ends the response after `complete`: read to its end
                messages = await asyncio.wait_for(_until_end(answer), WAIT)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/event-stream; charset=utf-8"
    product = {"name": "Chair", "price": 120}
    event = {"body": "great", "viewer": "Bearer opaque", "product": product}
    assert messages == [("next", {"data": {"reviewAdded": event}}), ("complete", None)]


async def test_queries_and_refusals_are_one_next_then_complete(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            query = await client.get(
                stack.http_url, params={"query": '{ product(upc: "p2") { name } }'}, headers=STREAM
            )
            invalid = await client.post(
                stack.http_url, json={"query": "subscription { nope }"}, headers=STREAM
            )
    assert query.status_code == 200
    assert query.text == (
        'event: next\ndata: {"data":{"product":{"name":"Lamp"}}}\n\nevent: complete\ndata:\n\n'
    )
    assert invalid.status_code == 200
    first, second = invalid.text.split("\n\n", 1)
    assert first.startswith("event: next\ndata: ")
    errors = json.loads(first.split("data: ", 1)[1])["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["GRAPHQL_VALIDATION_FAILED"]
    assert second == "event: complete\ndata:\n\n"


async def test_quiet_streams_get_heartbeat_comments(subgraphs: Subgraphs) -> None:
    with running(subgraphs, {"subscriptions": {"heartbeat_interval": 0.2}}) as stack:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            body = {"query": REVIEW_QUERY}
            async with client.stream("POST", stack.http_url, json=body, headers=STREAM) as answer:
                messages = await _collect(answer, 2)
    assert messages == [("comment", ":"), ("comment", ":")]


async def test_an_expiring_token_ends_the_stream_unauthenticated(subgraphs: Subgraphs) -> None:
    config = {"auth": {"jwt": {"secret": SECRET}}}
    with running(subgraphs, config) as stack:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            body = {"query": REVIEW_QUERY}
            headers = {**STREAM, "authorization": token(seconds=1.5)}
            async with client.stream("POST", stack.http_url, json=body, headers=headers) as answer:
                await wait_until(lambda: HUB.active == 1)
                messages = await _collect(answer, 2)
            await wait_until(lambda: HUB.active == 0)
            refused = await client.post(
                stack.http_url, json=body, headers={**STREAM, "authorization": "Bearer nope"}
            )
    (kind, data), end = messages
    assert kind == "next"
    assert [e["extensions"]["code"] for e in data["errors"]] == ["UNAUTHENTICATED"]
    assert end == ("complete", None)
    first = refused.text.split("\n\n")[0]
    assert json.loads(first.split("data: ", 1)[1])["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )


async def test_a_subscription_failing_as_the_token_expires_ends_unauthenticated(
    subgraphs: Subgraphs,
) -> None:
    config = {"auth": {"jwt": {"secret": SECRET}}, "subscriptions": {"max_event_bytes": 4096}}
    exp = int(time.time()) + 3
    with running(subgraphs, config) as stack:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            body = {"query": REVIEW_QUERY}
            headers = {**STREAM, "authorization": token(exp=exp)}
            async with client.stream("POST", stack.http_url, json=body, headers=headers) as answer:
                await wait_until(lambda: HUB.active == 1)
                # half a second before `exp`, the upstream fails (as a subgraph dropping
                # the expiring token's socket does)
                await asyncio.sleep(exp - 0.5 - time.time())
                HUB.publish("p1", review("x" * 10_000))
                messages = await asyncio.wait_for(_until_end(answer), WAIT)
    expired = {
        "message": "The token expired; authenticate again.",
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    assert messages == [("next", {"errors": [expired]}), ("complete", None)]


async def test_past_the_total_limit_a_stream_is_refused(subgraphs: Subgraphs) -> None:
    with running(subgraphs, {"subscriptions": {"max_total": 1}}) as stack:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            body = {"query": REVIEW_QUERY}
            async with client.stream("POST", stack.http_url, json=body, headers=STREAM):
                await wait_until(lambda: HUB.active == 1)
                refused = await client.post(stack.http_url, json=body, headers=STREAM)
    # graphql-sse: a 200 stream of one `next` with the error, then `complete`
    assert refused.status_code == 200
    first, end = refused.text.split("\n\n", 1)
    data = json.loads(first.split("data: ", 1)[1])
    assert data["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
    assert end == "event: complete\ndata:\n\n"


async def test_a_client_leaving_closes_the_upstream_subscription(subgraphs: Subgraphs) -> None:
    with running(subgraphs) as stack:
        before = stack.router_tasks()
        async with httpx.AsyncClient(timeout=WAIT) as client:
            body = {"query": REVIEW_QUERY}
            async with client.stream("POST", stack.http_url, json=body, headers=STREAM) as answer:
                await wait_until(lambda: HUB.active == 1)
                HUB.publish("p1", review())
                assert (await _collect(answer, 1))[0][0] == "next"
        # the connection is closed: the router notices and ends everything it started
        await wait_until(lambda: HUB.active == 0)
        await wait_until(lambda: not stack.app.subscriptions.running)
        await wait_until(lambda: stack.router_tasks() == before)
