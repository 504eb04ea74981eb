"""The events layer as operated: a cluster URL list for SHOPGRAPH_NATS_URL, its redaction,
and the housekeeping that keeps event_handled from growing forever."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from events_support.harness import (  # the fixtures are imported for pytest to find them
    db_fixture,  # noqa: F401
    effects,
    emit,
    nats_fixture,  # noqa: F401
    recording,
    scalar,
    serving,
    settings_fixture,  # noqa: F401
    unique,
    when,
)
from sqlalchemy import text

from subgraphs.common.database import Database
from subgraphs.common.events.broker import EventBroker
from subgraphs.common.events.relay import OutboxRelay
from subgraphs.common.events.server import NatsServer
from subgraphs.common.urls import redacted
from tests.broker import eventually, free_port


async def test_url_list_with_a_dead_first_server_connects_to_the_next_and_delivers(
    db: Database, nats: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, service = unique("Cluster"), unique("svc")
    dead = f"nats://127.0.0.1:{free_port()}"
    monkeypatch.setenv("SHOPGRAPH_NATS_URL", f"{dead}, {nats.url} ,")
    async with serving(service, db, [recording("clustered", (kind,))]) as server:
        ids = [await emit(server, kind, n) for n in (1, 2)]
        every = {i: 1 for i in ids}
        assert await eventually(lambda: when(effects(db, "clustered"), every)) == every


@pytest.mark.parametrize("value", [",", " , ,", " "])
def test_a_url_list_without_any_server_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValueError, match="SHOPGRAPH_NATS_URL holds no server URL"):
        EventBroker(value)


def test_every_url_of_a_list_is_redacted() -> None:
    assert (
        redacted("nats://u:pw@n1:4222,nats://u:pw@n2:4222")
        == "nats://***@n1:4222,nats://***@n2:4222"
    )
    assert redacted("nats://n1:4222, tls://token@n2:4222") == "nats://n1:4222,tls://***@n2:4222"
    assert redacted("nats://u:secret@nats.example:4222") == "nats://***@nats.example:4222"
    assert redacted("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"


async def test_housekeeping_prunes_handled_rows_past_the_stream_retention_in_batches(
    db: Database, nats: NatsServer
) -> None:
    # 2 500 rows handled 9 days ago (JetStream cannot redeliver them any more), 3 handled
    # 7 days 23 hours ago (still inside the 8 days kept) and 3 just now.
    insert = text(
        "INSERT INTO event_handled (consumer, event_id, handled_at)"
        " SELECT :c, gen_random_uuid(), now() - CAST(:age AS interval)"
        " FROM generate_series(1, :n)"
    )
    async with db.session() as session, session.begin():
        await session.execute(insert, {"c": "old", "age": timedelta(days=9), "n": 2500})
        await session.execute(insert, {"c": "week", "age": timedelta(days=7, hours=23), "n": 3})
        await session.execute(insert, {"c": "new", "age": timedelta(0), "n": 3})
    broker = EventBroker(nats.url)  # not connected: housekeeping needs only the database
    relay = OutboxRelay(unique("svc"), db, broker)
    assert await relay.cleanup(batch=1000) == 2500
    counts = "SELECT string_agg(consumer || '=' || n, ',' ORDER BY consumer) FROM" + (
        " (SELECT consumer, count(*) AS n FROM event_handled GROUP BY consumer) AS c"
    )
    assert await scalar(db, counts) == "new=3,week=3"
    assert await relay.cleanup() == 0


async def test_housekeeping_prunes_outbox_rows_published_over_a_day_ago_only(
    db: Database, nats: NatsServer
) -> None:
    rows = {"old": timedelta(days=2), "recent": timedelta(hours=1)}
    async with db.session() as session, session.begin():
        for name, age in rows.items():
            await session.execute(
                text(
                    "INSERT INTO event_outbox (id, type, body, published_at)"
                    " VALUES (:id, :t, '{}', now() - CAST(:age AS interval))"
                ),
                {"id": uuid.uuid4(), "t": name, "age": age},
            )
        await session.execute(
            text("INSERT INTO event_outbox (id, type, body) VALUES (:id, 'pending', '{}')"),
            {"id": uuid.uuid4()},
        )
    relay = OutboxRelay(unique("svc"), db, EventBroker(nats.url))
    assert await relay.cleanup() == 1
    kept = "SELECT string_agg(type, ',' ORDER BY type) FROM event_outbox"
    assert await scalar(db, kept) == "pending,recent"
