"""suggestions' consumers over a real nats-server: events written to an outbox reach the
counts within seconds (OrderPlaced + PaymentCaptured: bought together; OrderCancelled:
no longer), whatever order the two purchase events come in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from suggestions_helpers import (
    DEMO,
    NOWHERE,
    app_db,
    empty,
    suggested,
    suggestions_server,
)

from subgraphs.common.events import new_event, publish_in
from subgraphs.common.events.server import NatsServer
from subgraphs.common.serve import RunningServer
from tests.broker import eventually, start_nats


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = start_nats(Path(tmp_path_factory.mktemp("suggestions-nats")))
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module")
async def server(pg_server_url: str, nats: NatsServer) -> AsyncIterator[RunningServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHOPGRAPH_NATS_URL", nats.url)
        async with suggestions_server(
            pg_server_url, NOWHERE, name="suggestions_events", events=True
        ) as running:
            yield running


@pytest_asyncio.fixture
async def events_server(server: RunningServer) -> RunningServer:
    await empty(server)
    return server


def placed(order: str, user: str, skus: dict[str, int]) -> dict[str, Any]:
    lines = [
        {
            "productId": str(DEMO[sku].id),
            "sku": sku,
            "name": DEMO[sku].name,
            "quantity": units,
            "unitPrice": str(DEMO[sku].price),
        }
        for sku, units in skus.items()
    ]
    return {
        "orderId": order,
        "userId": user,
        "currency": "USD",
        "subtotal": "0.00",
        "discountTotal": "0.00",
        "total": "0.00",
        "placedAt": "2026-11-30T00:00:00+00:00",
        "lines": lines,
    }


def captured(order: str, user: str) -> dict[str, Any]:
    return {
        "paymentId": str(uuid.uuid4()),
        "orderId": order,
        "userId": user,
        "amount": "0.00",
        "currency": "USD",
        "gateway": "fake",
        "idempotencyKey": f"key-{order}",
    }


async def publish(server: RunningServer, *events: tuple[str, str, dict[str, Any]]) -> None:
    """Write events into the app's own outbox, each in its own transaction (its relay
    publishes them to NATS, its consumers get them back)."""
    for event_type, source, data in events:
        async with app_db(server).session() as session, session.begin():
            await publish_in(session, new_event(event_type, source, data))


async def test_two_customers_buying_a_and_b_makes_b_a_suggestion(
    events_server: RunningServer,
) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    basket = {"TEA-003": 1, "MUG-006": 2}
    await publish(
        events_server,
        ("OrderPlaced", "orders", placed(first, alice, basket)),
        ("PaymentCaptured", "payments", captured(first, alice)),
        # the payment heard of before the order: counted once both arrived
        ("PaymentCaptured", "payments", captured(second, bob)),
        ("OrderPlaced", "orders", placed(second, bob, basket)),
    )

    async def suggests_mug() -> list[str] | None:
        found = await suggested(events_server, "TEA-003", 4)
        return found if "MUG-006" in found else None

    assert await eventually(suggests_mug) == ["MUG-006"]

    async def counted_twice() -> int | None:
        async with app_db(events_server).session() as session:
            return await session.scalar(text("SELECT max(baskets) FROM co_purchases"))

    assert await eventually(lambda: _equals(counted_twice, 2)) is True


async def _equals(read: Any, wanted: int) -> bool | None:
    return True if await read() == wanted else None


async def test_a_cancelled_order_stops_counting(events_server: RunningServer) -> None:
    order, user = str(uuid.uuid4()), str(uuid.uuid4())
    await publish(
        events_server,
        ("OrderPlaced", "orders", placed(order, user, {"COF-001": 1, "BRW-001": 1})),
        ("PaymentCaptured", "payments", captured(order, user)),
    )

    async def suggested_brewer() -> bool | None:
        return True if await suggested(events_server, "COF-001", 4) == ["BRW-001"] else None

    await eventually(suggested_brewer)
    await publish(
        events_server,
        (
            "OrderCancelled",
            "orders",
            {"orderId": order, "userId": user, "reason": "OUT_OF_STOCK", "wasPaid": True},
        ),
    )

    async def forgotten() -> bool | None:
        return True if await suggested(events_server, "COF-001", 4) == [] else None

    assert await eventually(forgotten) is True
