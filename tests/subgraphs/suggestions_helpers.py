"""What the suggestions tests share (no tests here): databases, the apps on real ports,
baskets written through the incremental path, and GraphQL calls.

Until the shared stack includes suggestions, the tests start their own servers: a
products subgraph with the demo catalogue (categories for the fallback) and the
suggestions subgraph without periodic work (the tests run recomputes and refreshes).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import text

from subgraphs.common.auth import ADMIN, CUSTOMER, TokenCodec
from subgraphs.common.database import Database, database_url, ensure_database
from subgraphs.common.migrations import migrate, migrations_of
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.products.app import create_app as create_products_app
from subgraphs.seed import demo_products, seed_products
from subgraphs.suggestions import counts
from subgraphs.suggestions.app import create_app
from subgraphs.suggestions.services import SuggestionsServices

_SECRET = secrets.token_urlsafe(32)
CODEC = TokenCodec("HS256", _SECRET, _SECRET)
SUGGESTIONS_TABLES = ("basket_lines", "baskets", "co_purchases", "product_sales")
# the demo catalogue by SKU: real ids and categories from products
DEMO = {p.sku: p for p in demo_products()}
NOWHERE = "http://127.0.0.1:9/graphql"  # nothing listens on the discard port

SUGGESTIONS = """
query ($id: ID!, $first: Int) {
  _entities(representations: [{__typename: "Product", id: $id}]) {
    ... on Product { suggestions(first: $first) { id } }
  }
}
"""
SUGGESTIONS_DEFAULT = """
query ($id: ID!) {
  _entities(representations: [{__typename: "Product", id: $id}]) {
    ... on Product { suggestions { id } }
  }
}
"""
RECOMMENDED = """
query ($id: ID!, $first: Int) {
  _entities(representations: [{__typename: "User", id: $id}]) {
    ... on User { recommendedProducts(first: $first) { id } }
  }
}
"""


def sku_id(sku: str) -> str:
    """The demo product's id."""
    return str(DEMO[sku].id)


def customer(user: str) -> str:
    """A customer's bearer token."""
    return CODEC.issue(user, CUSTOMER)


def admin() -> str:
    """An admin's bearer token."""
    return CODEC.issue(str(uuid.uuid4()), ADMIN)


async def fresh_database(server_url: str, prefix: str, name: str) -> str:
    """The URL of the database `<prefix>_<name>`, created if needed."""
    url = database_url(server_url, name, prefix=prefix)
    await ensure_database(url)
    return url


@asynccontextmanager
async def products_server(server_url: str) -> AsyncIterator[RunningServer]:
    """A products subgraph holding the demo catalogue."""
    url = await fresh_database(server_url, "h4sugg", "products")
    db = Database(url)
    try:
        await migrate(db.engine, migrations_of("subgraphs.products"))
        await seed_products(db)
    finally:
        await db.dispose()
    server = await start_server(create_products_app(url, CODEC, inventory_url=NOWHERE))
    try:
        yield server
    finally:
        await server.stop()


@asynccontextmanager
async def suggestions_server(
    server_url: str, products_url: str, name: str = "suggestions", **options: Any
) -> AsyncIterator[RunningServer]:
    """A suggestions subgraph on its own database, no periodic work, no events unless
    `options` say otherwise."""
    url = await fresh_database(server_url, "h4sugg", name)
    settings: dict[str, Any] = {"recompute_seconds": 0, "catalogue_seconds": 0, "events": False}
    settings.update(options)
    server = await start_server(create_app(url, codec=CODEC, products_url=products_url, **settings))
    try:
        yield server
    finally:
        await server.stop()


def app_db(server: RunningServer) -> Database:
    """The Database the running app uses."""
    return server.app.config["SHOPGRAPH_DB"]  # type: ignore[no-any-return]


def services(server: RunningServer) -> SuggestionsServices:
    """The running app's catalogue and recomputer."""
    return server.app.config["SHOPGRAPH_SPEC"].services  # type: ignore[no-any-return]


async def empty(server: RunningServer) -> None:
    """Empty the suggestions tables and forget the cached catalogue."""
    async with app_db(server).engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(SUGGESTIONS_TABLES)} CASCADE"))
    catalogue = services(server).catalogue
    catalogue.entries.clear()
    catalogue.missing.clear()


async def bought(
    db: Database, baskets: Iterable[Mapping[str, int]], user: str | None = None
) -> list[uuid.UUID]:
    """Record `baskets` ({sku: units}) as placed and paid, through the incremental path."""
    orders = []
    async with db.session() as session, session.begin():
        for basket in baskets:
            order = uuid.uuid4()
            owner = uuid.UUID(user) if user else None
            lines = {DEMO[sku].id: units for sku, units in basket.items()}
            await counts.basket_placed(session, order, owner, lines)
            await counts.basket_bought(session, order, owner)
            orders.append(order)
    return orders


async def graphql(
    server: RunningServer, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """The JSON answer of one POST to the server's /graphql."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            server.graphql_url, json={"query": query, "variables": variables}, headers=headers
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def suggested(server: RunningServer, sku: str, first: int | None = None) -> list[str]:
    """The SKUs `sku`'s suggestions name (first: None sends the argument's default)."""
    if first is None:
        body = await graphql(server, SUGGESTIONS_DEFAULT, {"id": sku_id(sku)})
    else:
        body = await graphql(server, SUGGESTIONS, {"id": sku_id(sku), "first": first})
    assert "errors" not in body, body
    return skus(body["data"]["_entities"][0]["suggestions"])


def skus(products: list[dict[str, str]]) -> list[str]:
    """The SKUs of Product references."""
    by_id = {str(p.id): sku for sku, p in DEMO.items()}
    return [by_id.get(p["id"], p["id"]) for p in products]


def error_codes(body: dict[str, Any]) -> list[str]:
    """The `extensions.code` of each error of an answer."""
    return [e["extensions"]["code"] for e in body.get("errors", [])]
