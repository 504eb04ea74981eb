"""suggestions over real HTTP: exact rankings with the category fallback (categories from a
real products subgraph), `first` bounds, who may see recommendations, and a products
outage (co-purchases still answer)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from suggestions_helpers import (
    NOWHERE,
    RECOMMENDED,
    SUGGESTIONS,
    admin,
    app_db,
    bought,
    customer,
    empty,
    error_codes,
    graphql,
    products_server,
    services,
    sku_id,
    skus,
    suggested,
    suggestions_server,
)

from subgraphs.common.serve import RunningServer

SHOPPER = str(uuid.uuid4())
# COF-001 goes with BRW-001 3 times (once by SHOPPER), BRW-005 twice, MUG-001 once.
# Units: COF-001 6, COF-002 5, BRW-005 4, BRW-001 3, COF-003 2, COF-004 2, MUG-001 1.
OTHERS = [
    {"COF-001": 1, "BRW-001": 1},
    {"COF-001": 1, "BRW-001": 1},
    {"COF-001": 1, "BRW-005": 2},
    {"COF-001": 1, "BRW-005": 2},
    {"COF-001": 1, "MUG-001": 1},
    {"COF-002": 5},
    {"COF-003": 2},
    {"COF-004": 2},
]
SHOPPERS_BASKET = {"COF-001": 1, "BRW-001": 1}


@pytest_asyncio.fixture(scope="module")
async def products(pg_server_url: str) -> AsyncIterator[RunningServer]:
    async with products_server(pg_server_url) as server:
        yield server


@pytest_asyncio.fixture(scope="module")
async def server(pg_server_url: str, products: RunningServer) -> AsyncIterator[RunningServer]:
    async with suggestions_server(pg_server_url, products.graphql_url) as running:
        yield running


@pytest_asyncio.fixture
async def shop(server: RunningServer) -> RunningServer:
    await empty(server)
    db = app_db(server)
    await bought(db, OTHERS)
    await bought(db, [SHOPPERS_BASKET], user=SHOPPER)
    await services(server).catalogue.refresh(db)
    return server


async def test_co_purchased_first_then_category_best_sellers(shop: RunningServer) -> None:
    assert await suggested(shop, "COF-001", 2) == ["BRW-001", "BRW-005"]
    assert await suggested(shop, "COF-001", 4) == ["BRW-001", "BRW-005", "MUG-001", "COF-002"]
    # COF-003 and COF-004 both sold 2: by name ("Café Crème..." before "Decaf...")
    assert await suggested(shop, "COF-001", 6) == [
        "BRW-001", "BRW-005", "MUG-001", "COF-002", "COF-003", "COF-004",
    ]  # fmt: skip
    assert await suggested(shop, "COF-001") == ["BRW-001", "BRW-005", "MUG-001", "COF-002"]


async def test_fallback_alone_never_the_product_itself(shop: RunningServer) -> None:
    # never bought: the Coffee best sellers
    assert await suggested(shop, "COF-009", 4) == ["COF-001", "COF-002", "COF-003", "COF-004"]
    assert await suggested(shop, "COF-002", 4) == ["COF-001", "COF-003", "COF-004"]
    # BRW-001: COF-001, then the only other Brewing best seller
    assert await suggested(shop, "BRW-001", 10) == ["COF-001", "BRW-005"]


async def test_unknown_product_has_no_suggestions(shop: RunningServer) -> None:
    body = await graphql(shop, SUGGESTIONS, {"id": str(uuid.uuid4()), "first": 4})
    assert body == {"data": {"_entities": [{"suggestions": []}]}}


@pytest.mark.parametrize("first", [0, -1, 51, 1000])
async def test_first_out_of_bounds(shop: RunningServer, first: int) -> None:
    body = await graphql(shop, SUGGESTIONS, {"id": sku_id("COF-001"), "first": first})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "`first` must be between 1 and 50"
    body = await graphql(shop, RECOMMENDED, {"id": SHOPPER, "first": first}, customer(SHOPPER))
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_first_bounds_included(shop: RunningServer) -> None:
    assert await suggested(shop, "COF-001", 1) == ["BRW-001"]
    assert len(await suggested(shop, "COF-001", 50)) == 6


async def test_recommendations_for_the_user_themself(shop: RunningServer) -> None:
    body = await graphql(shop, RECOMMENDED, {"id": SHOPPER, "first": 5}, customer(SHOPPER))
    # bought with COF-001/BRW-001: BRW-005 (2), MUG-001 (1); then best sellers not bought
    assert skus(body["data"]["_entities"][0]["recommendedProducts"]) == [
        "BRW-005", "MUG-001", "COF-002", "COF-003", "COF-004",
    ]  # fmt: skip
    body = await graphql(shop, RECOMMENDED, {"id": SHOPPER, "first": 1}, admin())
    assert skus(body["data"]["_entities"][0]["recommendedProducts"]) == ["BRW-005"]


async def test_recommendations_without_history_are_best_sellers(shop: RunningServer) -> None:
    newcomer = str(uuid.uuid4())
    body = await graphql(shop, RECOMMENDED, {"id": newcomer, "first": 3}, customer(newcomer))
    assert skus(body["data"]["_entities"][0]["recommendedProducts"]) == [
        "COF-001", "COF-002", "BRW-005",
    ]  # fmt: skip


async def test_recommendations_refused_to_others(shop: RunningServer) -> None:
    guest = await graphql(shop, RECOMMENDED, {"id": SHOPPER, "first": 3})
    assert error_codes(guest) == ["UNAUTHENTICATED"]
    assert guest["data"]["_entities"] == [None]
    other = await graphql(
        shop, RECOMMENDED, {"id": SHOPPER, "first": 3}, customer(str(uuid.uuid4()))
    )
    assert error_codes(other) == ["FORBIDDEN"]
    # a guest learns nothing about the arguments either
    guest = await graphql(shop, RECOMMENDED, {"id": SHOPPER, "first": 0})
    assert error_codes(guest) == ["UNAUTHENTICATED"]


async def test_products_outage_serves_co_purchases_alone(pg_server_url: str) -> None:
    async with suggestions_server(pg_server_url, NOWHERE, name="suggestions_outage") as down:
        await empty(down)
        await bought(app_db(down), OTHERS)
        await bought(app_db(down), [SHOPPERS_BASKET], user=SHOPPER)
        await services(down).catalogue.refresh(app_db(down))
        assert await suggested(down, "COF-001", 4) == ["BRW-001", "BRW-005", "MUG-001"]
        assert await suggested(down, "COF-009", 4) == []
        body = await graphql(down, RECOMMENDED, {"id": SHOPPER, "first": 3}, customer(SHOPPER))
        recommended = body["data"]["_entities"][0]["recommendedProducts"]
        assert skus(recommended) == ["BRW-005", "MUG-001", "COF-002"]
