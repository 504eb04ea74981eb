"""One request asking many suggestions costs a bounded number of SQL statements, and
answers exactly what one-field requests answer.

Statements are counted on the running app's own engine (Database.on_statement) while
the request is served.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from suggestions_helpers import (
    DEMO,
    admin,
    app_db,
    bought,
    empty,
    graphql,
    products_server,
    services,
    skus,
    suggested,
    suggestions_server,
)

from subgraphs.common.serve import RunningServer

FIRSTS = (1, 4, 7, 50)  # each asked twice per product (aliases), plus the default
PRODUCTS = sorted(DEMO)[:50]
USERS = [str(uuid.UUID(int=n)) for n in range(1, 4)]


@pytest_asyncio.fixture(scope="module")
async def server(pg_server_url: str) -> AsyncIterator[RunningServer]:
    async with (
        products_server(pg_server_url) as products,
        suggestions_server(pg_server_url, products.graphql_url, name="batching") as running,
    ):
        yield running


def _baskets() -> list[dict[str, int]]:
    """Baskets over the demo products: neighbours in SKU order, of 2 to 4 products."""
    every = sorted(DEMO)
    return [
        {every[(i + k) % len(every)]: 1 + (i + k) % 3 for k in range(2 + i % 3)}
        for i in range(0, len(every), 2)
    ]


@pytest_asyncio.fixture
async def shop(server: RunningServer) -> RunningServer:
    await empty(server)
    db = app_db(server)
    await bought(db, _baskets())
    for n, user in enumerate(USERS):
        await bought(db, [{sorted(DEMO)[n * 5]: 1, sorted(DEMO)[n * 5 + 9]: 2}], user=user)
    await services(server).catalogue.refresh(db)
    return server


async def counted(server: RunningServer, request: Callable[[], Any]) -> tuple[Any, list[str]]:
    """The request's answer and the SQL statements the app sent while serving it."""
    statements: list[str] = []
    unsubscribe = app_db(server).on_statement(statements.append)
    try:
        return await request(), statements
    finally:
        unsubscribe()


def many_suggestions(aliases: dict[str, int | None]) -> str:
    """`_entities` over Product representations, `suggestions` under each alias."""
    fields = " ".join(
        f"{alias}: suggestions{'' if first is None else f'(first: {first})'} {{ id }}"
        for alias, first in aliases.items()
    )
    return (
        "query ($reps: [_Any!]!) { _entities(representations: $reps) "
        f"{{ ... on Product {{ {fields} }} }} }}"
    )


def product_reps(names: list[str]) -> list[dict[str, str]]:
    """Product representations of demo SKUs."""
    return [{"__typename": "Product", "id": str(DEMO[sku].id)} for sku in names]


async def test_many_products_and_aliases_are_batched(shop: RunningServer) -> None:
    aliases: dict[str, int | None] = {f"a{f}": f for f in FIRSTS}
    aliases |= {f"b{f}": f for f in FIRSTS} | {"d": None}
    query = many_suggestions(aliases)
    body, statements = await counted(
        shop, lambda: graphql(shop, query, {"reps": product_reps(PRODUCTS)})
    )
    assert "errors" not in body, body
    print(f"\n{len(PRODUCTS)} products x {len(aliases)} aliases: {len(statements)} statements")
    # the products' top co-purchases in one statement, their categories' sales in another
    assert len(statements) == 2
    for sku, entity in zip(PRODUCTS, body["data"]["_entities"], strict=True):
        for alias, first in aliases.items():
            assert skus(entity[alias]) == await suggested(shop, sku, first), (sku, alias)


async def test_suggestions_with_no_fallback_needed_cost_one_statement(
    shop: RunningServer,
) -> None:
    query = many_suggestions({"a": 1, "b": 1})
    body, statements = await counted(
        shop, lambda: graphql(shop, query, {"reps": product_reps(PRODUCTS[:3])})
    )
    assert [skus(e["a"]) for e in body["data"]["_entities"]] == [
        await suggested(shop, sku, 1) for sku in PRODUCTS[:3]
    ]
    assert len(statements) == 1


RECOMMENDED_ALIASES = """
query ($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on User {
      r1: recommendedProducts(first: 1) { id }
      r3: recommendedProducts(first: 3) { id }
      r50: recommendedProducts(first: 50) { id }
      again: recommendedProducts(first: 50) { id }
      d: recommendedProducts { id }
    }
  }
}
"""
ONE_RECOMMENDATION = """
query ($id: ID!, $first: Int) {
  _entities(representations: [{__typename: "User", id: $id}]) {
    ... on User { recommendedProducts(first: $first) { id } }
  }
}
"""


async def test_recommendations_are_batched(shop: RunningServer) -> None:
    reps = [{"__typename": "User", "id": user} for user in USERS]
    body, statements = await counted(
        shop, lambda: graphql(shop, RECOMMENDED_ALIASES, {"reps": reps}, admin())
    )
    assert "errors" not in body, body
    # what each user bought, what was bought with it, and the best sellers: whatever
    # the number of users and aliases
    assert len(statements) == 3
    for user, entity in zip(USERS, body["data"]["_entities"], strict=True):
        for alias, first in {"r1": 1, "r3": 3, "r50": 50, "again": 50, "d": 8}.items():
            alone = await graphql(shop, ONE_RECOMMENDATION, {"id": user, "first": first}, admin())
            assert entity[alias] == alone["data"]["_entities"][0]["recommendedProducts"]
