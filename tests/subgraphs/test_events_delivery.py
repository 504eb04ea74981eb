"""The events layer against real PostgreSQL and a real nats-server: outbox, relay,
at-least-once idempotent consumers, dead letters, a consumer killed mid-message and the
broker down for a while.

Each test has its own database and its own service, consumer and event type names, so
tests sharing the module's broker do not see each other's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from events_support.app import MIGRATIONS, create_app, record_effect
from nats.js.api import StreamInfo
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.database import Database, database_url, ensure_database
from subgraphs.common.events import Consumer, Event, new_event, publish_in
from subgraphs.common.events.broker import DEAD_LETTER_STREAM, EVENTS_STREAM, EventBroker
from subgraphs.common.events.relay import OutboxRelay
from subgraphs.common.events.server import NatsServer
from subgraphs.common.migrations import migrate
from subgraphs.common.serve import RunningServer, start_server
from tests.broker import eventually, start_nats

SUPPORT = Path(__file__).parent / "events_support"
ACK_WAIT = "2"


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = start_nats(tmp_path_factory.mktemp("events"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, nats: NatsServer) -> None:
    monkeypatch.setenv("SHOPGRAPH_NATS_URL", nats.url)
    monkeypatch.setenv("SHOPGRAPH_EVENTS_ACK_WAIT_SECONDS", ACK_WAIT)


@pytest_asyncio.fixture
async def db(pg_server_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    name = "ev_" + re.sub(r"\W+", "_", request.node.name).lower()[:40]
    url = database_url(pg_server_url, name, prefix="sgtest")
    await ensure_database(url)
    database = Database(url)
    await migrate(database.engine, MIGRATIONS)
    yield database
    await database.dispose()


def unique(prefix: str) -> str:
    """A name no other test (or earlier run on the same broker) uses."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@contextlib.asynccontextmanager
async def serving(
    name: str, db: Database, consumers: Sequence[Consumer] = ()
) -> AsyncIterator[RunningServer]:
    server = await start_server(create_app(name, db.url, consumers))
    try:
        yield server
    finally:
        await server.stop()


async def write(db: Database, *events: Event) -> None:
    async with db.session() as session, session.begin():
        for event in events:
            await publish_in(session, event)


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def effects(db: Database, consumer: str) -> dict[uuid.UUID, int]:
    """How many effect rows each event left for `consumer`."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT event_id, count(*) FROM effects WHERE consumer = :c GROUP BY event_id"),
            {"c": consumer},
        )
        return {row[0]: row[1] for row in rows}


async def metric(server: RunningServer, name: str, **labels: str) -> float | None:
    """A sample's value from the server's /metrics (None if absent)."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{server.url}/metrics")
    assert answer.status_code == 200
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


async def subject_count(nats: NatsServer, stream: str, subject: str) -> int:
    """How many messages `stream` holds on `subject`."""
    broker = EventBroker(nats.url)
    await broker.run()
    try:
        info: StreamInfo = await broker.jetstream.stream_info(stream, subjects_filter=subject)
        return int((info.state.subjects or {}).get(subject, 0))
    finally:
        await broker.close()


def recording(name: str, kinds: tuple[str, ...], **options: Any) -> Consumer:
    """A consumer whose handler writes one effects row per event."""

    async def handle(session: AsyncSession, event: Event, services: Any) -> None:
        await record_effect(session, name, event)

    return Consumer(name, kinds, handle, **options)


async def test_committed_event_is_published_and_handled_once_rolled_back_never(
    db: Database, nats: NatsServer
) -> None:
    kind, service = unique("Placed"), unique("svc")
    async with serving(service, db, [recording("count", (kind,))]) as server:
        kept, dropped = new_event(kind, "t", {"n": 1}), new_event(kind, "t", {"n": 2})
        await write(db, kept)
        with pytest.raises(RuntimeError):
            async with db.session() as session, session.begin():
                await publish_in(session, dropped)
                raise RuntimeError("roll back")

        assert await eventually(lambda: effects(db, "count")) == {kept.id: 1}
        await eventually(
            lambda: metric(
                server,
                "shopgraph_events_handled_total",
                service=service,
                consumer="count",
                type=kind,
            )
        )
        assert (
            await metric(server, "shopgraph_events_published_total", service=service, type=kind)
            == 1.0
        )
        assert await metric(server, "shopgraph_events_outbox_pending", service=service) == 0.0
        assert (
            await metric(
                server,
                "shopgraph_events_handled_total",
                service=service,
                consumer="count",
                type=kind,
            )
            == 1.0
        )
    assert await scalar(db, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL") == 0
    assert await scalar(db, "SELECT count(*) FROM event_outbox WHERE id = :i", i=dropped.id) == 0
    assert await scalar(db, "SELECT count(*) FROM event_handled") == 1
    assert await subject_count(nats, EVENTS_STREAM, f"shop.events.{kind}") == 1
    assert await effects(db, "count") == {kept.id: 1}
