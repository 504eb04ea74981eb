"""Subscriptions cancelled while they start must end, whatever the instant.

Python 3.11's asyncio.wait_for drops a cancellation arriving in the loop step its inner
awaitable finishes in (CPython gh-86296): a subscription cancelled just as its subgraph
socket opened ran on for ever, holding that socket, a registry slot and its connection's
handler. These tests cancel at every step of an upstream open, and repeat the prober's
races through the router's real server (a duplicate id closing the WebSocket with 4409
within 0-10 ms of the subscribe; an SSE client closing right after the response head),
then check that the registry, the subgraph and the router's loop are back where they
started.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from router.config import SubscriptionsConfig
from router.subscriptions.tasks import cancel_and_wait
from router.subscriptions.upstream import UpstreamSubscription
from tests.server.subscription_graph import HUB, WAIT, Stack, running, serve_subgraphs, wait_until

Subgraphs = Any
ATTEMPTS = 100  # per race: the code before the fix lost 2-4 subscriptions in as many
PROTOCOL = Subprotocol("graphql-transport-ws")


@pytest.fixture(scope="module")
def subgraphs() -> Iterator[Subgraphs]:
    """The reviews and products subgraphs, for the whole module."""
    yield from serve_subgraphs()


class Sockets:
    """A raw graphql-transport-ws subgraph that acknowledges and then stays quiet,
    counting the sockets opened to it and those closed again."""

    def __init__(self) -> None:
        self.opened = 0
        self.closed = 0

    async def handler(self, connection: ServerConnection) -> None:
        """Acknowledge the connection, take the subscribe, wait for the close."""
        self.opened += 1
        try:
            await connection.recv()  # connection_init
            await connection.send(json.dumps({"type": "connection_ack"}))
            await connection.wait_closed()
        except ConnectionClosed:
            pass  # the router left during the handshake
        finally:
            self.closed += 1


async def _subscribe_until_cancelled(url: str, entered: list[bool]) -> None:
    settings = SubscriptionsConfig(init_timeout=WAIT, upstream_ping_interval=0)
    subscribe = {"query": "subscription { ticks }", "variables": {}}
    async with UpstreamSubscription("ticks", url, {}, subscribe, settings) as upstream:
        entered.append(True)
        async for _ in upstream:  # the subgraph sends nothing: only a cancel ends this
            pass


async def test_a_cancel_at_any_step_of_the_upstream_open_ends_it() -> None:
    # cancelled after 0, 1, 2, ... loop steps: one of them is the step the open finishes
    # in (the ack read, the subscribe sent), the step wait_for lost the cancel in
    sockets = Sockets()
    async with serve(sockets.handler, "127.0.0.1", 0, subprotocols=[PROTOCOL]) as server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/graphql"
        steps, opened_before_cancel = 0, 0
        while opened_before_cancel < 3:  # until the open is done well before the cancel
            entered: list[bool] = []
            task = asyncio.create_task(_subscribe_until_cancelled(url, entered))
            for _ in range(steps):
                await asyncio.sleep(0)
            opened_before_cancel += bool(entered)
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=WAIT)
            assert done == {task} and task.cancelled(), f"cancel after {steps} steps lost"
            await wait_until(lambda: sockets.closed == sockets.opened)
            steps += 1
    assert steps > 5  # the sweep went through the whole handshake
    assert sockets.opened == sockets.closed


async def _ws_race(stack: Stack, query: str, delay: float) -> int | None:
    """Subscribe, then subscribe again with the same id after `delay` seconds: the
    router closes the connection with 4409 while the first one is starting."""
    message = json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})
    async with connect(stack.ws_url, subprotocols=[PROTOCOL], open_timeout=WAIT) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT)) == {"type": "connection_ack"}
        await ws.send(message)
        await asyncio.sleep(delay)
        await ws.send(message)
        await asyncio.wait_for(ws.wait_closed(), WAIT)
        return ws.close_code


async def _sse_race(stack: Stack, delay: float) -> bytes:
    """Open an SSE subscription and close the connection `delay` seconds after the
    response head (before the subgraph's subscription is up, most times)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.router.port)
    body = json.dumps({"query": 'subscription { reviewAdded(upc: "p1") { body } }'}).encode()
    writer.write(
        b"POST /graphql HTTP/1.1\r\nhost: router\r\naccept: text/event-stream\r\n"
        b"content-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
    await asyncio.sleep(delay)
    writer.close()
    await writer.wait_closed()
    return head.split(b"\r\n", 1)[0]


async def _back_to(stack: Stack, tasks: int) -> None:
    """Wait until nothing the races started runs any more: no subscription in the
    registry or the subgraph, and the router's loop runs `tasks` tasks again."""
    await wait_until(lambda: not stack.app.subscriptions.running)
    await wait_until(lambda: HUB.active == 0)
    await wait_until(lambda: stack.router_tasks() == tasks)


async def test_subscriptions_cancelled_by_a_4409_while_starting_all_end(
    subgraphs: Subgraphs,
) -> None:
    draw = random.Random(1)
    with running(subgraphs) as stack:
        tasks = stack.router_tasks()
        codes = set()
        for attempt in range(ATTEMPTS):
            # a new text each time: each one is planned cold, as the first one in a
            # process is (the slowest start, the widest window)
            aliases = " ".join(f"a{attempt}_{i}: body" for i in range(40))
            query = f'subscription {{ reviewAdded(upc: "p1") {{ {aliases} }} }}'
            codes.add(await _ws_race(stack, query, draw.uniform(0, 0.01)))
        await _back_to(stack, tasks)
    assert codes == {4409}


async def test_sse_subscriptions_left_right_after_the_head_all_end(subgraphs: Subgraphs) -> None:
    draw = random.Random(2)
    with running(subgraphs) as stack:
        tasks = stack.router_tasks()
        heads = set()
        for _ in range(ATTEMPTS):
            heads.add(await _sse_race(stack, draw.choice([0, 0, 0.001, 0.003, 0.01])))
        await _back_to(stack, tasks)
    assert heads == {b"HTTP/1.1 200 OK"}


async def test_a_task_that_swallows_a_cancel_is_cancelled_again() -> None:
    swallowed: list[int] = []

    async def stubborn() -> None:
        """Ignore the first cancellation (as wait_for may), end at the second."""
        try:
            await asyncio.sleep(WAIT)
        except asyncio.CancelledError:
            swallowed.append(1)
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
        await asyncio.sleep(WAIT)

    deaf_until: list[bool] = []

    async def deaf() -> None:
        """Ignore every cancellation until the test is done with it."""
        while not deaf_until:
            try:
                await asyncio.sleep(WAIT)
            except asyncio.CancelledError:
                asyncio.current_task().uncancel()  # type: ignore[union-attr]

    one, two = asyncio.create_task(stubborn()), asyncio.create_task(deaf())
    await asyncio.sleep(0)
    assert await cancel_and_wait([one], grace=0.05) == 0
    assert one.cancelled() and swallowed == [1]
    assert await cancel_and_wait([two], grace=0.05) == 1  # given up on after 3 rounds
    assert not two.done()
    deaf_until.append(True)
    two.cancel()
    await asyncio.wait_for(two, WAIT)
