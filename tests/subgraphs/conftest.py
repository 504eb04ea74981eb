"""Real PostgreSQL (one embedded server per session) and the four subgraphs on real ports.

The apps run as hypercorn servers inside the session's event loop, so tests
talk to them over real HTTP, and orders talks to inventory and products over
real HTTP too. Every test starts from empty tables.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from subgraphs.common.auth import ADMIN, CUSTOMER, SERVICE, TokenCodec
from subgraphs.common.database import Database, start_embedded_server
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.orders.payments import FakePaymentProvider
from subgraphs.stack import SUBGRAPHS, create_app, database_urls, prepare

CODEC = TokenCodec(
    "HS256", "test-secret-for-shopgraph-subgraphs", "test-secret-for-shopgraph-subgraphs"
)

TABLES = {
    "accounts": ["users"],
    "products": ["products"],
    "inventory": ["stock_adjustments", "reservation_lines", "reservations", "stock_items"],
    "orders": ["payments", "order_lines", "orders", "cart_lines", "carts"],
}


def admin_token() -> str:
    return CODEC.issue(str(uuid.uuid4()), ADMIN)


def customer_token(user_id: str | None = None) -> str:
    return CODEC.issue(user_id or str(uuid.uuid4()), CUSTOMER)


def service_token() -> str:
    return CODEC.issue("orders", SERVICE)


@dataclass
class Stack:
    http: httpx.AsyncClient
    servers: dict[str, RunningServer]
    database_urls: dict[str, str]
    dbs: dict[str, Database]
    payments: FakePaymentProvider
    extra: list[RunningServer] = field(default_factory=list)

    def url(self, name: str) -> str:
        return self.servers[name].graphql_url

    def app_db(self, name: str) -> Database:
        """The Database object the running app itself uses (for counting its SQL)."""
        return self.servers[name].app.config["SHOPGRAPH_DB"]  # type: ignore[attr-defined, no-any-return]

    async def post(
        self,
        url: str,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            url, json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def gql(
        self,
        name: str,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        return await self.post(self.url(name), query, variables, token)

    async def data(
        self,
        name: str,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """The `data` of a response that must have no errors."""
        body = await self.gql(name, query, variables, token)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    async def sql(self, name: str, statement: str, **params: Any) -> list[Any]:
        async with self.dbs[name].engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []


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
    for name in ("accounts", "products", "inventory"):
        options: dict[str, Any] = {"codec": CODEC}
        if name == "inventory":
            options["sweep_interval"] = 0
        servers[name] = await start_server(create_app(name, urls[name], **options))
    servers["orders"] = await start_server(
        create_app(
            "orders",
            urls["orders"],
            codec=CODEC,
            inventory_url=servers["inventory"].graphql_url,
            products_url=servers["products"].graphql_url,
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


CREATE_PRODUCT = """
mutation Create($input: CreateProductInput!) {
  createProduct(input: $input) {
    product { id sku name category price { amount currencyCode } createdAt }
    userErrors { code field message }
  }
}
"""

ADJUST_STOCK = """
mutation Adjust($input: AdjustStockInput!) {
  adjustStock(input: $input) {
    adjustment { idempotencyKey delta onHandAfter product { id } }
    product { id stock { onHand reserved available } }
    userErrors { code field message }
  }
}
"""


async def make_product(
    stack: Stack,
    *,
    sku: str | None = None,
    name: str = "Test product",
    price: str = "10.00",
    category: str = "Testing",
    stock: int | None = None,
) -> dict[str, Any]:
    payload = (
        await stack.data(
            "products",
            CREATE_PRODUCT,
            {
                "input": {
                    "sku": sku or f"SKU-{uuid.uuid4().hex[:10]}",
                    "name": name,
                    "category": category,
                    "price": {"amount": price, "currencyCode": "USD"},
                }
            },
            admin_token(),
        )
    )["createProduct"]
    assert payload["userErrors"] == []
    product: dict[str, Any] = payload["product"]
    if stock:
        await set_stock(stack, product["id"], stock)
    return product


async def set_stock(stack: Stack, product_id: str, delta: int) -> dict[str, Any]:
    payload = (
        await stack.data(
            "inventory",
            ADJUST_STOCK,
            {
                "input": {
                    "productId": product_id,
                    "delta": delta,
                    "idempotencyKey": str(uuid.uuid4()),
                }
            },
            admin_token(),
        )
    )["adjustStock"]
    assert payload["userErrors"] == []
    return payload
