"""Real PostgreSQL (one embedded server per session) and the five subgraphs on real ports.

The apps run as hypercorn servers inside the session's event loop, so tests
talk to them over real HTTP, and orders talks to inventory, products and promotions
over real HTTP too. Every test starts from empty tables.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from subgraph_stack import CODEC, TABLES, Stack

from subgraphs.common.database import Database, start_embedded_server
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.orders.payments import FakePaymentProvider
from subgraphs.stack import SUBGRAPHS, create_app, database_urls, prepare


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="sgpg-"))
    yield start_embedded_server(folder / "pgdata", cleanup_mode="delete")


@pytest_asyncio.fixture(scope="session")
async def stack(pg_server_url: str) -> AsyncIterator[Stack]:
    urls = database_urls(pg_server_url, prefix="sgtest")
    await prepare(urls, seed=False)
    payments = FakePaymentProvider()
    servers: dict[str, RunningServer] = {}
    for name in ("accounts", "inventory", "products", "promotions"):
        options: dict[str, Any] = {"codec": CODEC}
        if name == "inventory":
            options["sweep_interval"] = 0
        if name == "products":  # products asks inventory for the inStock filter
            options["inventory_url"] = servers["inventory"].graphql_url
        servers[name] = await start_server(create_app(name, urls[name], **options))
    servers["orders"] = await start_server(
        create_app(
            "orders",
            urls["orders"],
            codec=CODEC,
            inventory_url=servers["inventory"].graphql_url,
            products_url=servers["products"].graphql_url,
            promotions_url=servers["promotions"].graphql_url,
            payments=payments,
            upstream_timeout=10,
            sweep_interval=0,
            reservation_ttl=timedelta(minutes=15),
        )
    )
    dbs = {name: Database(urls[name]) for name in SUBGRAPHS}
    async with httpx.AsyncClient(timeout=60) as http:
        result = Stack(http, servers, urls, dbs, payments)
        yield result
        for server in [*result.extra, *servers.values()]:
            await server.stop()
    for db in dbs.values():
        await db.dispose()


@pytest_asyncio.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> None:
    if "stack" not in request.fixturenames:
        return
    stack: Stack = request.getfixturevalue("stack")
    for name, tables in TABLES.items():
        async with stack.dbs[name].engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    stack.payments.charges.clear()
