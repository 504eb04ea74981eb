"""The outbox relay: publishes committed outbox rows to JetStream, then marks them.

Woken by the NOTIFY `publish_in` sends (delivered at commit), and by a poll every
second in case a notification was missed (listener reconnecting, broker back up).
Rows are claimed with `FOR UPDATE SKIP LOCKED`, so two processes of one service never
publish the same row at the same time; a row is marked published only after its
PubAck, and JetStream de-duplicates a republished row by its `Nats-Msg-Id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg
import orjson
from sqlalchemy import ColumnElement, Table, delete, func, select, tuple_, update

from ..database import Database, asyncpg_dsn
from .broker import EventBroker
from .envelope import subject_of
from .metrics import OUTBOX_PENDING, PUBLISHED
from .outbox import NOTIFY_CHANNEL
from .tables import handled, outbox

logger = logging.getLogger("shopgraph.events")

BATCH = 100
POLL_SECONDS = 1.0
RETENTION = timedelta(days=1)
# JetStream keeps an event 7 days (SHOP_EVENTS max_age), so a redelivery that the
# event_handled row must stop comes within that; a day more for clock skew.
HANDLED_RETENTION = timedelta(days=8)
CLEANUP_EVERY = 600.0  # seconds between deletions of old published and handled rows
CLEANUP_BATCH = 1000  # rows per DELETE: short transactions, short locks


class OutboxRelay:
    """Publishes one service's outbox until stopped; backs off while the broker is away."""

    def __init__(self, service: str, database: Database, broker: EventBroker) -> None:
        self.service = service
        self.database = database
        self.broker = broker
        self.wake = asyncio.Event()
        self._last_cleanup = 0.0

    async def run(self) -> None:
        """Listen for commits and publish pending rows, forever (cancel to stop)."""
        listener = asyncio.create_task(self._listen(), name=f"{self.service}-outbox-listen")
        try:
            await self._publish_forever()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _publish_forever(self) -> None:
        delay = 0.2
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), POLL_SECONDS)
            self.wake.clear()
            try:
                await self.drain()
                delay = 0.2
            except Exception as error:  # broker or database away: keep the rows, retry later
                logger.warning("events: %s outbox relay: %s; retrying", self.service, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                self.wake.set()

    async def drain(self) -> None:
        """Publish every pending row (in batches), then refresh the pending gauge."""
        try:
            if self.broker.connected:
                while await self._publish_batch() == BATCH:
                    pass
        finally:  # also when publishing failed or timed out: the gauge shows the backlog
            await self._refresh_pending()
        await self._cleanup()

    async def _publish_batch(self) -> int:
        """Claim up to BATCH pending rows, publish them in order, mark the acknowledged ones."""
        done: list[uuid.UUID] = []
        async with self.database.session() as session, session.begin():
            rows = (
                await session.execute(
                    select(outbox.c.id, outbox.c.type, outbox.c.body)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.created_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            failure: Exception | None = None
            for row in rows:
                try:
                    await self.publish_row(row.id, row.type, row.body)
                except Exception as error:  # later rows wait for the next attempt
                    failure = error
                    break
                done.append(row.id)
            # What was acknowledged is marked (and committed) even when a later row failed.
            await _mark_published(session, done)
        if failure is not None:
            raise failure
        return len(rows)

    async def publish_row(self, event_id: uuid.UUID, event_type: str, body: Any) -> None:
        """Publish one outbox row's event (Nats-Msg-Id = its id) and count it."""
        ack = await self.broker.publish(orjson.dumps(body), subject_of(event_type), str(event_id))
        if not ack.duplicate:
            PUBLISHED.labels(self.service, event_type).inc()

    async def _refresh_pending(self) -> None:
        async with self.database.session() as session:
            pending = await session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        OUTBOX_PENDING.labels(self.service).set(pending or 0)

    async def _cleanup(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_cleanup < CLEANUP_EVERY:
            return
        self._last_cleanup = now
        await self.cleanup()

    async def cleanup(self, batch: int = CLEANUP_BATCH) -> int:
        """Delete outbox rows published more than RETENTION ago and event_handled rows older
        than HANDLED_RETENTION, `batch` rows per transaction; the number deleted."""
        deleted = 0
        for table, column, retention in (
            (outbox, outbox.c.published_at, RETENTION),
            (handled, handled.c.handled_at, HANDLED_RETENTION),
        ):
            while True:
                count = await self._delete_batch(table, column, retention, batch)
                deleted += count
                if count < batch:
                    break
        return deleted

    async def _delete_batch(
        self, table: Table, column: ColumnElement[Any], retention: timedelta, batch: int
    ) -> int:
        key = list(table.primary_key.columns)
        old = select(*key).where(column < func.now() - retention).limit(batch)
        async with self.database.session() as session, session.begin():
            result = await session.execute(delete(table).where(tuple_(*key).in_(old)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def _listen(self) -> None:
        """LISTEN on the outbox channel on a connection of its own; reconnect on loss."""
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the poll keeps events flowing meanwhile
                logger.warning("events: %s outbox listener: %s", self.service, error)
            await asyncio.sleep(1.0)

    async def _listen_once(self) -> None:
        dsn, options = asyncpg_dsn(self.database.url)
        conn = await asyncpg.connect(dsn, **options)
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_args: self.wake.set())
            self.wake.set()  # rows may have been committed while we were not listening
            await lost.wait()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)


async def _mark_published(session: Any, ids: Sequence[uuid.UUID]) -> None:
    if ids:
        await session.execute(
            update(outbox).where(outbox.c.id.in_(ids)).values(published_at=func.now())
        )
