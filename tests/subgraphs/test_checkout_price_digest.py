"""Cart.priceDigest and CheckoutInput.expectedPriceDigest: checkout refuses a cart whose
prices or discounts changed since it was shown, even when its total did not."""

from __future__ import annotations

import re
from typing import Any

from orders_helpers import (
    CHECKOUT_KEY_REUSED,
    CHECKOUT_MONEY,
    add_to_cart,
    seed_tea_promotion,
    stock_of,
    update_line,
    usd,
)
from subgraph_stack import Stack, admin_token, customer_token, make_product

CART = "{ cart { subtotal { amount } discountTotal { amount } total { amount } priceDigest } }"
UPDATE_PRICE = """
mutation ($id: ID!, $amount: Decimal!) {
  updateProduct(input: {id: $id, price: {amount: $amount, currencyCode: USD}}) {
    userErrors { code }
  }
}
"""
DIGEST_CHANGED = {
    "code": "PRICE_CHANGED",
    "field": ["input", "expectedPriceDigest"],
    "message": "The cart's prices or discounts changed since it was shown (now: subtotal "
    "11.60 USD, discounts 1.60 USD, total 10.00 USD); review the cart and check out again",
}


async def _cart(stack: Stack, token: str) -> dict[str, Any]:
    cart: dict[str, Any] = (await stack.data("orders", CART, token=token))["cart"]
    return cart


async def _checkout(
    stack: Stack, token: str, key: str, total: str | None, digest: str | None
) -> dict[str, Any]:
    expected = {"expectedTotal": usd(total) if total else None, "expectedPriceDigest": digest}
    variables = {"input": {"idempotencyKey": key, **expected}}
    payload: dict[str, Any] = (await stack.data("orders", CHECKOUT_MONEY, variables, token))[
        "checkout"
    ]
    return payload


async def _three_teas(stack: Stack, token: str) -> str:
    """A cart of three teas under TEA3FOR2 (12.00 - 2.00 = 10.00); the cheapest one's id."""
    await seed_tea_promotion(stack)
    for name in ("Assam", "Darjeeling"):
        tea = await make_product(stack, name=name, price="5.00", category="tea", stock=9)
        await add_to_cart(stack, token, tea["id"])
    sencha = await make_product(stack, name="Sencha", price="2.00", category="tea", stock=9)
    await add_to_cart(stack, token, sencha["id"])
    sencha_id: str = sencha["id"]
    return sencha_id


async def _set_price(stack: Stack, product_id: str, amount: str) -> None:
    variables = {"id": product_id, "amount": amount}
    body = await stack.data("products", UPDATE_PRICE, variables, admin_token())
    assert body["updateProduct"]["userErrors"] == []


async def test_a_price_down_by_as_much_as_its_discount_is_price_changed(stack: Stack) -> None:
    token = customer_token()
    sencha = await _three_teas(stack, token)
    shown = await _cart(stack, token)
    assert [shown[f]["amount"] for f in ("subtotal", "discountTotal", "total")] == [
        "12.00",
        "2.00",
        "10.00",
    ]
    await _set_price(stack, sencha, "1.60")  # the free tea is 0.40 cheaper: so is its discount

    refused = await _checkout(stack, token, "c1", "10.00", shown["priceDigest"])
    assert refused == {"order": None, "userErrors": [DIGEST_CHANGED]}
    assert await stock_of(stack, sencha) == (9, 0)
    assert await stack.sql("orders", "SELECT id FROM orders") == []

    now = await _cart(stack, token)
    assert now["total"] == shown["total"]
    assert now["priceDigest"] != shown["priceDigest"]
    # the key was not used: with what the cart shows now it checks out
    done = await _checkout(stack, token, "c1", "10.00", now["priceDigest"])
    assert done["userErrors"] == []
    order = done["order"]
    assert (order["subtotal"], order["discountTotal"], order["total"]) == (
        usd("11.60"),
        usd("1.60"),
        usd("10.00"),
    )


async def test_a_changed_total_and_digest_are_each_price_changed(stack: Stack) -> None:
    token = customer_token()
    sencha = await _three_teas(stack, token)
    shown = await _cart(stack, token)
    await _set_price(stack, sencha, "1.60")
    refused = await _checkout(stack, token, "c1", "10.40", shown["priceDigest"])
    assert refused["userErrors"] == [
        {
            "code": "PRICE_CHANGED",
            "field": ["input", "expectedTotal"],
            "message": "The total changed from 10.40 USD to 10.00 USD since the cart was "
            "shown; review the cart and check out again",
        },
        DIGEST_CHANGED,
    ]
    # a digest alone, without expectedTotal, is checked too
    alone = await _checkout(stack, token, "c1", None, shown["priceDigest"])
    assert alone == {"order": None, "userErrors": [DIGEST_CHANGED]}


async def test_the_digest_is_opaque_stable_and_follows_the_lines(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, name="Mug", price="12.00", stock=5)
    await add_to_cart(stack, token, mug["id"], 1)
    first = (await _cart(stack, token))["priceDigest"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first)  # base64url of a SHA-256, unpadded
    assert (await _cart(stack, token))["priceDigest"] == first
    # the same lines in another customer's cart digest alike: it covers what is shown only
    other = customer_token()
    await add_to_cart(stack, other, mug["id"], 1)
    assert (await _cart(stack, other))["priceDigest"] == first
    await update_line(stack, token, mug["id"], 2)
    assert (await _cart(stack, token))["priceDigest"] != first


async def test_a_checkout_key_is_bound_to_its_expected_digest(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, name="Mug", price="12.00", stock=5)
    await add_to_cart(stack, token, mug["id"], 1)
    digest = (await _cart(stack, token))["priceDigest"]
    first = await _checkout(stack, token, "c1", "12.00", digest)
    assert first["userErrors"] == []

    replay = await _checkout(stack, token, "c1", "12.00", digest)
    assert (replay["order"]["id"], replay["userErrors"]) == (first["order"]["id"], [])
    for total, other in (("12.00", None), ("12.00", "another-digest"), (None, digest)):
        assert await _checkout(stack, token, "c1", total, other) == CHECKOUT_KEY_REUSED
    assert await stock_of(stack, mug["id"]) == (5, 1)
