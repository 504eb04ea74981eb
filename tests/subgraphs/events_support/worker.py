"""A consumer in its own OS process, for the kill-mid-message test.

    PYTHONPATH=tests/subgraphs python -m events_support.worker \
        <database_url> <nats_url> <service> <event type> <block_on_n> <marker>

Handles `<event type>` events by writing an effects row; on the event whose data n equals
`block_on_n` (-1: never) it writes the row, touches `marker` and then blocks inside the
still-open transaction until the process is killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from events_support.app import record_effect
from subgraphs.common.database import Database
from subgraphs.common.events import Consumer, Event, EventsRuntime, EventsSpec


async def main(url: str, nats: str, service: str, kind: str, block_on: int, marker: Path) -> None:
    """Run the consumer until killed."""

    async def handle(session: AsyncSession, event: Event, services: Any) -> None:
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
    asyncio.run(main(db_url, nats_url, name, event_type, int(block), Path(marker_path)))
