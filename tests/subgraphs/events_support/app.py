"""A minimal subgraph for the events tests: one mutation that writes an event."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import strawberry
from quart import Quart
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.common.app import SubgraphSpec, create_subgraph_app
from subgraphs.common.auth import TokenCodec
from subgraphs.common.events import Consumer, Event, EventsSpec, new_event, publish_in

MIGRATIONS = Path(__file__).parent / "migrations"
_SECRET = "events-tests-only-secret-0123456789abcdef"


@strawberry.type
class Query:
    """Federation needs a query type."""

    @strawberry.field
    def ok(self) -> bool:
        """Always true."""
        return True


@strawberry.type
class Mutation:
    """Writes that publish events."""

    @strawberry.mutation
    async def emit(self, info: Info, type: str, n: int) -> str:
        """Write one `type` event with data {n} in its own transaction; its id."""
        event = new_event(type, "eventtest", {"n": n})
        async with info.context.db.session() as session, session.begin():
            await publish_in(session, event)
        return str(event.id)


schema = strawberry.federation.Schema(query=Query, mutation=Mutation, federation_version="2.7")


def create_app(name: str, database_url: str, consumers: Sequence[Consumer] = ()) -> Quart:
    """A subgraph app called `name` running `consumers` (and its outbox relay)."""
    spec = SubgraphSpec(
        name=name,
        schema=schema,
        migrations=MIGRATIONS,
        database_url=database_url,
        codec=TokenCodec("HS256", _SECRET, _SECRET),
        events=EventsSpec(consumers=tuple(consumers)),
    )
    return create_subgraph_app(spec)


async def record_effect(session: AsyncSession, consumer: str, event: Event) -> None:
    """The handlers' side effect: one `effects` row (doubles would show as two rows)."""
    await session.execute(
        text("INSERT INTO effects (consumer, event_id, n) VALUES (:c, :e, :n)"),
        {"c": consumer, "e": event.id, "n": event.data.get("n")},
    )
