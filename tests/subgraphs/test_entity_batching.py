"""`_entities` with 100 representations costs a constant number of SQL statements.

Statements are counted on the running app's own engine while one HTTP request
is served, so the count covers everything that request sent to PostgreSQL.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from orders_helpers import add_to_cart, checkout
from subgraph_stack import Stack, admin_token, customer_token, insert_products, make_product

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
    await insert_products(stack, "B", "Batch", N, price_sql="i")
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
        stack, "inventory", lambda: stack.data("inventory", query, {"reps": reps}, admin_token())
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


USER_ORDERS = (
    ENTITIES
    % """... on User {
    id
    orders(first: 2) {
      totalCount
      edges { cursor node { id } }
      pageInfo { hasNextPage endCursor }
    }
  }"""
)
BASE_TIME = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedOrder:
    id: str
    user_id: str
    status: str
    created_at: datetime


async def create_user_orders(stack: Stack, users: int) -> tuple[list[str], list[CreatedOrder]]:
    """User i gets i % 4 orders; a 3-order user's two older orders share a timestamp."""
    user_ids = [str(uuid.uuid4()) for _ in range(users)]
    orders = []
    for i, user_id in enumerate(user_ids):
        count = i % 4
        for j in range(count):
            minute = i * 10 + (1 if count == 3 and j == 2 else j)
            orders.append(
                CreatedOrder(
                    id=str(uuid.uuid4()),
                    user_id=user_id,
                    status="PAID" if j % 2 else "PENDING_PAYMENT",
                    created_at=BASE_TIME + minute * MINUTE,
                )
            )
    await stack.sql(
        "orders",
        "INSERT INTO orders (id, user_id, status, currency_code, subtotal, total, "
        "idempotency_key, created_at, updated_at, expires_at) "
        "SELECT CAST(o.id AS uuid), CAST(o.user_id AS uuid), o.status, 'USD', 10, 10, o.id, "
        "o.created_at, o.created_at, o.created_at + interval '15 minutes' "
        "FROM unnest(CAST(:ids AS text[]), CAST(:users AS text[]), CAST(:statuses AS text[]), "
        "CAST(:times AS timestamptz[])) AS o(id, user_id, status, created_at)",
        ids=[o.id for o in orders],
        users=[o.user_id for o in orders],
        statuses=[o.status for o in orders],
        times=[o.created_at for o in orders],
    )
    return user_ids, orders


def newest_first(orders: list[CreatedOrder], user_id: str) -> list[CreatedOrder]:
    mine = [o for o in orders if o.user_id == user_id]
    return sorted(mine, key=lambda o: (o.created_at, uuid.UUID(o.id)), reverse=True)


def cursor_position(cursor: str) -> tuple[datetime, str]:
    """A cursor is base64 JSON of the ordering's name and the sort key: [name, createdAt, id]."""
    ordering, created_at, order_id = orjson.loads(base64.urlsafe_b64decode(cursor))
    assert ordering == "NEWEST"
    return datetime.fromisoformat(created_at), order_id


def assert_first_page(entity: dict[str, Any], user_id: str, orders: list[CreatedOrder]) -> None:
    expected = newest_first(orders, user_id)
    connection = entity["orders"]
    assert entity["id"] == user_id
    assert connection["totalCount"] == len(expected)
    edges = connection["edges"]
    assert [e["node"]["id"] for e in edges] == [o.id for o in expected[:2]]
    assert [cursor_position(e["cursor"]) for e in edges] == [
        (o.created_at, o.id) for o in expected[:2]
    ]
    assert connection["pageInfo"] == {
        "hasNextPage": len(expected) > 2,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }


async def test_user_orders_batch_in_constant_statements(stack: Stack) -> None:
    user_ids, orders = await create_user_orders(stack, N)
    counts = {}
    for n in (10, N):
        reps = [{"__typename": "User", "id": u} for u in user_ids[:n]]
        body, statements = await count_statements(
            stack,
            "orders",
            lambda reps=reps: stack.data("orders", USER_ORDERS, {"reps": reps}, admin_token()),
        )
        assert len(body["_entities"]) == n
        for entity, user_id in zip(body["_entities"], user_ids[:n], strict=True):
            assert_first_page(entity, user_id, orders)
        counts[n] = len(statements)
    print(f"\norders: User.orders for 10 -> {counts[10]}, {N} -> {counts[N]} SQL statements")
    # one SELECT for every user's first page, one grouped COUNT
    assert counts == {10: 2, N: 2}


