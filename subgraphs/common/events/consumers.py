"""Durable pull consumers: at-least-once delivery, idempotent handling, dead letters.

Each Consumer is one JetStream durable pull consumer `<service>-<name>` on SHOP_EVENTS,
filtered to its event types. A message is handled in ONE database transaction that
first records (consumer, event id) in event_handled: if the row was already there the
handler is skipped. The message is acknowledged only after that transaction commits, so
a process killed mid-message leaves nothing behind and JetStream redelivers the message
after `ack_wait` (to this or another process of the service).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from ..database import Database
from ..settings import positive_number
from .broker import EVENTS_STREAM, EventBroker, declare_streams
from .dead_letters import ERROR_LIMIT, DeadLetter, bury, clean
from .envelope import Event, UndecodableEvent, decode, subject_of
from .metrics import HANDLED, REDELIVERED
from .spec import Consumer, PoisonEvent
from .tables import TYPE_LENGTH, dead_letters, handled

logger = logging.getLogger("shopgraph.events")

ENV_ACK_WAIT = "SHOPGRAPH_EVENTS_ACK_WAIT_SECONDS"
DEFAULT_ACK_WAIT = 30.0
FETCH_TIMEOUT = 5.0
RETRY_BASE_DELAY = 0.2


def ack_wait_setting() -> float:
    """SHOPGRAPH_EVENTS_ACK_WAIT_SECONDS: how long an unacknowledged delivery is held
    before JetStream redelivers it (and the bound on one handler run)."""
    return positive_number(os.environ, ENV_ACK_WAIT, DEFAULT_ACK_WAIT)


def retry_delay(deliveries: int) -> float:
    """The redelivery delay after a failed delivery: 0.2 s doubling, at most 5 s."""
    return float(min(RETRY_BASE_DELAY * 2 ** (deliveries - 1), 5.0))


class ConsumerRunner:
    """Runs one Consumer of one service until cancelled, resubscribing after failures."""

    def __init__(
        self,
        service: str,
        consumer: Consumer,
        database: Database,
        broker: EventBroker,
        services: Any = None,
        ack_wait: float | None = None,
    ) -> None:
        self.service = service
        self.consumer = consumer
        self.database = database
        self.broker = broker
        self.services = services
        self.ack_wait = ack_wait or ack_wait_setting()
        self.durable = f"{service}-{consumer.name}"

    async def run(self) -> None:
        """Subscribe once the broker is up and handle messages; on errors back off and
        subscribe again (the durable consumer on the server keeps the position)."""
        delay = 0.2
        while True:
            await self.broker.ready.wait()
            try:
                subscription = await self._subscribe()
                delay = 0.2
                try:
                    await self._consume(subscription)
                finally:
                    with contextlib.suppress(Exception):
                        await subscription.unsubscribe()
            except Exception as error:  # broker away or restarted: resubscribe later
                logger.warning("events: consumer %s: %r; resubscribing", self.durable, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def config(self) -> ConsumerConfig:
        """The durable consumer's settings (created, or updated when they changed)."""
        return ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            filter_subjects=[subject_of(t) for t in self.consumer.event_types],
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=float(self.ack_wait),
            # We count deliveries ourselves and dead-letter; the server never gives up.
            max_deliver=-1,
            max_ack_pending=1000,
        )

    async def _subscribe(self) -> Any:
        js = self.broker.jetstream
        await declare_streams(js)  # the server may have lost them since we connected
        await js.add_consumer(EVENTS_STREAM, config=self.config())
        return await js.pull_subscribe_bind(durable=self.durable, stream=EVENTS_STREAM)

    async def _consume(self, subscription: Any) -> None:
        while True:
            try:
                messages = await subscription.fetch(batch=1, timeout=FETCH_TIMEOUT)
            except NatsTimeout:
                continue
            for msg in messages:
                await self.process(msg)

    async def process(self, msg: Msg) -> None:
        """Handle one delivery: decode, handle once, then ack / nak / dead-letter."""
        deliveries = msg.metadata.num_delivered
        if deliveries > 1:
            REDELIVERED.labels(self.service, self.consumer.name).inc()
        try:
            event = decode(msg.data)
        except UndecodableEvent as error:  # a poison message: retrying cannot help
            await self._give_up(msg, None, str(error), deliveries)
            return
        if deliveries > 1 and await self._buried(event):
            # dead-lettered by an earlier delivery whose TERM was lost (the process died
            # after burying it) or came after ack_wait: one dead letter per event
            await msg.term()
            return
        if msg.subject != subject_of(event.type):  # forged: the relay never sends this
            reason = f"envelope type {event.type[:100]!r} does not match subject {msg.subject!r}"
            await self._give_up(msg, event, reason, deliveries)
            return
        if deliveries > self.consumer.max_deliveries:  # earlier deliveries died mid-handler
            reason = f"no outcome after {deliveries - 1} deliveries (the consumer stopped)"
            await self._give_up(msg, event, reason, deliveries)
            return
        try:
            fresh = await self._handle(event)
        except PoisonEvent as error:  # the handler says retrying cannot help
            await self._give_up(msg, event, str(error) or "PoisonEvent", deliveries)
            return
        except Exception as error:
            await self._failed(msg, event, error, deliveries)
            return
        await msg.ack()
        if fresh:
            HANDLED.labels(self.service, self.consumer.name, event.type).inc()

    async def _buried(self, event: Event) -> bool:
        """Whether this consumer dead-lettered `event` already (asked of redeliveries
        only; False when the database cannot say, as before this check)."""
        try:
            async with self.database.session() as session:
                found = await session.scalar(
                    select(dead_letters.c.id)
                    .where(dead_letters.c.consumer == self.consumer.name)
                    .where(dead_letters.c.event_id == event.id)
                    .limit(1)
                )
        except Exception as error:
            logger.warning("events: consumer %s could not look up dead letters: %r",
                           self.durable, clean(str(error), ERROR_LIMIT))
            return False
        return found is not None

    async def _handle(self, event: Event) -> bool:
        """Run the handler in one transaction with the event_handled row; False if the
        event had been handled already (the handler is then not called)."""
        async with asyncio.timeout(self.ack_wait):
            async with self.database.session() as session, session.begin():
                first = await session.scalar(
                    insert(handled)
                    .values(consumer=self.consumer.name, event_id=event.id)
                    .on_conflict_do_nothing()
                    .returning(handled.c.event_id)
                )
                if first is None:
                    return False
                await self.consumer.handle(session, event, self.services)
        return True

    async def _failed(self, msg: Msg, event: Event, error: Exception, deliveries: int) -> None:
        message = f"{type(error).__name__}: {error}"
        if deliveries >= self.consumer.max_deliveries:
            await self._give_up(msg, event, message, deliveries)
            return
        logger.warning(  # %r: the type and the error may carry line breaks from the event
            "events: consumer %s failed on %r event %s (delivery %d of %d): %r",
            self.durable,
            clean(event.type, TYPE_LENGTH),
            event.id,
            deliveries,
            self.consumer.max_deliveries,
            clean(message, ERROR_LIMIT),
        )
        await msg.nak(delay=retry_delay(deliveries))

    async def _give_up(self, msg: Msg, event: Event | None, error: str, deliveries: int) -> None:
        letter = DeadLetter(
            service=self.service,
            consumer=self.consumer.name,
            event=event,
            body=msg.data,
            error=error,
            deliveries=deliveries,
            sequence=msg.metadata.sequence.stream,
        )
        try:
            await bury(letter, self.database, self.broker)
        finally:  # even if burying failed: a poison message must never come back
            await msg.term()
