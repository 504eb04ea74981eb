"""Giving up on a message: a row in event_dead_letters, a copy on the DLQ subject, an
ERROR log line and a metric."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson
from sqlalchemy.dialects.postgresql import insert

from ..database import Database
from .broker import DEAD_LETTER_STREAM, EventBroker
from .envelope import DLQ_PREFIX, Event, to_document
from .metrics import DEAD_LETTERED
from .tables import dead_letters

logger = logging.getLogger("shopgraph.events")


@dataclass(frozen=True)
class DeadLetter:
    """A message one consumer gave up on. `event` is None when the body was undecodable."""

    service: str
    consumer: str
    event: Event | None
    body: bytes
    error: str
    deliveries: int
    sequence: int  # the message's stream sequence: names an undecodable one

    @property
    def subject(self) -> str:
        """Where the dead letter is published: shop.dlq.<service>.<consumer>."""
        return f"{DLQ_PREFIX}{self.service}.{self.consumer}"

    @property
    def event_type(self) -> str:
        """The event's type, or "unknown" for an undecodable body."""
        return self.event.type if self.event else "unknown"

    def document(self) -> dict[str, object]:
        """The DLQ message body: {event, error, deliveries} (+ the raw payload if undecodable)."""
        body: dict[str, object] = {
            "event": to_document(self.event) if self.event else None,
            "error": self.error,
            "deliveries": self.deliveries,
        }
        if self.event is None:
            body["payload"] = self.body.decode("utf-8", "replace")
        return body


async def bury(letter: DeadLetter, database: Database, broker: EventBroker) -> None:
    """Record, publish, log and count a dead letter (the caller then TERMs the message)."""
    payload = letter.body.decode("utf-8", "replace")
    async with database.session() as session, session.begin():
        await session.execute(
            insert(dead_letters)
            .values(
                event_id=letter.event.id if letter.event else None,
                consumer=letter.consumer,
                type=letter.event.type if letter.event else None,
                error=letter.error,
                deliveries=letter.deliveries,
                payload=payload,
            )
            .on_conflict_do_nothing()
        )
    key = str(letter.event.id) if letter.event else f"seq-{letter.sequence}"
    await broker.publish(
        orjson.dumps(letter.document()),
        letter.subject,
        msg_id=f"{letter.service}.{letter.consumer}.{key}",
        stream=DEAD_LETTER_STREAM,
    )
    logger.error(
        "events: dead letter: service=%s consumer=%s type=%s event=%s deliveries=%d error=%s",
        letter.service,
        letter.consumer,
        letter.event_type,
        letter.event.id if letter.event else f"undecodable (stream seq {letter.sequence})",
        letter.deliveries,
        letter.error,
    )
    DEAD_LETTERED.labels(letter.service, letter.consumer, letter.event_type).inc()
