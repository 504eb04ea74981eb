"""The demo baskets give sensible suggestions out of the box, and seeding twice changes
nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy import text
from suggestions_helpers import (
    DEMO,
    RECOMMENDED,
    app_db,
    customer,
    empty,
    graphql,
    products_server,
    services,
    skus,
    suggested,
    suggestions_server,
)

from subgraphs.common.serve import RunningServer
from subgraphs.seed import user_id
from subgraphs.suggestions import scoring
from subgraphs.suggestions.seed import demo_baskets, seed_suggestions


@pytest_asyncio.fixture(scope="module")
async def seeded(pg_server_url: str) -> AsyncIterator[RunningServer]:
    async with (
        products_server(pg_server_url) as products,
        suggestions_server(pg_server_url, products.graphql_url, name="suggestions_seed") as server,
    ):
        await empty(server)
        await seed_suggestions(app_db(server))
        await services(server).catalogue.refresh(app_db(server))
        yield server


async def test_themes_suggest_what_goes_with_them(seeded: RunningServer) -> None:
    # the V60: its filters, the Ethiopia beans, the kettle, the scale
    assert await suggested(seeded, "BRW-001") == ["BRW-005", "COF-001", "BRW-002", "BRW-006"]
    # Earl Grey: the teacup and saucer, the shortbread, the infuser, Darjeeling
    assert await suggested(seeded, "TEA-003") == ["MUG-006", "SNK-004", "GFT-008", "TEA-001"]
    assert await suggested(seeded, "SNK-001", 2) == ["COF-007", "SNK-007"]


async def test_a_demo_customer_gets_recommendations(seeded: RunningServer) -> None:
    alice = str(user_id("alice@example.com"))
    body = await graphql(seeded, RECOMMENDED, {"id": alice, "first": 8}, customer(alice))
    recommended = skus(body["data"]["_entities"][0]["recommendedProducts"])
    assert len(recommended) == 8
    # what she bought (subgraphs/seed.py PAST_ORDERS) is never recommended to her
    assert not {"COF-001", "BRW-001", "TEA-003", "SNK-001", "MUG-003"} & set(recommended)
    # exactly what scoring.py defines over the demo baskets
    assert recommended == expected_recommendations(user_id("alice@example.com"), 8)


def expected_recommendations(user: uuid.UUID, first: int) -> list[str]:
    """The SKUs scoring.py ranks for `user` over the demo baskets (co-purchases only)."""
    baskets = [{str(p): units for p, units in b.lines.items()} for b in demo_baskets()]
    bought = {str(p) for b in demo_baskets() if b.user_id == user for p in b.lines}
    counts = scoring.co_purchase_counts(baskets)
    summed = scoring.summed_counts(bought, [(a, b, n) for (a, b), n in counts.items()])
    ranked = scoring.recommendations(bought, scoring.rank_co_purchased(summed), [], first)
    by_id = {str(p.id): sku for sku, p in DEMO.items()}
    return [by_id[p] for p in ranked]


async def test_seeding_twice_changes_nothing(seeded: RunningServer) -> None:
    db = app_db(seeded)

    async def snapshot() -> list[object]:
        async with db.session() as session:
            pairs = await session.execute(
                text("SELECT * FROM co_purchases ORDER BY product_id, other_id")
            )
            sales = await session.execute(text("SELECT * FROM product_sales ORDER BY 1"))
            return [*pairs.all(), *sales.all()]

    before = await snapshot()
    await seed_suggestions(db)
    assert await snapshot() == before
