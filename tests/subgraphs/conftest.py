"""Real PostgreSQL, a real nats-server and SMTP sink (one each per session) and the seven
subgraphs on real ports.

The apps run as hypercorn servers inside the session's event loop, so tests
talk to them over real HTTP, and orders talks to inventory, products, promotions
and payments over real HTTP too. Events go through the session's nats-server:
their effects arrive asynchronously, so tests that assert them poll
(tests/broker.py `eventually`). Every test starts from empty tables.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from quart import Quart
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from subgraph_stack import CODEC, NAMES, TABLES, Stack

from subgraphs.common.database import Database, database_url, ensure_database, start_embedded_server
from subgraphs.common.events.server import NatsServer
from subgraphs.common.migrations import migrate
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.mailsink import start_sink
from subgraphs.payments.gateways.fake import FakeGateway
from subgraphs.stack import migrations_dir
from tests.broker import free_port, start_nats

# How long a delivery may stay unacknowledged before JetStream sends it again: short, so
# a test that stops a consumer mid-message does not wait long for the redelivery.
ACK_WAIT_SECONDS = "2"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    # start_embedded_server raises a new server's max_connections (seven subgraphs' pools)
    pgdata = Path(tempfile.mkdtemp(prefix="sgpg-")) / "pgdata"
    yield start_embedded_server(pgdata, cleanup_mode="delete")


@pytest.fixture(scope="session")
def stack_nats() -> Iterator[NatsServer]:
    """The session's nats-server; the apps find it through the environment."""
    server = start_nats(Path(tempfile.mkdtemp(prefix="sgnats-")))
    os.environ["SHOPGRAPH_NATS_URL"] = server.url
    os.environ["SHOPGRAPH_EVENTS_ACK_WAIT_SECONDS"] = ACK_WAIT_SECONDS
    yield server
    server.stop()


@pytest.fixture(scope="session")
def maildir() -> Iterator[Path]:
    """The Maildir folder of the session's SMTP sink, which accounts' mailer sends to."""
    folder = Path(tempfile.mkdtemp(prefix="sgmail-")) / "mail"
    port = free_port()
    sink = start_sink(folder, "127.0.0.1", port)
    os.environ["SHOPGRAPH_SMTP_HOST"] = "127.0.0.1"
    os.environ["SHOPGRAPH_SMTP_PORT"] = str(port)
    yield folder
    sink.stop()


async def _prepare(urls: Mapping[str, str]) -> None:
    """Create and migrate every subgraph's database (no seed: tests make their data)."""
    for name, url in urls.items():
        await ensure_database(url)
        db = Database(url)
        try:
            await migrate(db.engine, migrations_dir(name))
        finally:
            await db.dispose()


def _app(name: str, url: str, **options: Any) -> Quart:
    factory = importlib.import_module(f"subgraphs.{name}.app").create_app
    app: Quart = factory(url, codec=CODEC, **options)
    return app


def _options(
    name: str, servers: Mapping[str, RunningServer], gateway: FakeGateway
) -> dict[str, Any]:
    """Each app's test settings: no background sweeps (tests run them when they mean to),
    and the URLs of the subgraphs it asks."""
    if name == "inventory":
        return {"sweep_interval": 0}
    if name == "products":  # products asks inventory for the inStock filter
        return {"inventory_url": servers["inventory"].graphql_url}
    if name == "payments":
        return {"gateway": gateway, "sweep_interval": 0}
    if name == "suggestions":
        return {"products_url": servers["products"].graphql_url}
    if name == "orders":
        return {
            **{f"{n}_url": servers[n].graphql_url for n in _ORDERS_ASKS},
            "upstream_timeout": 10,
            "sweep_interval": 0,
            "reservation_ttl": timedelta(minutes=15),
        }
    return {}


_ORDERS_ASKS = ("inventory", "products", "promotions", "payments")


@pytest_asyncio.fixture(scope="session")
async def stack(pg_server_url: str, stack_nats: NatsServer, maildir: Path) -> AsyncIterator[Stack]:
    urls = {name: database_url(pg_server_url, name, "sgtest") for name in NAMES}
    await _prepare(urls)
    dbs = {name: Database(urls[name]) for name in NAMES}
    gateway = FakeGateway(dbs["payments"])
    servers: dict[str, RunningServer] = {}
    for name in NAMES:
        servers[name] = await start_server(
            _app(name, urls[name], **_options(name, servers, gateway))
        )
    async with httpx.AsyncClient(timeout=60) as http:
        result = Stack(http, servers, urls, dbs, gateway, maildir=maildir)
        yield result
        for server in [*result.extra, *reversed(servers.values())]:
            await server.stop()
    for db in dbs.values():
        await db.dispose()


@pytest_asyncio.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> None:
    if "stack" not in request.fixturenames:
        return
    stack: Stack = request.getfixturevalue("stack")
    for name, tables in TABLES.items():
        await _truncate(stack.dbs[name], tables)
    stack.gateway.response_gate = None


async def _truncate(db: Database, tables: list[str]) -> None:
    """Empty `tables`; a consumer still handling the previous test's events may hold their
    rows in the other lock order, and PostgreSQL then picks one side as a deadlock victim."""
    for attempt in range(5):
        try:
            async with db.engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
            return
        except DBAPIError as error:
            if attempt == 4 or "deadlock detected" not in str(error):
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
