"""The counts: any arrival order of a basket's events gives the same tables, the full
recompute (process pool) rebuilds exactly what the incremental path keeps, a stale
snapshot is not swapped in, and the subgraph answers while a recompute runs."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio
from sqlalchemy import text
from suggestions_helpers import (
    DEMO,
    NOWHERE,
    app_db,
    bought,
    empty,
    graphql,
    services,
    sku_id,
    suggested,
    suggestions_server,
)

from subgraphs.common.database import Database, asyncpg_dsn
from subgraphs.common.serve import RunningServer
from subgraphs.suggestions import counts, recompute, scoring

Tables = tuple[dict[tuple[str, str], int], dict[str, tuple[int, int]]]
SKUS = sorted(DEMO)


@pytest_asyncio.fixture(scope="module")
async def server(pg_server_url: str) -> AsyncIterator[RunningServer]:
    async with suggestions_server(pg_server_url, NOWHERE, name="suggestions_counts") as running:
        yield running


@pytest_asyncio.fixture
async def db(server: RunningServer) -> Database:
    await empty(server)
    return app_db(server)


async def tables(db: Database) -> Tables:
    """co_purchases and product_sales as dicts of strings."""
    async with db.session() as session:
        pairs = await session.execute(
            text("SELECT product_id::text, other_id::text, baskets FROM co_purchases")
        )
        sales = await session.execute(
            text("SELECT product_id::text, quantity, baskets FROM product_sales")
        )
        return {(a, b): n for a, b, n in pairs}, {p: (q, n) for p, q, n in sales}


def expected(baskets: list[dict[str, int]]) -> Tables:
    """What the tables hold for these counted baskets ({sku: units}), by scoring.py."""
    by_id = [{sku_id(sku): units for sku, units in basket.items()} for basket in baskets]
    return dict(scoring.co_purchase_counts(by_id)), scoring.sales_counts(by_id)


async def deliver(db: Database, order: uuid.UUID, step: str, lines: dict[str, int]) -> None:
    """One event's effect, in its own transaction as a consumer runs it."""
    async with db.session() as session, session.begin():
        if step == "placed":
            ids = {DEMO[sku].id: units for sku, units in lines.items()}
            await counts.basket_placed(session, order, None, ids)
        elif step == "bought":
            await counts.basket_bought(session, order, None)
        else:
            await counts.basket_cancelled(session, order, None)


async def test_any_arrival_order_counts_a_bought_basket_once(db: Database) -> None:
    basket = {"COF-001": 2, "BRW-001": 1, "MUG-001": 1}
    for steps in sorted(set(itertools.permutations(["placed", "bought", "bought", "placed"]))):
        await empty_counts(db)
        order = uuid.uuid4()
        for step in steps:
            await deliver(db, order, step, basket)
        assert await tables(db) == expected([basket]), steps


async def test_a_cancelled_basket_stops_counting_whenever_it_is_cancelled(db: Database) -> None:
    kept = {"COF-001": 1, "BRW-001": 1}
    for steps in itertools.permutations(["placed", "bought", "cancelled"]):
        await empty_counts(db)
        await bought(db, [kept])
        order = uuid.uuid4()
        for step in steps:
            await deliver(db, order, step, {"COF-001": 3, "BRW-001": 1, "TEA-001": 1})
        assert await tables(db) == expected([kept]), steps


async def test_unpaid_baskets_do_not_count(db: Database) -> None:
    await deliver(db, uuid.uuid4(), "placed", {"COF-001": 1, "BRW-001": 1})
    await deliver(db, uuid.uuid4(), "bought", {})
    assert await tables(db) == ({}, {})


async def empty_counts(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text("TRUNCATE basket_lines, baskets, co_purchases, product_sales"))


def random_baskets(count: int, seed: int) -> list[dict[str, int]]:
    chooser = random.Random(seed)
    return [
        {sku: chooser.randint(1, 3) for sku in chooser.sample(SKUS, chooser.randint(1, 5))}
        for _ in range(count)
    ]


async def test_recompute_rebuilds_what_the_incremental_path_keeps(
    server: RunningServer, db: Database
) -> None:
    baskets = random_baskets(300, seed=13)
    await bought(db, baskets)
    for basket in random_baskets(40, seed=14):  # placed only, and cancelled after paying
        await deliver(db, uuid.uuid4(), "placed", basket)
    for order in await bought(db, random_baskets(40, seed=15)):
        await deliver(db, order, "cancelled", {})
    incremental = await tables(db)
    assert incremental == expected(baskets)
    async with db.engine.begin() as conn:  # spoil the counts: the recompute must repair them
        await conn.execute(text("UPDATE co_purchases SET baskets = baskets + 7"))
        await conn.execute(text("DELETE FROM product_sales WHERE baskets = 1"))
        await conn.execute(
            text("INSERT INTO co_purchases VALUES (:a, :b, 5)"),
            {"a": uuid.uuid4(), "b": uuid.uuid4()},
        )
    result = await services(server).recomputer.run()
    assert (result.swapped, result.baskets) == (True, 300)
    assert await tables(db) == incremental


async def test_a_stale_snapshot_is_not_swapped_in(db: Database) -> None:
    await bought(db, [{"COF-001": 1, "BRW-001": 1}])
    dsn, options = asyncpg_dsn(db.url)
    conn = await asyncpg.connect(dsn, **options)
    try:
        version, baskets = await recompute._snapshot(conn)
        await bought(db, [{"COF-001": 1, "TEA-001": 1}])  # an event after the snapshot
        swapped = await recompute._swap(
            conn, version, scoring.co_purchase_counts(baskets), scoring.sales_counts(baskets)
        )
    finally:
        await conn.close()
    assert swapped is False
    assert await tables(db) == expected(
        [{"COF-001": 1, "BRW-001": 1}, {"COF-001": 1, "TEA-001": 1}]
    )


async def _load_many(db: Database, count: int) -> None:
    """`count` bought baskets written straight into the tables (the recompute's input)."""
    chooser = random.Random(7)
    ids = [DEMO[sku].id for sku in SKUS]
    orders = [uuid.uuid4() for _ in range(count)]
    lines = [
        (order, product, 1)
        for order in orders
        for product in chooser.sample(ids, chooser.randint(2, 5))
    ]
    dsn, options = asyncpg_dsn(db.url)
    conn = await asyncpg.connect(dsn, **options)
    try:
        await conn.copy_records_to_table(
            "baskets",
            records=[(o, True, True) for o in orders],
            columns=("order_id", "placed", "bought"),
        )
        await conn.copy_records_to_table(
            "basket_lines", records=lines, columns=("order_id", "product_id", "quantity")
        )
    finally:
        await conn.close()


async def test_queries_answer_while_a_recompute_runs(server: RunningServer, db: Database) -> None:
    await _load_many(db, 60_000)
    await bought(db, [{"COF-001": 1, "BRW-001": 1}])
    running = asyncio.create_task(services(server).recomputer.run())
    answered_during = 0
    while not running.done():
        assert "COF-001" not in await suggested(server, "COF-001", 50)
        answered_during += not running.done()
    assert (await running).swapped
    assert answered_during > 0
    body = await graphql(server, "{ _service { sdl } }", {})
    assert "suggestions" in body["data"]["_service"]["sdl"]
