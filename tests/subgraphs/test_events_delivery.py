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
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from events_support.app import record_effect
from events_support.harness import (  # the fixtures are imported for pytest to find them
    ACK_WAIT,
    db_fixture,  # noqa: F401
    dead_letter,
    drained,
    effects,
    emit,
    last_message,
    metrics_become,
    nats_fixture,  # noqa: F401
    recording,
    scalar,
    serving,
    settings_fixture,  # noqa: F401
    settled,
    subject_count,
    unique,
    when,
    write,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.database import Database
from subgraphs.common.events import Consumer, Event, new_event, publish_in
from subgraphs.common.events.broker import DEAD_LETTER_STREAM, EVENTS_STREAM, EventBroker
from subgraphs.common.events.relay import OutboxRelay
from subgraphs.common.events.server import NatsServer
from tests.broker import eventually, start_nats

SUPPORT = Path(__file__).parent / "events_support"


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
        expected = {f"published/{kind}": 1, "outbox_pending": 0, f"handled/count/{kind}": 1}
        assert await metrics_become(server, service, expected) == expected
    assert await scalar(db, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL") == 0
    assert await scalar(db, "SELECT count(*) FROM event_outbox WHERE id = :i", i=dropped.id) == 0
    assert await scalar(db, "SELECT count(*) FROM event_handled") == 1
    assert await subject_count(nats, EVENTS_STREAM, f"shop.events.{kind}") == 1
    assert await effects(db, "count") == {kept.id: 1}


async def test_failing_handler_is_redelivered_until_it_succeeds_then_handled_once(
    db: Database,
) -> None:
    kind, service = unique("Flaky"), unique("svc")
    calls: list[uuid.UUID] = []

    async def flaky(session: AsyncSession, event: Event, services: Any) -> None:
        calls.append(event.id)
        await record_effect(session, "flaky", event)  # rolled back when we raise below
        if len(calls) <= 2:
            raise ConnectionError(f"downstream away (call {len(calls)})")

    async with serving(service, db, [Consumer("flaky", (kind,), flaky)]) as server:
        event = new_event(kind, "t", {"n": 7})
        await write(db, event)
        assert await eventually(lambda: effects(db, "flaky")) == {event.id: 1}
        expected = {
            f"published/{kind}": 1,
            "outbox_pending": 0,
            "redelivered/flaky": 2,
            f"handled/flaky/{kind}": 1,
        }
        assert await metrics_become(server, service, expected) == expected
    assert calls == [event.id] * 3
    assert await effects(db, "flaky") == {event.id: 1}
    assert await scalar(db, "SELECT count(*) FROM event_dead_letters") == 0


async def test_poison_event_is_dead_lettered_after_max_deliveries(
    db: Database, nats: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    kind, service = unique("Poison"), unique("svc")

    async def refuse(session: AsyncSession, event: Event, services: Any) -> None:
        raise ValueError(f"cannot handle order {event.data['n']}")

    consumer = Consumer("picky", (kind,), refuse, max_deliveries=3)
    caplog.set_level(logging.ERROR, logger="shopgraph.events")
    async with serving(service, db, [consumer]) as server:
        event = new_event(kind, "t", {"n": 42})
        await write(db, event)
        row = await eventually(lambda: dead_letter(db, "picky"))
        assert row == (event.id, kind, "ValueError: cannot handle order 42", 3)
        expected = {
            f"published/{kind}": 1,
            "outbox_pending": 0,
            "redelivered/picky": 2,
            f"dead_lettered/picky/{kind}": 1,
        }
        assert await metrics_become(server, service, expected) == expected
    letter = await last_message(nats, DEAD_LETTER_STREAM, f"shop.dlq.{service}.picky")
    assert letter["error"] == "ValueError: cannot handle order 42"
    assert letter["deliveries"] == 3
    assert letter["event"]["id"] == str(event.id)
    assert letter["event"]["data"] == {"n": 42}
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    for part in (service, "picky", kind, str(event.id), "ValueError: cannot handle order 42"):
        assert part in line
    assert await scalar(db, "SELECT payload::jsonb ->> 'id' FROM event_dead_letters") == str(
        event.id
    )


async def test_undecodable_message_is_dead_lettered_at_once(db: Database, nats: NatsServer) -> None:
    kind, service = unique("Garbled"), unique("svc")
    consumer = recording("strict", (kind,), max_deliveries=5)
    async with serving(service, db, [consumer]) as server:
        broker = EventBroker(nats.url)
        await broker.run()
        try:
            await broker.publish(b"\xffnot json", f"shop.events.{kind}", msg_id=unique("raw"))
        finally:
            await broker.close()
        row = await eventually(lambda: dead_letter(db, "strict"))
        assert row[0] is None and row[1] is None and row[3] == 1
        assert row[2].startswith("body is not JSON")
        expected = {"outbox_pending": 0, "dead_lettered/strict/unknown": 1}
        assert await metrics_become(server, service, expected) == expected
    assert await scalar(db, "SELECT payload FROM event_dead_letters") == "\\xffnot json"
    letter = await last_message(nats, DEAD_LETTER_STREAM, f"shop.dlq.{service}.strict")
    assert letter["event"] is None and letter["deliveries"] == 1
    assert await effects(db, "strict") == {}


async def test_republished_row_is_deduplicated_by_the_broker(
    db: Database, nats: NatsServer
) -> None:
    kind, service = unique("Twice"), unique("svc")
    event = new_event(kind, "t", {"n": 1})
    await write(db, event)
    broker = EventBroker(nats.url)
    await broker.run()
    relay = OutboxRelay(service, db, broker)
    try:
        # The PubAck of this first publish is "lost": the row stays unpublished ...
        body = await scalar(db, "SELECT body FROM event_outbox WHERE id = :i", i=event.id)
        await relay.publish_row(event.id, kind, body)
        # ... so the relay publishes it again and marks it this time.
        await relay.drain()
    finally:
        await broker.close()
    assert await scalar(db, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL") == 0
    assert await subject_count(nats, EVENTS_STREAM, f"shop.events.{kind}") == 1
    async with serving(service, db, [recording("once", (kind,))]) as server:
        assert await eventually(lambda: effects(db, "once")) == {event.id: 1}
        # The duplicate publish was not counted as a publication either.
        expected = {f"published/{kind}": 1, "outbox_pending": 0, f"handled/once/{kind}": 1}
        assert await metrics_become(server, service, expected) == expected


async def start_worker(
    db: Database,
    nats: NatsServer,
    service: str,
    kind: str,
    block_on: int,
    marker: Path,
    die_on: int = -1,
    log: Path | None = None,
) -> asyncio.subprocess.Process:
    """The events_support worker in its own OS process (see its docstring for the two
    crash points, `block_on` and `die_on`); its stderr to `log` if given."""
    paths = [str(SUPPORT.parent), str(SUPPORT.parents[2]), os.environ.get("PYTHONPATH", "")]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        "SHOPGRAPH_EVENTS_ACK_WAIT_SECONDS": ACK_WAIT,
    }
    args = [db.url, nats.url, service, kind, str(block_on), str(marker), str(die_on)]
    with log.open("wb") if log else contextlib.nullcontext() as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "events_support.worker", *args, env=env, stderr=stderr
        )


async def test_consumer_killed_mid_message_loses_nothing_and_doubles_nothing(
    db: Database, nats: NatsServer, tmp_path: Path
) -> None:
    kind, service = unique("Killed"), unique("svc")
    events = [new_event(kind, "t", {"n": n}) for n in range(1, 6)]
    marker = tmp_path / "inside-handler"
    first = await start_worker(db, nats, service, kind, 3, marker)
    second: asyncio.subprocess.Process | None = None
    try:
        await write(db, *events)
        await eventually(lambda: _exists(marker), timeout=30)
        # The third event's effect row is written but its transaction is still open.
        first.kill()
        await first.wait()
        assert await effects(db, "worker") == {events[0].id: 1, events[1].id: 1}
        second = await start_worker(db, nats, service, kind, -1, marker)
        every = {event.id: 1 for event in events}
        assert await eventually(lambda: when(effects(db, "worker"), every), timeout=30) == every
        await eventually(lambda: settled(nats, f"{service}-worker"))
    finally:
        await _kill(first, second)
    assert await effects(db, "worker") == every
    assert await scalar(db, "SELECT count(*) FROM event_handled") == 5
    assert await scalar(db, "SELECT count(*) FROM event_dead_letters") == 0


async def test_consumer_dying_after_commit_before_ack_is_skipped_when_redelivered(
    db: Database, nats: NatsServer, tmp_path: Path
) -> None:
    kind, service = unique("Unacked"), unique("svc")
    events = [new_event(kind, "t", {"n": n}) for n in range(1, 6)]
    marker = tmp_path / "committed-not-acked"
    first = await start_worker(db, nats, service, kind, -1, marker, die_on=3)
    second: asyncio.subprocess.Process | None = None
    try:
        for event in events:  # one transaction each: published (and delivered) in this order
            await write(db, event)
        assert await asyncio.wait_for(first.wait(), 30) == 3  # exited in the ack hook
        assert marker.read_text() == str(events[2].id)
        # The third event's transaction committed (effect + event_handled row); no ack.
        assert await effects(db, "worker") == {event.id: 1 for event in events[:3]}
        assert await handled_ids(db) == {event.id for event in events[:3]}
        second = await start_worker(db, nats, service, kind, -1, marker)
        every = {event.id: 1 for event in events}
        assert await eventually(lambda: when(effects(db, "worker"), every), timeout=30) == every
        # Everything acknowledged: the second process got the third event again and acked it.
        await eventually(lambda: settled(nats, f"{service}-worker"), timeout=30)
    finally:
        await _kill(first, second)
    assert await effects(db, "worker") == every
    assert await handled_ids(db) == {event.id for event in events}
    assert await scalar(db, "SELECT count(*) FROM event_dead_letters") == 0


async def test_a_dead_letter_whose_term_was_lost_is_not_buried_again_when_redelivered(
    db: Database, nats: NatsServer, tmp_path: Path
) -> None:
    # seen in the suite: a TERM that came after ack_wait let the message back in, and the
    # redelivery was dead-lettered again (the row is unique, but it was logged and counted
    # twice, and the handler ran again)
    kind, service = unique("Reburied"), unique("svc")
    poison, after = new_event(kind, "t", {"n": 1, "poison": True}), new_event(kind, "t", {"n": 2})
    marker = tmp_path / "buried-not-terminated"
    first = await start_worker(db, nats, service, kind, -1, marker, die_on=1)
    second: asyncio.subprocess.Process | None = None
    try:
        await write(db, poison)
        assert await asyncio.wait_for(first.wait(), 30) == 3  # exited in the term hook
        assert await scalar(db, "SELECT count(*) FROM event_dead_letters") == 1
        log = tmp_path / "second.log"
        second = await start_worker(db, nats, service, kind, -1, marker, log=log)
        await write(db, after)
        done = {after.id: 1}
        assert await eventually(lambda: when(effects(db, "worker"), done), timeout=30) == done
        await eventually(lambda: settled(nats, f"{service}-worker"), timeout=30)
    finally:
        await _kill(first, second)
    letters = await scalar(db, "SELECT count(*) FROM event_dead_letters WHERE event_id = :e",
                           e=poison.id)
    assert letters == 1
    assert await effects(db, "worker") == {after.id: 1}
    assert "dead letter" not in log.read_text()  # the redelivery was terminated quietly


async def _kill(*processes: asyncio.subprocess.Process | None) -> None:
    """Kill the worker processes still running, and reap them."""
    for process in processes:
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()


async def handled_ids(db: Database) -> set[uuid.UUID]:
    """The event ids in event_handled."""
    async with db.engine.connect() as conn:
        return set((await conn.execute(text("SELECT event_id FROM event_handled"))).scalars())


async def _exists(path: Path) -> bool:
    return path.exists()


async def test_broker_down_loses_nothing_requests_succeed_outbox_drains(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, service = unique("Outage"), unique("svc")
    broker = start_nats(tmp_path)
    monkeypatch.setenv("SHOPGRAPH_NATS_URL", broker.url)
    broker.kill()  # down before the service even starts: start-up must not wait for it
    try:
        async with serving(service, db, [recording("steady", (kind,))]) as server:
            ids = [await emit(server, kind, n) for n in (1, 2, 3)]
            assert await metrics_become(server, service, {"outbox_pending": 3})
            broker.restart()
            ids_after = {i: 1 for i in ids}
            await eventually(lambda: when(effects(db, "steady"), ids_after))
            broker.kill()  # and down again while the service runs
            ids += [await emit(server, kind, n) for n in (4, 5, 6)]
            broker.restart()
            every = {i: 1 for i in ids}
            assert await eventually(lambda: when(effects(db, "steady"), every)) == every
            samples = await eventually(lambda: drained(server, service))
            assert samples[f"published/{kind}"] == 6
            assert samples[f"handled/steady/{kind}"] == 6
            await eventually(lambda: settled(broker, f"{service}-steady"))
    finally:
        broker.stop()
    assert await effects(db, "steady") == every
    assert await scalar(db, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL") == 0


async def test_rows_another_relay_is_publishing_are_skipped_not_published_twice(
    db: Database, nats: NatsServer
) -> None:
    kind, service = unique("Claimed"), unique("svc")
    events = [new_event(kind, "t", {"n": n}) for n in range(3)]
    await write(db, *events)
    broker = EventBroker(nats.url)
    await broker.run()
    relay = OutboxRelay(service, db, broker)
    subject = f"shop.events.{kind}"
    try:
        # Another process of the service has claimed the rows and is publishing them.
        async with db.session() as other, other.begin():
            await other.execute(text("SELECT id FROM event_outbox FOR UPDATE"))
            await relay.drain()
            assert await subject_count(nats, EVENTS_STREAM, subject) == 0
        await relay.drain()  # that process died before publishing: its rows are free again
    finally:
        await broker.close()
    assert await subject_count(nats, EVENTS_STREAM, subject) == 3
    assert await scalar(db, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL") == 0
