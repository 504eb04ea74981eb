"""What a cart may hold: one currency under concurrent adds, at most MAX_CART_LINES
products, and no more money than an order's NUMERIC(12, 2) columns; checkout checks
again (nothing reserved), and a promotions refusal of our own request is our bug,
not "unavailable, retry"."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import pytest
from orders_helpers import CART_QUERY, REMOVE, add_to_cart, checkout, stock_of, update_line
from subgraph_stack import CODEC, Stack, admin_token, customer_token, insert_products, make_product

from subgraphs.common.service_client import GraphQLClient, UpstreamError
from subgraphs.orders.clients import PromotionsClient, QuoteLine, UpstreamRefused
from subgraphs.orders.pricing import MAX_CART_LINES

SET_PRICE = """
mutation ($id: ID!, $amount: Decimal!, $currency: CurrencyCode!) {
  updateProduct(input: {id: $id, price: {amount: $amount, currencyCode: $currency}}) {
    userErrors { code }
  }
}
"""
MAX = "9999999999.99"
CART_FULL_LINES = (
    f"Your cart already holds {MAX_CART_LINES} different products, the most one order can; "
    "remove one first"
)


async def _price(stack: Stack, product: dict[str, Any], amount: str, currency: str) -> None:
    variables = {"id": product["id"], "amount": amount, "currency": currency}
    body = await stack.data("products", SET_PRICE, variables, admin_token())
    assert body["updateProduct"]["userErrors"] == []


async def test_concurrent_adds_in_two_currencies_leave_one_currency(stack: Stack) -> None:
    dollars = await make_product(stack, name="Mug", stock=50)
    euros = await make_product(stack, name="Tasse", stock=50)
    await _price(stack, euros, "11.00", "EUR")
    for _ in range(5):
        token = customer_token()
        results = await asyncio.gather(
            add_to_cart(stack, token, dollars["id"]), add_to_cart(stack, token, euros["id"])
        )
        codes = sorted(e["code"] for r in results for e in r["userErrors"])
        assert codes == ["CURRENCY_MISMATCH"], results
        cart = (await stack.data("orders", CART_QUERY, token=token))["cart"]
        assert len(cart["lines"]) == 1
        assert cart["total"]["currencyCode"] in ("USD", "EUR")


async def test_a_remove_racing_an_add_or_a_checkout_waits_for_the_cart_lock(
    stack: Stack,
) -> None:
    # removeFromCart took a line row, then the cart row: the opposite order to addToCart
    # and checkout, so racing them deadlocked and the remove was a 500
    tea = await make_product(stack, name="Tea", stock=500)
    for round_ in range(10):
        token = customer_token()
        await add_to_cart(stack, token, tea["id"])
        racer = (
            add_to_cart(stack, token, tea["id"])
            if round_ % 2
            else checkout(stack, token, f"race-{uuid.uuid4()}")
        )
        removed, raced = await asyncio.gather(
            stack.data("orders", REMOVE, {"input": {"productId": tea["id"]}}, token), racer
        )
        outcome = (
            [e["code"] for e in removed["removeFromCart"]["userErrors"]],
            [e["code"] for e in raced["userErrors"]],
        )
        if round_ % 2:  # either order leaves both writes done
            assert outcome == ([], [])
        else:  # the remove first empties the cart; the checkout first empties it too
            assert outcome in (([], ["CART_EMPTY"]), (["NOT_IN_CART"], []))


async def _fill_cart(stack: Stack, user: str, count: int) -> None:
    """`count` bulk products (no stock) put straight into `user`'s cart, one unit each."""
    await insert_products(stack, "BULK", "Bulk", count)
    bulk = await stack.sql("products", "SELECT id FROM products WHERE sku LIKE 'BULK-%'")
    ids = [str(row.id) for row in bulk]
    await stack.sql(
        "orders",
        "INSERT INTO carts (user_id) VALUES (CAST(:u AS uuid)) ON CONFLICT DO NOTHING",
        u=user,
    )
    await stack.sql(
        "orders",
        "INSERT INTO cart_lines (user_id, product_id, quantity) "
        "SELECT CAST(:u AS uuid), p, 1 FROM unnest(string_to_array(:ids, ',')::uuid[]) AS p",
        u=user,
        ids=",".join(ids),
    )


async def test_a_new_product_past_the_line_cap_is_cart_full(stack: Stack) -> None:
    user = str(uuid.uuid4())
    token = customer_token(user)
    mug = await make_product(stack, name="Mug", stock=50)
    assert (await add_to_cart(stack, token, mug["id"]))["userErrors"] == []
    await _fill_cart(stack, user, MAX_CART_LINES - 1)
    plate = await make_product(stack, name="Plate", stock=50)
    refused = await add_to_cart(stack, token, plate["id"])
    assert refused["userErrors"] == [
        {"code": "CART_FULL", "field": ["input", "productId"], "message": CART_FULL_LINES}
    ]
    assert refused["cart"]["totalQuantity"] == MAX_CART_LINES
    more = await add_to_cart(stack, token, mug["id"], 2)  # a line it has takes more units
    assert more["userErrors"] == []
    assert more["cart"]["totalQuantity"] == MAX_CART_LINES + 2


