"""Giving up on a message: a row in event_dead_letters, a copy on the DLQ subject, an
ERROR log line and a metric.

A dead letter is hostile input by definition (it is what we could not handle), so every
value taken from it is made safe to store, publish and log first: NUL-free, capped to its
column, the payload kept as at most PAYLOAD_LIMIT bytes of text. Burying never raises: a
row or DLQ copy that still cannot be written is logged and counted, and the caller TERMs
the message anyway so it never comes back.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

import orjson
from sqlalchemy.dialects.postgresql import insert

from ..database import Database
from .broker import DEAD_LETTER_STREAM, EventBroker
from .envelope import DLQ_PREFIX, Event, to_document
from .metrics import DEAD_LETTER_FAILURES, DEAD_LETTERED
from .tables import TYPE_LENGTH, dead_letters

logger = logging.getLogger("shopgraph.events")

PAYLOAD_LIMIT = 64 * 1024  # bytes of the body kept in the row and the DLQ copy
ERROR_LIMIT = 4000  # characters of the error kept
DOCUMENT_LIMIT = 512 * 1024  # the DLQ copy stays well below NATS's 1 MB max payload
_PLAIN = re.compile(rf"[A-Za-z0-9_-]{{1,{TYPE_LENGTH}}}")


def clean(text: str, limit: int) -> str:
    """`text` without NUL characters (PostgreSQL text cannot hold them), cut to `limit`."""
    text = text.replace("\x00", "\\x00")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def payload_text(body: bytes) -> str:
    """The first PAYLOAD_LIMIT bytes of `body` as text (invalid bytes escaped, NUL-free),
    with a note of the full size when it was cut."""
    text = clean(body[:PAYLOAD_LIMIT].decode("utf-8", "backslashreplace"), 4 * PAYLOAD_LIMIT)
    if len(body) > PAYLOAD_LIMIT:
        text += f"\n[truncated: {len(body)} bytes in all]"
    return text


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
        """The event's type, NUL-free and capped; "unknown" for an undecodable body."""
        return clean(self.event.type, TYPE_LENGTH) if self.event else "unknown"

    @property
    def label(self) -> str:
        """The type as a metric label: "invalid" unless it is a plain name (as the subject
        tokens are), so forged types neither break the exposition nor add series."""
        if self.event is None:
            return "unknown"
        return self.event.type if _PLAIN.fullmatch(self.event.type) else "invalid"

    @property
    def safe_error(self) -> str:
        """The error, NUL-free and capped."""
        return clean(self.error, ERROR_LIMIT)

    @property
    def key(self) -> str:
        """The event id, or the stream sequence of an undecodable body."""
        return str(self.event.id) if self.event else f"seq-{self.sequence}"

    def document(self) -> bytes:
        """The DLQ message body: {event, error, deliveries, payloadBytes} (+ the capped raw
        payload if undecodable, or if the event is too big to copy whole)."""
        body: dict[str, object] = {
            "event": None,
            "error": self.safe_error,
            "deliveries": self.deliveries,
            "payloadBytes": len(self.body),
        }
        if self.event is not None:
            body["event"] = to_document(self.event)
            whole = orjson.dumps(body)
            if len(whole) <= DOCUMENT_LIMIT:
                return whole
            body["event"] = {"id": str(self.event.id), "type": self.event_type}
        body["payload"] = payload_text(self.body)
        return orjson.dumps(body)


async def bury(letter: DeadLetter, database: Database, broker: EventBroker) -> None:
    """Record, publish, log and count a dead letter (the caller then TERMs the message).
    Never raises: a stage that fails is logged and counted instead."""
    for stage, step in (("store", _store), ("publish", _publish)):
        try:
            await step(letter, database, broker)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.error(
                "events: dead letter %s of service=%s consumer=%s event=%s failed: %r",
                stage,
                letter.service,
                letter.consumer,
                letter.key,
                clean(str(error), ERROR_LIMIT),
            )
            DEAD_LETTER_FAILURES.labels(letter.service, letter.consumer, stage).inc()
    logger.error(
        "events: dead letter: service=%s consumer=%s type=%r event=%s deliveries=%d error=%r",
        letter.service,
        letter.consumer,
        letter.event_type,
        letter.event.id if letter.event else f"undecodable (stream seq {letter.sequence})",
        letter.deliveries,
        letter.safe_error,
    )
    DEAD_LETTERED.labels(letter.service, letter.consumer, letter.label).inc()


async def _store(letter: DeadLetter, database: Database, broker: EventBroker) -> None:
    async with database.session() as session, session.begin():
        await session.execute(
            insert(dead_letters)
            .values(
                event_id=letter.event.id if letter.event else None,
                consumer=letter.consumer,
                type=letter.event_type if letter.event else None,
                error=letter.safe_error,
                deliveries=letter.deliveries,
                payload=payload_text(letter.body),
            )
            .on_conflict_do_nothing()
        )


async def _publish(letter: DeadLetter, database: Database, broker: EventBroker) -> None:
    await broker.publish(
        letter.document(),
        letter.subject,
        msg_id=f"{letter.service}.{letter.consumer}.{letter.key}",
        stream=DEAD_LETTER_STREAM,
    )
