"""Writing events into the caller's transaction (the transactional outbox)."""

from __future__ import annotations

import orjson
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .envelope import Event, encode
from .tables import outbox

# PostgreSQL delivers a NOTIFY only when its transaction commits, so the relay wakes
# exactly when a row becomes visible, and never for a rolled-back one.
NOTIFY_CHANNEL = "shopgraph_event_outbox"


async def publish_in(session: AsyncSession, event: Event) -> None:
    """Write `event` into this database's outbox in the session's CURRENT transaction: it is
    published only if, and after, that transaction commits."""
    # Serialised the way it will travel, so a non-JSON value fails here, in the request
    # that wrote it, rather than in the relay.
    body = orjson.loads(encode(event))
    await session.execute(insert(outbox).values(id=event.id, type=event.type, body=body))
    await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
