"""Shutdown is bounded: a stopping service never waits on something that never comes.

Against real PostgreSQL and a real nats-server. An orders server stopped just after it
started sometimes hung until hypercorn's 60 s shutdown timeout: on Python 3.11,
`asyncio.wait_for` returns the awaited result instead of raising CancelledError when the
result arrives in the same loop iteration as the cancellation, and nats-py waits with it
for every JetStream reply. A consumer cancelled as its reply came in carried on, and the
events runtime waited for it forever. The bounds below are hang detectors far above what
stopping takes (about 0.5 s with a second cancellation), not timing targets.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

from events_support.harness import (  # the fixtures are imported for pytest to find them
    db_fixture,  # noqa: F401
    nats_fixture,  # noqa: F401
    settings_fixture,  # noqa: F401
    unique,
    write,
)
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.database import Database
from subgraphs.common.events import Consumer, Event, EventsSpec, new_event
from subgraphs.common.events.broker import EventBroker
from subgraphs.common.events.runtime import EventsRuntime
from tests.broker import start_nats

HANG = 15.0  # seconds; stopping takes well under 1 s, a hang forever (or 20 s of flushes)


async def _bounded(step: Any) -> float:
    """Seconds `step` took; AssertionError (and the step cancelled) after HANG seconds."""
    started = time.monotonic()
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=HANG)
    if not done:
        task.cancel()  # awaiting it propagates the cancellation to what it waits for
        await asyncio.wait({task}, timeout=5)
        raise AssertionError(f"still stopping after {HANG} s")
    task.result()
    return time.monotonic() - started


async def test_stop_ends_a_consumer_that_swallowed_its_cancellation(db: Database) -> None:
    kind, service = unique("Held"), unique("svc")
    entered = asyncio.Event()
    reply: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def held(session: AsyncSession, event: Event, services: Any) -> None:
        entered.set()
        await asyncio.wait_for(reply, 30)  # as nats-py waits for a JetStream reply

    runtime = EventsRuntime(service, db, EventsSpec([Consumer("held", (kind,), held)]))
    await runtime.start()
    await write(db, new_event(kind, "t", {"n": 1}))
    await asyncio.wait_for(entered.wait(), HANG)
    # The reply arrives as the runtime cancels the consumer: wait_for returns it, and the
    # cancellation is lost (Python 3.11). A second cancellation ends the consumer.
    reply.set_result(None)
    assert await _bounded(runtime.stop()) < HANG
    running = {task.get_name() for task in asyncio.all_tasks() if not task.done()}
    assert {name for name in running if name.startswith(service)} == set()


async def test_closing_the_broker_while_the_server_hangs_is_bounded(tmp_path: Path) -> None:
    server = start_nats(tmp_path)
    assert server.process is not None
    broker = EventBroker(server.url, name=unique("closing"))
    connect = asyncio.create_task(broker.run())
    try:
        await asyncio.wait_for(connect, HANG)
        client = broker.broker.connection

        async def ignore(message: Msg) -> None:
            """A subscription for the close to drain (LiveHub has one per topic)."""

        await client.subscribe("shop.live.test.*", cb=ignore)
        await client.flush()
        os.kill(server.process.pid, signal.SIGSTOP)  # connected, but never answers
        try:
            # Before: a drain flush and a final flush waited 10 s each for a PONG, and
            # the connection was left open.
            assert await _bounded(broker.close()) < HANG
            assert client.is_closed
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
    finally:
        connect.cancel()
        server.stop()
