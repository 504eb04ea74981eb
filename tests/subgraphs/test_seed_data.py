"""The demo shop seed: enough data to explore, credentials that work, idempotent."""

from __future__ import annotations

from subgraph_stack import Stack
from test_accounts_subgraph import LOGIN

from subgraphs.seed import DEMO_USERS, demo_products
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
