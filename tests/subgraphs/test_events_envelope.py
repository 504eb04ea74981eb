"""The event envelope's wire form: what decodes, and what is a poison message."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest

from subgraphs.common.events import Consumer, new_event
from subgraphs.common.events.envelope import UndecodableEvent, decode, encode, subject_of


def test_an_event_survives_the_wire() -> None:
    event = new_event("OrderPlaced", "orders", {"orderId": "o-1", "total": "12.50", "lines": []})
    assert decode(encode(event)) == event
    assert event.occurred_at.tzinfo is UTC
    assert subject_of(event.type) == "shop.events.OrderPlaced"
    assert orjson.loads(encode(event)) == {
        "id": str(event.id),
        "type": "OrderPlaced",
        "source": "orders",
        "occurredAt": event.occurred_at.isoformat(),
        "version": 1,
        "data": {"orderId": "o-1", "total": "12.50", "lines": []},
    }


GOOD = {
    "id": str(uuid.uuid4()),
    "type": "StockLow",
    "source": "inventory",
    "occurredAt": datetime(2026, 11, 30, tzinfo=UTC).isoformat(),
    "data": {"productId": "p-1"},
}


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"\xff", "body is not JSON"),
        (b"[]", "not an event envelope"),
        (orjson.dumps({**GOOD, "id": "nope"}), "not an event envelope"),
        (orjson.dumps({**GOOD, "occurredAt": "2026-11-30T00:00:00"}), "no time zone"),
        (orjson.dumps({**GOOD, "data": [1]}), "data an object"),
        (orjson.dumps({k: v for k, v in GOOD.items() if k != "type"}), "'type'"),
    ],
)
def test_what_is_not_an_envelope_is_undecodable(body: bytes, why: str) -> None:
    with pytest.raises(UndecodableEvent, match=why):
        decode(body)


def test_version_defaults_to_one() -> None:
    assert decode(orjson.dumps(GOOD)).version == 1


@pytest.mark.parametrize(
    ("name", "types", "max_deliveries"),
    [("a.b", ("T",), 5), ("ok", ("shop.T",), 5), ("ok", (), 5), ("ok", ("T",), 0)],
)
def test_consumer_names_must_be_subject_tokens(
    name: str, types: tuple[str, ...], max_deliveries: int
) -> None:
    async def handle(*_: object) -> None:
        return None

    with pytest.raises(ValueError):
        Consumer(name, types, handle, max_deliveries=max_deliveries)
