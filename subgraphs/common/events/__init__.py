"""Events between services: a transactional outbox per database, relayed to NATS
JetStream (through FastStream), and at-least-once idempotent consumers with dead letters.

See docs/events.md.
"""

from .envelope import Event, new_event
from .outbox import publish_in
from .runtime import EventsRuntime
from .spec import Consumer, EventsSpec, Handler, PoisonEvent
from .tables import create_event_tables, drop_event_tables

__all__ = [
    "Consumer",
    "Event",
    "EventsRuntime",
    "EventsSpec",
    "Handler",
    "PoisonEvent",
    "create_event_tables",
    "drop_event_tables",
    "new_event",
    "publish_in",
]
