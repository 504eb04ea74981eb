"""The cart's money: prices from products, discounts from the real promotions subgraph.

The promotion is the demo shop's TEA3FOR2 (buy two teas, the cheapest third is
free), written by promotions' own seeder; the products are made per test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from fault_proxy import PASS, REFUSE, FaultProxy
from orders_helpers import (
    ADD,
    CART_MONEY,
    CART_QUERY,
    CHECKOUT,
    REMOVE,
    TEA3FOR2_DESCRIPTION,
    add_to_cart,
    checkout_expecting,
    seed_tea_promotion,
    stock_of,
    usd,
)
from subgraph_stack import CODEC, Stack, admin_token, customer_token, make_product

from subgraphs.common.serve import RunningServer, start_server
from subgraphs.orders.services import OrdersServices
from subgraphs.stack import create_app


async def _tea_cart(stack: Stack, token: str) -> dict[str, dict[str, Any]]:
    """Two teas and a mug in the cart: 2 x 6.50 + 1 x 4.25 (tea) + 1 x 12.00."""
    await seed_tea_promotion(stack)
    products = {
        "assam": await make_product(stack, name="Assam", price="6.50", category="tea", stock=9),
        "sencha": await make_product(stack, name="Sencha", price="4.25", category="tea", stock=9),
        "mug": await make_product(stack, name="Mug", price="12.00", category="kitchen", stock=9),
    }
    for name, quantity in (("assam", 2), ("sencha", 1), ("mug", 1)):
        added = await add_to_cart(stack, token, products[name]["id"], quantity)
        assert added["userErrors"] == []
    return products


async def test_cart_shows_line_totals_the_tea_discount_and_the_total(stack: Stack) -> None:
    token = customer_token()
    products = await _tea_cart(stack, token)
    cart = (await stack.data("orders", CART_QUERY, token=token))["cart"]
    assert cart["lines"] == [
        {
            "product": {"id": products["assam"]["id"]},
            "quantity": 2,
            "unitPrice": usd("6.50"),
            "lineTotal": usd("13.00"),
        },
        {
            "product": {"id": products["sencha"]["id"]},
            "quantity": 1,
            "unitPrice": usd("4.25"),
            "lineTotal": usd("4.25"),
        },
        {
            "product": {"id": products["mug"]["id"]},
            "quantity": 1,
            "unitPrice": usd("12.00"),
            "lineTotal": usd("12.00"),
        },
    ]
    assert cart["totalQuantity"] == 4
    assert cart["subtotal"] == usd("29.25")
    # three teas: the cheapest (Sencha, 4.25) is free; the mug is not tea
    assert cart["discountTotal"] == usd("4.25")
    assert cart["total"] == usd("25.00")
    assert cart["appliedPromotions"] == [
        {"code": "TEA3FOR2", "description": TEA3FOR2_DESCRIPTION, "amount": usd("4.25")}
    ]


async def test_an_empty_cart_costs_nothing(stack: Stack) -> None:
    cart = (await stack.data("orders", CART_QUERY, token=customer_token()))["cart"]
    assert cart == {
        "lines": [],
        "totalQuantity": 0,
        "subtotal": usd("0.00"),
        "discountTotal": usd("0.00"),
        "total": usd("0.00"),
        "appliedPromotions": [],
    }


async def test_the_cart_is_priced_once_per_request(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = customer_token()
    await _tea_cart(stack, token)
    services: OrdersServices = stack.servers["orders"].app.config["SHOPGRAPH_SPEC"].services
    calls = {"catalog": 0, "promotions": 0}
    catalog_products, quote = services.catalog.products, services.promotions.quote

    async def counted_products(*args: Any) -> Any:
        calls["catalog"] += 1
        return await catalog_products(*args)

    async def counted_quote(*args: Any) -> Any:
        calls["promotions"] += 1
        return await quote(*args)

    monkeypatch.setattr(services.catalog, "products", counted_products)
    monkeypatch.setattr(services.promotions, "quote", counted_quote)
    query = (
        "{ cart { total { amount } subtotal { amount } discountTotal { amount } "
        "appliedPromotions { code } lines { unitPrice { amount } lineTotal { amount } } } "
        "again: cart { total { amount } } }"
    )
    body = await stack.data("orders", query, token=token)
    assert body["again"]["total"] == body["cart"]["total"] == {"amount": "25.00"}
    assert calls == {"catalog": 1, "promotions": 1}


EUR_PRICE = """
mutation ($id: ID!) {
  updateProduct(input: {id: $id, price: {amount: "11.00", currencyCode: EUR}}) {
    userErrors { code }
  }
}
"""


async def test_a_product_in_another_currency_is_refused(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, name="Mug", price="12.00", stock=5)
    tasse = await make_product(stack, name="Tasse", stock=5)
    priced = await stack.data("products", EUR_PRICE, {"id": tasse["id"]}, admin_token())
    assert priced["updateProduct"]["userErrors"] == []
    assert (await add_to_cart(stack, token, mug["id"]))["userErrors"] == []
    refused = await add_to_cart(stack, token, tasse["id"])
    assert refused["userErrors"] == [
        {
            "code": "CURRENCY_MISMATCH",
            "field": ["input", "productId"],
            "message": "Tasse is priced in EUR but your cart is in USD; a cart holds one currency",
        }
    ]
    assert refused["cart"]["lines"] == [{"product": {"id": mug["id"]}, "quantity": 1}]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def proxies(stack: Stack) -> AsyncIterator[dict[str, tuple[FaultProxy, RunningServer]]]:
    """An orders app whose products and promotions calls go through fault proxies."""
    promotions = FaultProxy(stack.servers["promotions"].url, field=b"quoteDiscounts")
    products = FaultProxy(stack.servers["products"].url, field=b"CatalogProducts")
    promotions_server = await start_server(promotions)  # type: ignore[arg-type]
    products_server = await start_server(products)  # type: ignore[arg-type]
    orders = await start_server(
        create_app(
            "orders",
            stack.database_urls["orders"],
            codec=CODEC,
            inventory_url=stack.url("inventory"),
            products_url=products_server.graphql_url,
            promotions_url=promotions_server.graphql_url,
            upstream_timeout=5,
            sweep_interval=0,
            reservation_ttl=timedelta(minutes=15),
        )
    )
    yield {"promotions": (promotions, orders), "products": (products, orders)}
    for server in (orders, promotions_server, products_server):
        await server.stop()


CART_AND_ORDERS = f"{{ cart {{ {CART_MONEY} }} orders(first: 1) {{ totalCount }} }}"


async def test_not_in_cart_names_the_id_sent_while_the_catalogue_is_down(
    stack: Stack, proxies: dict[str, tuple[FaultProxy, RunningServer]]
) -> None:
    mug = await make_product(stack, name="Mug", stock=2)
    proxy, orders = proxies["products"]
    proxy.mode = REFUSE
    try:
        variables = {"input": {"productId": mug["id"]}}
        removed = await stack.post(orders.graphql_url, REMOVE, variables, customer_token())
    finally:
        proxy.mode = PASS
    # the name only makes the message better: the mutation still answers
    message = f"Product {mug['id']} is not in the cart"
    assert removed == {
        "data": {
            "removeFromCart": {
                "cart": {"lines": [], "totalQuantity": 0},
                "userErrors": [
                    {"code": "NOT_IN_CART", "field": ["input", "productId"], "message": message}
                ],
            }
        }
    }


@pytest.mark.parametrize(
    ("down", "what", "add_errors"),
    [
        ("promotions", "Promotions", []),  # adding needs the catalogue and inventory only
        (
            "products",
            "The catalogue",
            [
                {
                    "code": "SERVICE_UNAVAILABLE",
                    "field": None,
                    "message": "The catalogue is unavailable; try again",
                }
            ],
        ),
    ],
)
async def test_without_products_or_promotions_the_cart_is_null_with_the_error(
    stack: Stack,
    proxies: dict[str, tuple[FaultProxy, RunningServer]],
    down: str,
    what: str,
    add_errors: list[dict[str, Any]],
) -> None:
    token = customer_token()
    products = await _tea_cart(stack, token)
    proxy, orders = proxies[down]
    proxy.mode = REFUSE
    try:
        shown = await stack.post(orders.graphql_url, CART_AND_ORDERS, token=token)
        mug = {"input": {"productId": products["mug"]["id"], "quantity": 1}}
        added = await stack.post(orders.graphql_url, ADD, mug, token)
        checked_out = await stack.post(
            orders.graphql_url, CHECKOUT, {"input": {"idempotencyKey": "k"}}, token
        )
    finally:
        proxy.mode = PASS
    message = f"{what} is unavailable; try again shortly"
    # no total without its discount: the whole cart is null; the other root field answers
    assert shown["data"] == {"cart": None, "orders": {"totalCount": 0}}
    assert [(e["path"], e["message"], e["extensions"]) for e in shown["errors"]] == [
        (["cart"], message, {"code": "SERVICE_UNAVAILABLE"})
    ]
    assert added["data"] == {"addToCart": {"cart": None, "userErrors": add_errors}}
    assert [(e["path"], e["message"], e["extensions"]) for e in added["errors"]] == [
        (["addToCart", "cart"], message, {"code": "SERVICE_UNAVAILABLE"})
    ]
    assert checked_out["data"]["checkout"] == {
        "order": None,
        "userErrors": [
            {
                "code": "SERVICE_UNAVAILABLE",
                "field": None,
                "message": f"{what} is unavailable; nothing was charged or reserved, "
                "retry with the same key",
            }
        ],
    }
    assert await stock_of(stack, products["assam"]["id"]) == (9, 0)
    assert await stack.sql("orders", "SELECT id FROM orders") == []


async def test_a_cart_whose_currencies_diverged_has_no_total_and_cannot_check_out(
    stack: Stack,
) -> None:
    token = customer_token()
    mug = await make_product(stack, name="Mug", price="12.00", stock=5)
    tasse = await make_product(stack, name="Tasse", stock=5)
    await add_to_cart(stack, token, mug["id"])
    await add_to_cart(stack, token, tasse["id"])
    priced = await stack.data("products", EUR_PRICE, {"id": tasse["id"]}, admin_token())
    assert priced["updateProduct"]["userErrors"] == []

    shown = await stack.gql("orders", "{ cart { totalQuantity total { amount } } }", token=token)
    assert shown["data"] == {"cart": None}
    assert [(e["path"], e["message"], e["extensions"]) for e in shown["errors"]] == [
        (
            ["cart"],
            "The cart mixes currencies (EUR, USD); remove the products in the other currency",
            {"code": "CURRENCY_MISMATCH"},
        )
    ]
    refused = await stack.data("orders", CHECKOUT, {"input": {"idempotencyKey": "k"}}, token)
    assert refused["checkout"] == {
        "order": None,
        "userErrors": [
            {
                "code": "CURRENCY_MISMATCH",
                "field": None,
                "message": "The cart mixes currencies (EUR, USD); remove the products in the "
                "other currency",
            }
        ],
    }


async def _cart_rows(stack: Stack, user: str) -> list[tuple[str, int]]:
    rows = await stack.sql(
        "orders",
        "SELECT product_id, quantity FROM cart_lines WHERE user_id = CAST(:u AS uuid)"
        " ORDER BY added_at",
        u=user,
    )
    return [(str(row.product_id), row.quantity) for row in rows]


async def _cart_with_a_gone_line(stack: Stack) -> tuple[str, str, dict[str, Any]]:
    """(user id, token, mug): a cart of 1 mug and 2 of a product deleted since."""
    user = str(uuid.uuid4())
    token = customer_token(user)
    mug = await make_product(stack, name="Mug", price="12.00", stock=5)
    gone = await make_product(stack, name="Gone", price="3.00", stock=5)
    await add_to_cart(stack, token, mug["id"])
    await add_to_cart(stack, token, gone["id"], 2)
    deleted = await stack.data(
        "products",
        "mutation ($id: ID!) { deleteProduct(input: {id: $id}) { deletedProductId } }",
        {"id": gone["id"]},
        admin_token(),
    )
    assert deleted["deleteProduct"]["deletedProductId"] == gone["id"]
    assert [pid for pid, _ in await _cart_rows(stack, user)] == [mug["id"], gone["id"]]
    return user, token, mug


async def test_a_line_whose_product_is_gone_is_not_shown(stack: Stack) -> None:
    _, token, mug = await _cart_with_a_gone_line(stack)
    shown = await stack.gql(
        "orders",
        "{ cart { lines { product { id } quantity unitPrice { amount } } totalQuantity "
        "subtotal { amount } total { amount } } }",
        token=token,
    )
    assert shown == {
        "data": {
            "cart": {
                "lines": [
                    {"product": {"id": mug["id"]}, "quantity": 1, "unitPrice": {"amount": "12.00"}}
                ],
                "totalQuantity": 1,
                "subtotal": {"amount": "12.00"},
                "total": {"amount": "12.00"},
            }
        }
    }


async def test_checkout_drops_a_line_whose_product_is_gone_and_sells_the_rest(
    stack: Stack,
) -> None:
    user, token, mug = await _cart_with_a_gone_line(stack)
    # a checkout that fails still drops the gone line (in its transaction); the mug stays
    changed = await checkout_expecting(stack, token, "k1", usd("15.00"))
    assert changed == {
        "order": None,
        "userErrors": [
            {
                "code": "PRICE_CHANGED",
                "field": ["input", "expectedTotal"],
                "message": "The total changed from 15.00 USD to 12.00 USD since the cart was "
                "shown; review the cart and check out again",
            }
        ],
    }
    assert await _cart_rows(stack, user) == [(mug["id"], 1)]
    placed = await checkout_expecting(stack, token, "k2", usd("12.00"))
    assert placed["userErrors"] == []
    assert [(ln["name"], ln["quantity"]) for ln in placed["order"]["lines"]] == [("Mug", 1)]
    assert placed["order"]["total"] == usd("12.00")
    assert await _cart_rows(stack, user) == []
    assert await stock_of(stack, mug["id"]) == (5, 1)


async def test_adding_without_the_catalogue_is_refused_and_changes_nothing(
    stack: Stack, proxies: dict[str, tuple[FaultProxy, RunningServer]]
) -> None:
    token = customer_token()
    mug = await make_product(stack, name="Mug", stock=5)
    proxy, orders = proxies["products"]
    proxy.mode = REFUSE
    try:
        body = await stack.post(
            orders.graphql_url, ADD, {"input": {"productId": mug["id"], "quantity": 1}}, token
        )
    finally:
        proxy.mode = PASS
    assert body["data"]["addToCart"] == {
        "cart": {"lines": [], "totalQuantity": 0},
        "userErrors": [
            {
                "code": "SERVICE_UNAVAILABLE",
                "field": None,
                "message": "The catalogue is unavailable; try again",
            }
        ],
    }
