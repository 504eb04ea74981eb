"""Shared pieces of the events tests: the broker and database fixtures, a served test
subgraph, and readers of the outbox, effects, dead letters, /metrics and the streams.

Test modules import the fixtures (`nats_fixture`, `settings_fixture`, `db_fixture`: pytest
names them nats, _settings and db) so that pytest finds them.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from nats.js.api import StreamInfo
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from events_support.app import MIGRATIONS, create_app, record_effect
from subgraphs.common.database import Database, database_url, ensure_database
from subgraphs.common.events import Consumer, Event, publish_in
from subgraphs.common.events.broker import EVENTS_STREAM, EventBroker
from subgraphs.common.events.server import NatsServer
from subgraphs.common.migrations import migrate
from subgraphs.common.serve import RunningServer, start_server
from tests.broker import eventually, start_nats

ACK_WAIT = "2"
PREFIX = "shopgraph_events_"


@pytest.fixture(scope="module", name="nats")
def nats_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = start_nats(tmp_path_factory.mktemp("events"))
    yield server
    server.stop()


@pytest.fixture(autouse=True, name="_settings")
def settings_fixture(monkeypatch: pytest.MonkeyPatch, nats: NatsServer) -> None:
    monkeypatch.setenv("SHOPGRAPH_NATS_URL", nats.url)
    monkeypatch.setenv("SHOPGRAPH_EVENTS_ACK_WAIT_SECONDS", ACK_WAIT)


@pytest_asyncio.fixture(name="db")
async def db_fixture(pg_server_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    # Parametrised tests share a long prefix: the hash keeps their databases apart.
    digest = hashlib.sha1(request.node.name.encode()).hexdigest()[:8]
    name = "ev_" + re.sub(r"\W+", "_", request.node.name).lower()[:32] + "_" + digest
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


async def metrics_of(server: RunningServer, service: str) -> dict[str, float]:
    """The events samples of `service` on the server's /metrics, keyed by the metric's short
    name and its other labels: "handled/<consumer>/<type>", "pending", ..."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{server.url}/metrics")
    assert answer.status_code == 200
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            labels = dict(sample.labels)
            if not sample.name.startswith(PREFIX) or labels.pop("service", None) != service:
                continue
            if sample.name.endswith("_created"):
                continue
            short = sample.name.removeprefix(PREFIX).removesuffix("_total")
            found["/".join([short, *labels.values()])] = sample.value
    return found


async def metrics_become(
    server: RunningServer, service: str, expected: dict[str, float]
) -> dict[str, float]:
    """Poll /metrics until the service's samples are exactly `expected` (15 s at most)."""
    seen: list[dict[str, float]] = []

    async def check() -> dict[str, float] | None:
        seen.append(await metrics_of(server, service))
        return seen[-1] if seen[-1] == expected else None

    try:
        return await eventually(check)
    except AssertionError:
        assert seen[-1] == expected  # shows the difference
        raise


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


async def dead_letter(db: Database, consumer: str) -> tuple[Any, ...] | None:
    """(event id, type, error, deliveries) of the consumer's dead letter, if any."""
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT event_id, type, error, deliveries FROM event_dead_letters"
                    " WHERE consumer = :c"
                ),
                {"c": consumer},
            )
        ).first()
    return tuple(row) if row else None


async def last_message(nats: NatsServer, stream: str, subject: str) -> Any:
    """The JSON body of the last message on `subject`."""
    broker = EventBroker(nats.url)
    await broker.run()
    try:
        message = await broker.jetstream.get_last_msg(stream, subject)
        return orjson.loads(message.data or b"null")
    finally:
        await broker.close()


async def when(value: Any, expected: Any) -> Any:
    """`value` (awaited) if it equals `expected`, else None: for `eventually`."""
    got = await value
    return got if got == expected else None


async def drained(server: RunningServer, service: str) -> dict[str, float] | None:
    """The service's samples once its outbox gauge shows nothing pending."""
    samples = await metrics_of(server, service)
    return samples if samples.get("outbox_pending") == 0 else None


async def settled(nats: NatsServer, durable: str) -> bool:
    """Whether the durable consumer has nothing pending and nothing unacknowledged."""
    broker = EventBroker(nats.url)
    await broker.run()
    try:
        info = await broker.jetstream.consumer_info(EVENTS_STREAM, durable)
        return info.num_pending == 0 and info.num_ack_pending == 0
    finally:
        await broker.close()


async def emit(server: RunningServer, kind: str, n: int) -> uuid.UUID:
    """Write one event through the test subgraph's mutation (a request that must succeed)."""
    query = "mutation($t: String!, $n: Int!) { emit(type: $t, n: $n) }"
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            server.graphql_url, json={"query": query, "variables": {"t": kind, "n": n}}
        )
    assert answer.status_code == 200, answer.text
    return uuid.UUID(answer.json()["data"]["emit"])
