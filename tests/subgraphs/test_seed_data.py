"""The demo shop seed: enough data to explore, credentials that work, idempotent."""

from __future__ import annotations

import uuid

from subgraph_stack import Stack
from test_accounts_subgraph import LOGIN

from subgraphs.seed import DEMO_USERS, demo_products, product_id
from subgraphs.stack import prepare


async def test_seed_builds_a_consistent_demo_shop(stack: Stack) -> None:
    await prepare(stack.database_urls, seed=True)
    await prepare(stack.database_urls, seed=True)  # a second run adds nothing

    products = await stack.data(
        "products",
        "{ products(first: 100) { totalCount } categories { slug name productCount } }",
    )
    assert products["products"]["totalCount"] == len(demo_products()) >= 50
    assert products["categories"] == [
        {"slug": slug, "name": name, "productCount": 9}
        for slug, name in [
            ("brewing", "Brewing"),
            ("coffee", "Coffee"),
            ("gifts", "Gifts"),
            ("mugs-cups", "Mugs & Cups"),
            ("snacks", "Snacks"),
            ("tea", "Tea"),
        ]
    ]

    for user in DEMO_USERS:
        login = await stack.data(
            "accounts", LOGIN, {"input": {"email": user.email, "password": user.password}}
        )
        assert login["login"]["userErrors"] == [], user.email
    admin = next(u for u in DEMO_USERS if u.role == "ADMIN")
    token = (
        await stack.data(
            "accounts", LOGIN, {"input": {"email": admin.email, "password": admin.password}}
        )
    )["login"]["token"]
    orders = await stack.data(
        "orders", "{ orders(first: 50) { totalCount nodes { status } } }", token=token
    )
    assert orders["orders"]["totalCount"] >= 5
    assert {n["status"] for n in orders["orders"]["nodes"]} == {"PAID", "FULFILLED"}

    # Every seeded order's reservation is committed in inventory; no units are held.
    order_ids = {r.id for r in await stack.sql("orders", "SELECT id::text AS id FROM orders")}
    reservations = await stack.sql("inventory", "SELECT id::text AS id, status FROM reservations")
    assert {r.id for r in reservations} == order_ids
    assert {r.status for r in reservations} == {"COMMITTED"}
    stocked = await stack.sql(
        "inventory", "SELECT count(*) AS n, sum(reserved) AS held FROM stock_items"
    )
    assert stocked[0].n == len(demo_products())
    assert stocked[0].held == 0

    await _every_seeded_order_has_its_payment(stack, token)
    await _suggestions_make_sense_out_of_the_box(stack)


async def _every_seeded_order_has_its_payment(stack: Stack, admin_token: str) -> None:
    """One CAPTURED payment through the fake gateway per seeded order, for its total; the
    payments subgraph shows it on the order."""
    orders = await stack.sql("orders", "SELECT id::text AS id, total FROM orders")
    payments = await stack.sql(
        "payments", "SELECT order_id::text AS order_id, amount, status, gateway FROM payments"
    )
    assert sorted((p.order_id, p.amount) for p in payments) == sorted(
        (o.id, o.total) for o in orders
    )
    assert {(p.status, p.gateway) for p in payments} == {("CAPTURED", "fake")}
    order = orders[0]
    shown = await stack.data(
        "payments",
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order "
        "{ payment { status gateway amount { amount } } } } }",
        {"r": [{"__typename": "Order", "id": order.id}]},
        token=admin_token,
    )
    assert shown["_entities"] == [
        {"payment": {"status": "CAPTURED", "gateway": "fake",
                     "amount": {"amount": f"{order.total:.2f}"}}}
    ]


async def _suggestions_make_sense_out_of_the_box(stack: Stack) -> None:
    """The pour-over dripper is bought with the filters above all, then with its theme."""
    theme = {product_id(sku) for sku in ("BRW-005", "COF-001", "BRW-002", "BRW-006", "COF-008")}
    shown = await stack.data(
        "suggestions",
        "query($r: [_Any!]!) { _entities(representations: $r) "
        "{ ... on Product { suggestions(first: 4) { id } } } }",
        {"r": [{"__typename": "Product", "id": str(product_id("BRW-001"))}]},
    )
    suggested = [uuid.UUID(p["id"]) for p in shown["_entities"][0]["suggestions"]]
    assert len(suggested) == 4 and set(suggested) <= theme
    assert suggested[0] == product_id("BRW-005")
