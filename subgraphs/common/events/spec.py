"""What a service declares about its events: its consumers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .envelope import Event

Handler = Callable[[AsyncSession, Event, Any], Awaitable[None]]  # (session, event, services)

# Names become NATS subject tokens and consumer names: no dots, spaces or wildcards.
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


class PoisonEvent(Exception):
    """Raised by a handler for an event that can never be handled (a malformed value, a
    rendering that cannot succeed): the event is dead-lettered at once, without retries,
    with this exception's message as the error. The handler's transaction is rolled back."""


@dataclass(frozen=True)
class Consumer:
    """A durable, at-least-once subscription of one service to some event types."""

    name: str
    event_types: tuple[str, ...]
    handle: Handler
    max_deliveries: int = 5

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.name):
            raise ValueError(f"consumer name {self.name!r}: letters, digits, '-' or '_' only")
        if not self.event_types or not all(_TOKEN.fullmatch(t) for t in self.event_types):
            raise ValueError(f"consumer {self.name!r}: event types must be plain names")
        if self.max_deliveries < 1:
            raise ValueError(f"consumer {self.name!r}: max_deliveries must be at least 1")


@dataclass(frozen=True)
class EventsSpec:
    """A service's part in the events layer: its consumers (none: publish-only)."""

    consumers: Sequence[Consumer] = ()