@pytest.mark.parametrize("lines", [MAX_CART_LINES + 1, 1001])
async def test_a_cart_past_the_line_cap_is_cart_full_when_shown_or_checked_out(
    stack: Stack, lines: int
) -> None:
    user = str(uuid.uuid4())  # a cart filled before the cap existed
    await _fill_cart(stack, user, lines)
    message = (
        f"The cart holds {lines} products, more than the {MAX_CART_LINES} one order can; "
        "remove some"
    )
    shown = await stack.gql("orders", CART_QUERY, token=customer_token(user))
    assert shown["data"] == {"cart": None}
    assert [(e["message"], e["extensions"]["code"]) for e in shown["errors"]] == [
        (message, "CART_FULL")
    ]
    refused = await checkout(stack, customer_token(user), "key-1")
    assert refused == {
        "order": None,
        "userErrors": [{"code": "CART_FULL", "field": None, "message": message}],
    }


def _too_costly(quantity: int, name: str, cart_total: str) -> dict[str, Any]:
    message = (
        f"{quantity} of {name} would bring your cart to {cart_total} USD, more than the "
        f"{MAX} USD one order can hold"
    )
    return {"code": "INVALID_QUANTITY", "field": ["input", "quantity"], "message": message}


async def test_a_cart_never_holds_more_money_than_an_order(stack: Stack) -> None:
    token = customer_token()
    yacht = await make_product(stack, name="Yacht", price=MAX, stock=5)
    two = await add_to_cart(stack, token, yacht["id"], 2)
    assert two["userErrors"] == [_too_costly(2, "Yacht", "19999999999.98")]
    assert two["cart"]["lines"] == []
    assert (await add_to_cart(stack, token, yacht["id"]))["userErrors"] == []
    pin = await make_product(stack, name="Pin", price="0.01", stock=5)
    other = await add_to_cart(stack, token, pin["id"])
    assert other["userErrors"] == [_too_costly(1, "Pin", "10000000000.00")]
    updated = await update_line(stack, token, yacht["id"], 3)
    assert updated["userErrors"] == [_too_costly(3, "Yacht", "29999999999.97")]
    cart = (await stack.data("orders", CART_QUERY, token=token))["cart"]
    assert [(ln["product"]["id"], ln["quantity"]) for ln in cart["lines"]] == [(yacht["id"], 1)]
    assert cart["total"] == {"amount": MAX, "currencyCode": "USD"}


async def test_checkout_refuses_a_cart_a_price_rise_took_past_an_order(stack: Stack) -> None:
    token = customer_token()
    half = await make_product(stack, name="Half", price="5000000000.00", stock=5)
    rest = await make_product(stack, name="Rest", price="4999999999.99", stock=5)
    for product in (half, rest):
        assert (await add_to_cart(stack, token, product["id"]))["userErrors"] == []
    await _price(stack, rest, "5000000000.00", "USD")
    message = (
        "The cart comes to 10000000000.00 USD, more than the 9999999999.99 USD one order can "
        "hold; lower a quantity"
    )
    shown = await stack.gql("orders", CART_QUERY, token=token)
    assert shown["data"] == {"cart": None}
    assert [(e["message"], e["extensions"]["code"]) for e in shown["errors"]] == [
        (message, "CART_FULL")
    ]
    refused = await checkout(stack, token, "big-1")
    assert refused == {
        "order": None,
        "userErrors": [{"code": "CART_FULL", "field": None, "message": message}],
    }
    assert await stack.sql("orders", "SELECT id FROM orders") == []
    assert [await stock_of(stack, p["id"]) for p in (half, rest)] == [(5, 0), (5, 0)]
    assert await stack.sql("inventory", "SELECT id FROM reservations") == []


def _promotions(stack: Stack, url: str | None = None) -> PromotionsClient:
    target = url or stack.servers["promotions"].graphql_url
    return PromotionsClient(GraphQLClient(target, CODEC, 5, "orders"))


async def test_a_quote_promotions_refuses_is_our_bug_not_an_outage(stack: Stack) -> None:
    # past promotions' bounds (1000 units a line): BAD_USER_INPUT, which retrying cannot fix
    line = QuoteLine(str(uuid.uuid4()), "tea", Decimal("1.00"), 5000)
    client = _promotions(stack)
    try:
        with pytest.raises(UpstreamRefused) as refused:
            await client.quote([line], "USD")
        assert not isinstance(refused.value, UpstreamError)
        assert "quantity must be 1-1000" in str(refused.value)
    finally:
        await client.client.close()


async def test_promotions_unreachable_is_still_an_outage(stack: Stack) -> None:
    line = QuoteLine(str(uuid.uuid4()), "tea", Decimal("1.00"), 1)
    client = _promotions(stack, "http://127.0.0.1:9/graphql")  # the discard port: refused
    with pytest.raises(UpstreamError) as failed:
        await client.quote([line], "USD")
    assert type(failed.value) is UpstreamError
    await client.client.close()
