"""A consumer in its own OS process, for the crash tests.

    PYTHONPATH=tests/subgraphs python -m events_support.worker \
        <database_url> <nats_url> <service> <event type> <block_on_n> <marker> [<die_on_n>]

Handles `<event type>` events by writing an effects row; on the event whose data n equals
`block_on_n` (-1: never) it writes the row, touches `marker` and then blocks inside the
still-open transaction until the process is killed. On the event whose data n equals
`die_on_n` (default -1: never) the handler's transaction commits and then, instead of
acknowledging the message, the process touches `marker` and exits at once (os._exit): the
crash between commit and ack that event_handled is there for. An event whose data has
`poison` true is refused with PoisonEvent (dead-lettered): with `die_on_n` the process
exits after burying it, before the TERM.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import AsyncSession

from events_support.app import record_effect
from subgraphs.common.database import Database
from subgraphs.common.events import Consumer, Event, EventsRuntime, EventsSpec, PoisonEvent
from subgraphs.common.events.envelope import decode


def die_before_ack(die_on: int, marker: Path) -> None:
    """Make this process exit, unacknowledged, when it acks or terminates the event whose
    n is `die_on` (test-only: replaces nats-py's Msg.ack and Msg.term in this process)."""
    for name in ("ack", "term"):
        setattr(Msg, name, _or_die(getattr(Msg, name), die_on, marker))


def _or_die(settle: Any, die_on: int, marker: Path) -> Any:
    async def settle_or_die(msg: Msg) -> None:
        event = decode(msg.data)
        if event.data.get("n") == die_on:
            marker.write_text(str(event.id))
            os._exit(3)  # no clean-up, no ack: as if the machine had stopped here
        await settle(msg)

    return settle_or_die


async def main(url: str, nats: str, service: str, kind: str, block_on: int, marker: Path) -> None:
    """Run the consumer until killed."""

    async def handle(session: AsyncSession, event: Event, services: Any) -> None:
        if event.data.get("poison"):
            raise PoisonEvent("poisoned on purpose")
        await record_effect(session, "worker", event)
        if event.data.get("n") == block_on:
            await session.flush()
            marker.write_text(str(event.id))
            await asyncio.Event().wait()  # hold the transaction open until SIGKILL

    consumer = Consumer("worker", (kind,), handle, max_deliveries=5)
    runtime = EventsRuntime(service, Database(url), EventsSpec((consumer,)), url=nats)
    await runtime.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    db_url, nats_url, name, event_type, block, marker_path = sys.argv[1:7]
    die_on_n = int(sys.argv[7]) if len(sys.argv) > 7 else -1
    if die_on_n != -1:
        die_before_ack(die_on_n, Path(marker_path))
    asyncio.run(main(db_url, nats_url, name, event_type, int(block), Path(marker_path)))
