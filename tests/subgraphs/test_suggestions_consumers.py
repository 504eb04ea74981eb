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

from subgraphs.common.events import Event, new_event, publish_in
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


def paid(order: str, user: str, skus: dict[str, int]) -> dict[str, Any]:
    """OrderPaid's data for a 0.00 order (100% promotion: paid without a charge)."""
    lines = placed(order, user, skus)["lines"]
    return {
        "orderId": order,
        "userId": user,
        "paymentId": None,
        "currency": "USD",
        "total": "0.00",
        "lines": lines,
    }


async def _publish_all(server: RunningServer, events: list[Event]) -> None:
    for event in events:
        async with app_db(server).session() as session, session.begin():
            await publish_in(session, event)


async def _handled(server: RunningServer, events: list[Event]) -> bool | None:
    """Whether every one of `events` was handled by some consumer."""
    async with app_db(server).session() as session:
        found = await session.scalar(
            text("SELECT count(DISTINCT event_id) FROM event_handled WHERE event_id = ANY(:ids)"),
            {"ids": [event.id for event in events]},
        )
    return True if found == len(events) else None


async def _counts(server: RunningServer) -> tuple[list[Any], list[Any]]:
    async with app_db(server).session() as session:
        pairs = await session.execute(
            text("SELECT product_id, other_id, baskets FROM co_purchases ORDER BY 1, 2")
        )
        sales = await session.execute(
            text("SELECT product_id, quantity, baskets FROM product_sales ORDER BY 1")
        )
        return [tuple(r) for r in pairs], [tuple(r) for r in sales]


def _expected(baskets: int, units: dict[str, int]) -> tuple[list[Any], list[Any]]:
    ids = sorted((DEMO[sku].id, sku) for sku in units)
    pairs = [(a, b, baskets) for a, _ in ids for b, _ in ids if a != b]
    sales = [(p, units[sku] * baskets, baskets) for p, sku in ids]
    return pairs, sales


async def test_an_order_paid_without_a_payment_counts_its_basket(
    events_server: RunningServer,
) -> None:
    order, user = str(uuid.uuid4()), str(uuid.uuid4())
    basket = {"COF-001": 1, "BRW-001": 2}
    events = [
        new_event("OrderPlaced", "orders", placed(order, user, basket)),
        new_event("OrderPaid", "orders", paid(order, user, basket)),
    ]
    await _publish_all(events_server, events)
    await eventually(lambda: _handled(events_server, events))
    assert await _counts(events_server) == _expected(1, basket)
    assert await suggested(events_server, "COF-001", 4) == ["BRW-001"]


async def test_order_paid_and_payment_captured_count_a_basket_once(
    events_server: RunningServer,
) -> None:
    first, second, user = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    basket = {"TEA-003": 1, "MUG-006": 3}
    events = [
        new_event("OrderPlaced", "orders", placed(first, user, basket)),
        new_event("OrderPaid", "orders", paid(first, user, basket)),
        new_event("PaymentCaptured", "payments", captured(first, user)),
        # the other order: the payment first, then the placing, then OrderPaid
        new_event("PaymentCaptured", "payments", captured(second, user)),
        new_event("OrderPlaced", "orders", placed(second, user, basket)),
        new_event("OrderPaid", "orders", paid(second, user, basket)),
    ]
    await _publish_all(events_server, events)
    await eventually(lambda: _handled(events_server, events))
    assert await _counts(events_server) == _expected(2, basket)
