"""Checkout prices the cart again, freezes the money on the order, and refuses a total
other than the one the customer was shown (PRICE_CHANGED)."""

from __future__ import annotations

from decimal import Decimal

from orders_helpers import (
    CART_QUERY,
    CHECKOUT_KEY_REUSED,
    ORDER_MONEY,
    add_to_cart,
    checkout_expecting,
    seed_tea_promotion,
    stock_of,
    usd,
)
from subgraph_stack import Stack, admin_token, customer_token, make_product

from subgraphs.seed import SEEDERS

UPDATE_PRICE = """
mutation ($id: ID!, $amount: Decimal!) {
  updateProduct(input: {id: $id, price: {amount: $amount, currencyCode: USD}}) {
    userErrors { code }
  }
}
"""


async def _set_price(stack: Stack, product_id: str, amount: str) -> None:
    body = await stack.data(
        "products", UPDATE_PRICE, {"id": product_id, "amount": amount}, admin_token()
    )
    assert body["updateProduct"]["userErrors"] == []


async def test_the_order_freezes_the_carts_money(stack: Stack) -> None:
    token = customer_token()
    await seed_tea_promotion(stack)
    assam = await make_product(stack, name="Assam", price="6.50", category="tea", stock=9)
    sencha = await make_product(stack, name="Sencha", price="4.25", category="tea", stock=9)
    await add_to_cart(stack, token, assam["id"], 2)
    await add_to_cart(stack, token, sencha["id"], 1)
    cart = (await stack.data("orders", CART_QUERY, token=token))["cart"]
    assert (cart["subtotal"], cart["discountTotal"], cart["total"]) == (
        usd("17.25"),
        usd("4.25"),
        usd("13.00"),
    )

    done = await checkout_expecting(stack, token, "c1", cart["total"])
    assert done["userErrors"] == []
    order = done["order"]
    assert order["status"] == "PENDING_PAYMENT"
    for field in ("subtotal", "discountTotal", "total", "appliedPromotions"):
        assert order[field] == cart[field], field
    assert [(line["name"], line["lineTotal"]) for line in order["lines"]] == [
        ("Assam", usd("13.00")),
        ("Sencha", usd("4.25")),
    ]

    # Frozen: a later price change does not touch the order.
    await _set_price(stack, sencha["id"], "5.00")
    query = f"query ($id: ID!) {{ order(id: $id) {{ {ORDER_MONEY} }} }}"
    again = (await stack.data("orders", query, {"id": order["id"]}, token))["order"]
    assert again == order
    stored = await stack.sql(
        "orders",
        "SELECT code, amount FROM order_promotions WHERE order_id = CAST(:id AS uuid)",
        id=order["id"],
    )
    assert [(r.code, str(r.amount)) for r in stored] == [("TEA3FOR2", "4.25")]


async def test_a_changed_price_is_refused_and_changes_nothing(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, name="Mug", price="12.00", stock=5)
    await add_to_cart(stack, token, mug["id"], 2)
    shown = (await stack.data("orders", CART_QUERY, token=token))["cart"]["total"]
    assert shown == usd("24.00")
    await _set_price(stack, mug["id"], "12.50")

    refused = await checkout_expecting(stack, token, "c1", shown)
    assert refused == {
        "order": None,
        "userErrors": [
            {
                "code": "PRICE_CHANGED",
                "field": ["input", "expectedTotal"],
                "message": "The total changed from 24.00 USD to 25.00 USD since the cart was "
                "shown; review the cart and check out again",
            }
        ],
    }
    assert await stock_of(stack, mug["id"]) == (5, 0)
    assert await stack.sql("orders", "SELECT id FROM orders") == []
    cart = (await stack.data("orders", CART_QUERY, token=token))["cart"]
    assert (cart["totalQuantity"], cart["total"]) == (2, usd("25.00"))

    # The same key was not used up: with the new total it checks out.
    done = await checkout_expecting(stack, token, "c1", usd("25.00"))
    assert done["userErrors"] == []
    assert done["order"]["total"] == usd("25.00")
    assert await stock_of(stack, mug["id"]) == (5, 2)


async def test_a_checkout_key_is_bound_to_its_expected_total(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, name="Mug", price="12.00", stock=5)
    await add_to_cart(stack, token, mug["id"], 1)
    first = await checkout_expecting(stack, token, "c1", usd("12.00"))
    order_id = first["order"]["id"]

    # the same amount written differently is the same input
    replay = await checkout_expecting(stack, token, "c1", {"amount": "12.0", "currencyCode": "USD"})
    assert (replay["order"]["id"], replay["userErrors"]) == (order_id, [])
    assert await checkout_expecting(stack, token, "c1", usd("13.00")) == CHECKOUT_KEY_REUSED
    assert await checkout_expecting(stack, token, "c1", None) == CHECKOUT_KEY_REUSED
    assert await stock_of(stack, mug["id"]) == (5, 1)
    assert len(await stack.sql("orders", "SELECT id FROM orders")) == 1


async def test_an_expected_total_that_is_not_money_is_bad_user_input(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, stock=5)
    await add_to_cart(stack, token, mug["id"], 1)
    body = await stack.gql(
        "orders",
        "mutation { checkout(input: {idempotencyKey: \"k\", expectedTotal: "
        "{amount: \"1.001\", currencyCode: USD}}) { order { id } } }",
        token=token,
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": ["input", "expectedTotal", "amount"],
    }
    assert await stack.sql("orders", "SELECT id FROM orders") == []


async def test_orders_from_before_promotions_have_no_discount(stack: Stack) -> None:
    await SEEDERS["orders"](stack.dbs["orders"])  # writes orders as before migration 0003
    rows = await stack.sql("orders", "SELECT id::text AS id FROM orders ORDER BY created_at")
    assert rows
    query = f"query ($id: ID!) {{ order(id: $id) {{ {ORDER_MONEY} }} }}"
    for row in rows:
        order = (await stack.data("orders", query, {"id": row.id}, admin_token()))["order"]
        assert order["discountTotal"] == usd("0.00")
        assert order["appliedPromotions"] == []
        assert order["total"] == order["subtotal"]
        line_sum = sum(Decimal(line["lineTotal"]["amount"]) for line in order["lines"])
        assert Decimal(order["subtotal"]["amount"]) == line_sum
