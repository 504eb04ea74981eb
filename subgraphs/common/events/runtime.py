"""Running a service's events machinery: broker connection, outbox relay, consumers."""

from __future__ import annotations

import asyncio
from typing import Any

from ..database import Database, create_engine
from ..shutdown import stop_tasks, within
from .broker import EventBroker
from .consumers import ConsumerRunner
from .relay import OutboxRelay
from .spec import EventsSpec


class EventsRuntime:
    """Background tasks of one service; `start` returns at once (the broker may be down)."""

    def __init__(
        self,
        service: str,
        database: Database,
        spec: EventsSpec,
        services: Any = None,
        url: str | None = None,
    ) -> None:
        self.service = service
        # A pool of its own: event work neither waits for nor starves the requests' pool.
        engine = create_engine(database.url, pool_size=2, max_overflow=2 + len(spec.consumers))
        self.database = Database(database.url, engine)
        # the consumers' writes (an order paid on PaymentCaptured) notify live subscribers too
        self.database.live = database.live
        self.broker = EventBroker(url, name=f"shopgraph-{service}")
        self.relay = OutboxRelay(service, self.database, self.broker)
        self.consumers = [
            ConsumerRunner(service, consumer, self.database, self.broker, services)
            for consumer in spec.consumers
        ]
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start connecting, relaying and consuming in the background."""
        jobs = {
            f"{self.service}-events-connect": self.broker.run(),
            f"{self.service}-events-relay": self.relay.run(),
        }
        for runner in self.consumers:
            jobs[f"{runner.durable}-consumer"] = runner.run()
        self._tasks = [asyncio.create_task(job, name=name) for name, job in jobs.items()]

    async def stop(self) -> None:
        """Stop the tasks (a message being handled is rolled back and redelivered later),
        then close the connection and the pool; every step has a time limit (shutdown.py)."""
        await stop_tasks(self._tasks, f"{self.service} events")
        self._tasks = []
        await self.broker.close()  # bounded itself: drained, or closed without draining
        await within(self.database.dispose(), f"{self.service} events: closing the pool")
