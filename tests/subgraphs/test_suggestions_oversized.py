"""An oversized basket costs bounded work: an OrderPlaced of 3,000 distinct products counts
its first 100 products by id (orders' cart limit), at once, and the consumers go straight
on to the next basket; the full recompute counts the same pairs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from suggestions_helpers import DEMO, NOWHERE, app_db, empty, services, suggestions_server
from test_suggestions_consumers import captured, placed, publish

from subgraphs.common.events.server import NatsServer
from subgraphs.common.serve import RunningServer
from subgraphs.suggestions.scoring import MAX_BASKET_PRODUCTS
from tests.broker import eventually, start_nats

LINES = 3_000


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = start_nats(Path(tmp_path_factory.mktemp("oversized-nats")))
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module")
async def server(pg_server_url: str, nats: NatsServer) -> AsyncIterator[RunningServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHOPGRAPH_NATS_URL", nats.url)
        async with suggestions_server(
            pg_server_url, NOWHERE, name="suggestions_oversized", events=True
        ) as running:
            await empty(running)
            yield running


def oversized(order: str, user: str, products: list[str]) -> dict[str, Any]:
    """OrderPlaced data with one line per product (2 units each)."""
    data = placed(order, user, {})
    data["lines"] = [
        {"productId": p, "sku": f"X-{n}", "name": "x", "quantity": 2, "unitPrice": "1.00"}
        for n, p in enumerate(products)
    ]
    return data


async def _rows(server: RunningServer, sql: str) -> list[Any]:
    async with app_db(server).session() as session:
        return list((await session.execute(text(sql))).tuples().all())


async def _pair_count(server: RunningServer, a: str, b: str) -> int | None:
    rows = await _rows(
        server,
        f"SELECT baskets FROM co_purchases WHERE product_id = '{a}' AND other_id = '{b}'",
    )
    return rows[0][0] if rows else None


TEA, MUG = str(DEMO["TEA-003"].id), str(DEMO["MUG-006"].id)


async def _bounded_counts(server: RunningServer, products: list[str], big: str) -> None:
    """Only the first MAX_BASKET_PRODUCTS products by id are stored and counted."""
    kept = sorted(products)[:MAX_BASKET_PRODUCTS]
    counted = f"SELECT 1 FROM baskets WHERE order_id = '{big}' AND counted"
    assert await eventually(lambda: _rows(server, counted)) == [(1,)]
    big_pairs = await _rows(
        server,
        "SELECT product_id::text, other_id::text, baskets FROM co_purchases "
        f"WHERE product_id NOT IN ('{TEA}', '{MUG}') ORDER BY 1, 2",
    )
    assert big_pairs == [(a, b, 1) for a in kept for b in kept if a != b]
    sales = await _rows(server, "SELECT product_id::text, quantity, baskets FROM product_sales")
    assert sorted(sales) == sorted([(p, 2, 1) for p in kept] + [(TEA, 1, 1), (MUG, 2, 1)])
    stored = await _rows(server, f"SELECT count(*) FROM basket_lines WHERE order_id = '{big}'")
    assert stored == [(MAX_BASKET_PRODUCTS,)]


async def _recompute_agrees(server: RunningServer) -> None:
    """The full recompute counts the same pairs and units: nothing to change."""
    before = await _rows(server, "SELECT * FROM co_purchases ORDER BY 1, 2")
    result = await services(server).recomputer.run()
    assert result.swapped
    assert result.pairs == len(before) == MAX_BASKET_PRODUCTS * (MAX_BASKET_PRODUCTS - 1) + 2
    assert await _rows(server, "SELECT * FROM co_purchases ORDER BY 1, 2") == before


async def _cancel_subtracts_exactly(server: RunningServer, big: str, user: str) -> None:
    """Cancelling the oversized basket takes away exactly what it added."""
    cancelled = {"orderId": big, "userId": user, "reason": "CUSTOMER", "wasPaid": True}
    await publish(server, ("OrderCancelled", "orders", cancelled))

    async def only_the_small_basket() -> list[Any] | None:
        rows = await _rows(server, "SELECT product_id::text FROM product_sales ORDER BY 1")
        return rows if len(rows) == 2 else None

    assert await eventually(only_the_small_basket) == sorted([(TEA,), (MUG,)])
    assert await _rows(server, "SELECT count(*) FROM co_purchases") == [(2,)]


async def test_oversized_basket_is_bounded_and_blocks_nothing(server: RunningServer) -> None:
    products = [str(uuid.uuid4()) for _ in range(LINES)]
    big, small, user = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    await publish(
        server,
        ("OrderPlaced", "orders", oversized(big, user, products)),
        ("PaymentCaptured", "payments", captured(big, user)),
        ("OrderPlaced", "orders", placed(small, user, {"TEA-003": 1, "MUG-006": 2})),
        ("PaymentCaptured", "payments", captured(small, user)),
    )
    # the oversized basket went first through the same consumers: no wait behind it
    assert await eventually(lambda: _pair_count(server, TEA, MUG)) == 1
    assert await _pair_count(server, MUG, TEA) == 1
    await _bounded_counts(server, products, big)
    await _recompute_agrees(server)
    await _cancel_subtracts_exactly(server, big, user)
