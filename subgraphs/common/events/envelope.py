"""The event envelope: what a service says happened, and its JSON wire form."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

SUBJECT_PREFIX = "shop.events."
DLQ_PREFIX = "shop.dlq."


@dataclass(frozen=True)
class Event:
    """One fact another service may react to. `data` holds JSON values only."""

    id: uuid.UUID
    type: str
    source: str
    occurred_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    version: int = 1


class UndecodableEvent(ValueError):
    """A message body that is not an event envelope (a poison message)."""


def new_event(type: str, source: str, data: Mapping[str, Any]) -> Event:
    """A fresh event of `type` from `source`, with a new id and the current UTC time."""
    return Event(
        id=uuid.uuid4(), type=type, source=source, occurred_at=datetime.now(UTC), data=data
    )


def subject_of(event_type: str) -> str:
    """The JetStream subject events of `event_type` travel on."""
    return SUBJECT_PREFIX + event_type


def to_document(event: Event) -> dict[str, Any]:
    """The envelope as a JSON-ready dict (the outbox column and the message body)."""
    return {
        "id": str(event.id),
        "type": event.type,
        "source": event.source,
        "occurredAt": event.occurred_at.isoformat(),
        "version": event.version,
        "data": dict(event.data),
    }


def encode(event: Event) -> bytes:
    """The message body of `event`."""
    return orjson.dumps(to_document(event))


def from_document(document: Any) -> Event:
    """The event a `to_document` dict describes; UndecodableEvent if it is not one."""
    try:
        occurred = datetime.fromisoformat(document["occurredAt"])
        if occurred.tzinfo is None:
            raise ValueError("occurredAt has no time zone")
        data = document["data"]
        if not isinstance(data, dict) or not isinstance(document["type"], str):
            raise ValueError("type must be a string and data an object")
        return Event(
            id=uuid.UUID(document["id"]),
            type=document["type"],
            source=str(document["source"]),
            occurred_at=occurred,
            data=data,
            version=int(document.get("version", 1)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UndecodableEvent(f"not an event envelope: {error!r}") from error


def decode(body: bytes) -> Event:
    """The event in a message body; UndecodableEvent if it is not valid JSON or no envelope."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise UndecodableEvent(f"body is not JSON: {error}") from error
    return from_document(document)
