"""`_entities` with 100 representations costs a constant number of SQL statements.

Statements are counted on the running app's own engine while one HTTP request
is served, so the count covers everything that request sent to PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from orders_helpers import add_to_cart, checkout
from subgraph_stack import Stack, admin_token, customer_token, make_product

N = 100


async def count_statements(
    stack: Stack, name: str, request: Callable[[], Any]
) -> tuple[Any, list[str]]:
    statements: list[str] = []
    unsubscribe = stack.app_db(name).on_statement(statements.append)
    try:
        result = await request()
    finally:
        unsubscribe()
    return result, statements


ENTITIES = "query ($reps: [_Any!]!) { _entities(representations: $reps) { %s } }"


async def test_products_by_id_and_sku_batch(stack: Stack) -> None:
    await stack.sql(
        "products",
        "INSERT INTO products (id, sku, name, category, price_amount, currency_code) "
        "SELECT gen_random_uuid(), 'B-' || i, 'Batch ' || i, 'Batch', i, 'USD' "
        "FROM generate_series(1, :n) AS i",
        n=N,
    )
    rows = await stack.sql("products", "SELECT id::text AS id, sku FROM products ORDER BY sku")
    reps = [{"__typename": "Product", "id": r.id} for r in rows[: N // 2]]
    reps += [{"__typename": "Product", "sku": r.sku} for r in rows[N // 2 :]]
    query = ENTITIES % "... on Product { id sku name price { amount } }"

    body, statements = await count_statements(
        stack, "products", lambda: stack.data("products", query, {"reps": reps})
    )
    assert [e["sku"] for e in body["_entities"]] == [r.sku for r in rows]
    # one SELECT for the id keys, one for the sku keys
    print(f"\nproducts: {N} representations -> {len(statements)} SQL statements")
    assert len(statements) == 2


async def test_inventory_stock_batches(stack: Stack) -> None:
    ids = [str(uuid.uuid4()) for _ in range(N)]
    await stack.sql(
        "inventory",
        "INSERT INTO stock_items (product_id, on_hand, reserved) "
        "SELECT CAST(p AS uuid), 7, 2 FROM unnest(CAST(:ids AS text[])) AS p",
        ids=ids,
    )
    query = ENTITIES % "... on Product { id stock { onHand reserved available } inStock }"
    reps = [{"__typename": "Product", "id": i} for i in ids]
    body, statements = await count_statements(
        stack, "inventory", lambda: stack.data("inventory", query, {"reps": reps})
    )
    assert body["_entities"] == [
        {"id": i, "stock": {"onHand": 7, "reserved": 2, "available": 5}, "inStock": True}
        for i in ids
    ]
    print(f"\ninventory: {N} representations -> {len(statements)} SQL statements")
    assert len(statements) == 1


async def test_accounts_users_batch(stack: Stack) -> None:
    await stack.sql(
        "accounts",
        "INSERT INTO users (id, email, name, role, password_hash) "
        "SELECT gen_random_uuid(), 'u' || i || '@example.com', 'User ' || i, 'CUSTOMER', 'x' "
        "FROM generate_series(1, :n) AS i",
        n=N,
    )
    rows = await stack.sql("accounts", "SELECT id::text AS id, email FROM users ORDER BY email")
    query = ENTITIES % "... on User { id email }"
    reps = [{"__typename": "User", "id": r.id} for r in rows]
    body, statements = await count_statements(
        stack, "accounts", lambda: stack.data("accounts", query, {"reps": reps}, admin_token())
    )
    assert [e["email"] for e in body["_entities"]] == [r.email for r in rows]
    print(f"\naccounts: {N} representations -> {len(statements)} SQL statements")
    assert len(statements) == 1


async def test_orders_with_lines_batch(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, stock=N)
    order_ids = []
    for n in range(N // 4):  # 25 real orders, each asked for 4 times
        await add_to_cart(stack, token, item["id"])
        order_ids.append((await checkout(stack, token, f"batch-{n}"))["order"]["id"])
    reps = [{"__typename": "Order", "id": i} for i in order_ids * 4]
    query = (
        ENTITIES % "... on Order { id status total { amount } itemCount lines { sku quantity } }"
    )
    body, statements = await count_statements(
        stack, "orders", lambda: stack.data("orders", query, {"reps": reps}, admin_token())
    )
    assert [e["id"] for e in body["_entities"]] == order_ids * 4
    assert {e["itemCount"] for e in body["_entities"]} == {1}
    # one SELECT for the orders, one for all their lines
    print(f"\norders: {N} representations -> {len(statements)} SQL statements")
    assert len(statements) == 2