USER_ORDER_VARIANTS = (
    ENTITIES
    % """... on User {
    id
    latest: orders(first: 1) { nodes { id } }
    paid: orders(first: 3, status: PAID) { totalCount nodes { id } }
    older: orders(first: 2, after: $after) {
      totalCount
      nodes { id }
      pageInfo { hasNextPage hasPreviousPage }
    }
  }"""
).replace("($reps: [_Any!]!)", "($reps: [_Any!]!, $after: String)")


async def test_user_orders_argument_sets_batch_separately(stack: Stack) -> None:
    user_ids, orders = await create_user_orders(stack, N)
    # the cursor of user 7's newest order: `older` pages start strictly below it for everyone
    pivot, *older_than_pivot = newest_first(orders, user_ids[7])
    assert [o.created_at for o in older_than_pivot] == [pivot.created_at, pivot.created_at - MINUTE]
    after = base64.urlsafe_b64encode(
        orjson.dumps(["NEWEST", pivot.created_at.isoformat(), pivot.id])
    ).decode()
    reps = [{"__typename": "User", "id": u} for u in user_ids]
    body, statements = await count_statements(
        stack,
        "orders",
        lambda: stack.data(
            "orders", USER_ORDER_VARIANTS, {"reps": reps, "after": after}, admin_token()
        ),
    )
    expected = []
    for user_id in user_ids:
        mine = newest_first(orders, user_id)
        paid = [o for o in mine if o.status == "PAID"]
        older = [o for o in mine if (o.created_at, o.id) < (pivot.created_at, pivot.id)]
        # newest first, so what precedes a page after the pivot is the pivot and newer
        newer = [o for o in mine if (o.created_at, o.id) >= (pivot.created_at, pivot.id)]
        expected.append(
            {
                "id": user_id,
                "latest": {"nodes": [{"id": o.id} for o in mine[:1]]},
                "paid": {"totalCount": len(paid), "nodes": [{"id": o.id} for o in paid[:3]]},
                "older": {
                    "totalCount": len(mine),
                    "nodes": [{"id": o.id} for o in older[:2]],
                    "pageInfo": {"hasNextPage": len(older) > 2, "hasPreviousPage": bool(newer)},
                },
            }
        )
    assert body["_entities"] == expected
    # user 7's two older orders (one shares the pivot's timestamp: the id breaks the tie);
    # every later user's orders are newer than the pivot
    assert body["_entities"][7]["older"]["nodes"] == [{"id": o.id} for o in older_than_pivot]
    assert [e["older"]["nodes"] for e in body["_entities"][8:]] == [[]] * (N - 8)
    assert {e["older"]["pageInfo"]["hasPreviousPage"] for e in body["_entities"]} == {True, False}
    # one page SELECT per argument set (3), one "anything before the cursor?" for the set
    # paging from a cursor (1), one COUNT per distinct status (2)
    print(f"\norders: User.orders with 3 argument sets x {N} -> {len(statements)} statements")
    assert len(statements) == 6


async def test_user_orders_batch_keeps_per_user_authorization(stack: Stack) -> None:
    user_ids, orders = await create_user_orders(stack, 8)
    me = user_ids[3]  # three orders
    reps = [{"__typename": "User", "id": u} for u in [me, user_ids[2], "not-a-uuid", me]]
    token = customer_token(me)
    body, statements = await count_statements(
        stack, "orders", lambda: stack.gql("orders", USER_ORDERS, {"reps": reps}, token)
    )
    first, _, _, again = body["data"]["_entities"]
    assert_first_page(first, me, orders)
    assert again == first
    assert body["data"]["_entities"][1:3] == [None, None]
    # a malformed id is refused with its representation, before any authorization or SQL
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["_entities", 2], "BAD_USER_INPUT"),
        (["_entities", 1, "orders"], "FORBIDDEN"),
    ]
    assert len(statements) == 2

    admin = await stack.gql("orders", USER_ORDERS, {"reps": reps}, admin_token())
    assert [(e["path"], e["extensions"]["code"]) for e in admin["errors"]] == [
        (["_entities", 2], "BAD_USER_INPUT")
    ]
    assert_first_page(admin["data"]["_entities"][1], user_ids[2], orders)

    bad_page = USER_ORDERS.replace("orders(first: 2)", 'orders(first: 2, after: "junk")')
    rejected = await stack.gql("orders", bad_page, {"reps": reps[:1]}, token)
    assert rejected["data"] == {"_entities": [None]}
    assert rejected["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert rejected["errors"][0]["message"] == "Invalid cursor for this list (`after`)"
