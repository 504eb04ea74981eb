"""Hostile messages against the events layer (real PostgreSQL, real nats-server): each
poison message is dead-lettered exactly once (one row, one metric increment, terminated)
and the consumer goes on with the next event; a dead letter that cannot be stored is
still terminated; a handler's PoisonEvent skips the retries; untrusted values cannot forge
log lines; the outbox gauge is right while the broker hangs.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from events_support.app import record_effect
from events_support.harness import (  # the fixtures are imported for pytest to find them
    db_fixture,  # noqa: F401
    effects,
    emit,
    last_message,
    metrics_become,
    metrics_of,
    nats_fixture,  # noqa: F401
    scalar,
    serving,
    settings_fixture,  # noqa: F401
    settled,
    unique,
    write,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.database import Database
from subgraphs.common.events import Consumer, Event, PoisonEvent, new_event
from subgraphs.common.events.broker import DEAD_LETTER_STREAM, EventBroker
from subgraphs.common.events.dead_letters import PAYLOAD_LIMIT
from subgraphs.common.events.envelope import encode, to_document
from subgraphs.common.events.server import NatsServer
from tests.broker import eventually, start_nats

Body = Callable[[str], bytes]


def envelope(kind: str, **changes: Any) -> bytes:
    """The body of a well-formed `kind` event with some envelope fields replaced."""
    return orjson.dumps({**to_document(new_event(kind, "t", {"n": 1})), **changes})


def padded(kind: str) -> bytes:
    """A decodable `kind` event of 1,048,500 bytes (just under NATS's 1 MiB max payload)."""
    body = envelope(kind, data={"n": 1, "pad": ""})
    return envelope(kind, data={"n": 1, "pad": "x" * (1_048_500 - len(body))})


POISON: dict[str, tuple[Body, bool]] = {  # body for a type, and whether it decodes
    "nul-body": (lambda kind: b"nul\x00byte-body", False),
    "long-type": (lambda kind: envelope(kind, type="X" * 101), True),
    "nul-type": (lambda kind: envelope(kind, type=kind + "\x00"), True),
    "undecodable-900kb": (lambda kind: b"\x01" * 900_000, False),
    "decodable-1mb": (padded, True),
}


def refusing(name: str, kind: str) -> Consumer:
    """A consumer recording `kind` events, failing (twice, then dead letter) on padded ones."""

    async def handle(session: AsyncSession, event: Event, services: Any) -> None:
        if "pad" in event.data:
            raise ValueError(f"cannot handle {event.data['pad'][:20]}")
        await record_effect(session, name, event)

    return Consumer(name, (kind,), handle, max_deliveries=2)


async def publish_raw(nats: NatsServer, body: bytes, subject: str) -> None:
    """Publish `body` as is, as anyone with access to the broker could."""
    broker = EventBroker(nats.url)
    await broker.run()
    try:
        # nats-py itself: FastStream's extra headers would push 1,048,500 bytes over 1 MiB.
        await broker.jetstream.publish(subject, body, headers={"Nats-Msg-Id": unique("raw")})
    finally:
        await broker.close()


async def letters(db: Database, consumer: str) -> list[tuple[Any, ...]]:
    """(type, deliveries, payload length, error) of the consumer's dead-letter rows."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT type, deliveries, length(payload), error FROM event_dead_letters"
                " WHERE consumer = :c ORDER BY id"
            ),
            {"c": consumer},
        )
        return [tuple(row) for row in rows]


@pytest.mark.parametrize("case", list(POISON))
async def test_poison_message_is_dead_lettered_once_and_the_next_event_is_handled(
    db: Database, nats: NatsServer, case: str
) -> None:
    kind, service = unique("Poison"), unique("svc")
    make, decodes = POISON[case]
    body = make(kind)
    async with serving(service, db, [refusing("guard", kind)]) as server:
        await publish_raw(nats, body, f"shop.events.{kind}")
        good = new_event(kind, "t", {"n": 2})
        await write(db, good)
        assert await eventually(lambda: effects(db, "guard")) == {good.id: 1}
        await eventually(lambda: settled(nats, f"{service}-guard"))
        label = {"decodable-1mb": kind, "long-type": "invalid", "nul-type": "invalid"}
        dead_type = {"decodable-1mb": kind, "long-type": "X" * 99 + "…", "nul-type": kind + "\\x00"}
        expected = {
            f"published/{kind}": 1,
            "outbox_pending": 0,
            f"handled/guard/{kind}": 1,
            f"dead_lettered/guard/{label.get(case, 'unknown')}": 1,
        }
        if case == "decodable-1mb":
            expected["redelivered/guard"] = 1
        assert await metrics_become(server, service, expected) == expected
    [(row_type, deliveries, size, error)] = await letters(db, "guard")
    assert row_type == dead_type.get(case)
    assert deliveries == (2 if case == "decodable-1mb" else 1)
    assert size <= PAYLOAD_LIMIT * 4 + 40
    assert "\x00" not in error
    letter = await last_message(nats, DEAD_LETTER_STREAM, f"shop.dlq.{service}.guard")
    assert letter["payloadBytes"] == len(body)
    assert (letter["event"] is None) == (not decodes)


async def test_mismatched_type_names_the_subject_and_never_reaches_the_handler(
    db: Database, nats: NatsServer
) -> None:
    kind, service = unique("Forged"), unique("svc")
    async with serving(service, db, [refusing("guard", kind)]) as server:
        await publish_raw(nats, envelope(kind, type="Other"), f"shop.events.{kind}")
        expected = {"outbox_pending": 0, "dead_lettered/guard/Other": 1}  # a plain name
        assert await metrics_become(server, service, expected) == expected
    [(row_type, _, _, error)] = await letters(db, "guard")
    assert row_type == "Other"
    assert error == f"envelope type 'Other' does not match subject 'shop.events.{kind}'"
    assert await effects(db, "guard") == {}


async def test_dead_letter_that_cannot_be_stored_is_still_terminated_logged_and_counted(
    db: Database, nats: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    kind, service = unique("Unstored"), unique("svc")
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("DROP TABLE event_dead_letters")
    caplog.set_level(logging.ERROR, logger="shopgraph.events")
    async with serving(service, db, [refusing("guard", kind)]) as server:
        bad, good = envelope(kind, data={"pad": "p"}), new_event(kind, "t", {"n": 3})
        await publish_raw(nats, bad, f"shop.events.{kind}")
        await write(db, good)
        assert await eventually(lambda: effects(db, "guard")) == {good.id: 1}
        await eventually(lambda: settled(nats, f"{service}-guard"))
        expected = {
            f"published/{kind}": 1,
            "outbox_pending": 0,
            "redelivered/guard": 1,
            f"handled/guard/{kind}": 1,
            f"dead_lettered/guard/{kind}": 1,
            "dead_letter_failures/guard/store": 1,
        }
        assert await metrics_become(server, service, expected) == expected
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(lines) == 2
    assert lines[0].startswith(f"events: dead letter store of service={service} consumer=guard")
    assert lines[1].startswith(f"events: dead letter: service={service} consumer=guard")
    letter = await last_message(nats, DEAD_LETTER_STREAM, f"shop.dlq.{service}.guard")
    assert letter["error"] == "ValueError: cannot handle p"


async def test_poison_event_raised_by_a_handler_is_dead_lettered_without_retries(
    db: Database, nats: NatsServer
) -> None:
    kind, service = unique("Unrenderable"), unique("svc")
    calls: list[uuid.UUID] = []

    async def render(session: AsyncSession, event: Event, services: Any) -> None:
        calls.append(event.id)
        await record_effect(session, "render", event)  # rolled back with the poison
        raise PoisonEvent("Header values may not contain linefeed")

    async with serving(service, db, [Consumer("render", (kind,), render)]) as server:
        event = new_event(kind, "t", {"n": 4})
        await write(db, event)
        expected = {
            f"published/{kind}": 1,
            "outbox_pending": 0,
            f"dead_lettered/render/{kind}": 1,
        }
        assert await metrics_become(server, service, expected) == expected
        await eventually(lambda: settled(nats, f"{service}-render"))
    assert calls == [event.id]
    assert await letters(db, "render") == [
        (kind, 1, len(encode(event)), "Header values may not contain linefeed")
    ]
    assert await effects(db, "render") == {}
    letter = await last_message(nats, DEAD_LETTER_STREAM, f"shop.dlq.{service}.render")
    assert letter["error"] == "Header values may not contain linefeed"
    assert letter["event"]["id"] == str(event.id)


FORGED = "\n  accounts | INFO order confirmation <FORGED@shopgraph> sent\r\n\x00"


async def test_untrusted_values_cannot_forge_log_lines(
    db: Database, nats: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    kind, service = unique("Logged"), unique("svc")

    async def fail(session: AsyncSession, event: Event, services: Any) -> None:
        raise ValueError(f"bad value {event.data['v']}")

    caplog.set_level(logging.INFO, logger="shopgraph.events")
    consumer = Consumer("noisy", (kind,), fail, max_deliveries=2)
    async with serving(service, db, [consumer]) as server:
        await publish_raw(nats, envelope(kind, type=kind + FORGED), f"shop.events.{kind}")
        await publish_raw(nats, envelope(kind, data={"v": FORGED}), f"shop.events.{kind}")
        samples = await eventually(
            lambda: _with(metrics_of(server, service), f"dead_lettered/noisy/{kind}", 1)
        )
        assert samples.get("dead_lettered/noisy/invalid") == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "shopgraph.events"]
    mine = [m for m in messages if service in m]
    assert len(mine) == 3  # two dead letters, one failed delivery before the second
    for message in mine:
        assert not {"\n", "\r", "\x00"} & set(message), message
        assert "FORGED" in message


async def _with(samples: Any, key: str, value: float) -> dict[str, float] | None:
    got = await samples
    return got if got.get(key) == value else None


async def test_outbox_gauge_counts_events_while_the_broker_hangs(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, service = unique("Hung"), unique("svc")
    broker = start_nats(tmp_path)
    monkeypatch.setenv("SHOPGRAPH_NATS_URL", broker.url)
    assert broker.process is not None
    pid = broker.process.pid
    try:
        async with serving(service, db) as server:
            await emit(server, kind, 0)
            assert await metrics_become(
                server, service, {f"published/{kind}": 1, "outbox_pending": 0}
            )
            os.kill(pid, signal.SIGSTOP)  # the broker hangs: connected, but never answers
            try:
                for n in (1, 2, 3):
                    await emit(server, kind, n)
                await eventually(lambda: _with(metrics_of(server, service), "outbox_pending", 3))
            finally:
                os.kill(pid, signal.SIGCONT)
            await eventually(lambda: _with(metrics_of(server, service), "outbox_pending", 0))
    finally:
        broker.stop()
    assert await scalar(db, "SELECT count(*) FROM event_outbox WHERE published_at IS NULL") == 0
