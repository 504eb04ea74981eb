"""A storefront, walked through the router of `shopgraph dev` as a frontend would use it.

Search ranked by relevance, a category by slug, paging forward and back, a cart with
totals and the seeded buy-two-get-one-free promotion, an over-stock add refused,
checkout and payment, the order's totals equal to the cart's, and the stock fields
seen by a guest, a customer and an admin. One fresh customer per run, so the shared
stack's demo accounts keep their data.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.server.dev_stack import DevStack, login, running_stack

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"

SEARCH = """
query Search($text: String!) {
  products(first: 5, filter: {search: $text}, sort: RELEVANCE) {
    totalCount
    nodes { name slug category { slug } }
  }
}
"""

CATEGORY_PAGE = """
query Category($slug: String!, $first: Int, $after: String, $last: Int, $before: String) {
  category(slug: $slug) {
    slug
    name
    productCount
    products(first: $first, after: $after, last: $last, before: $before, sort: NAME_ASC) {
      nodes { name }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""

STOCK = """
query Stock($slug: String!) {
  product(slug: $slug) { name stock { available onHand reserved } }
}
"""

MONEY = "{ amount currencyCode }"
CART_FIELDS = f"""
  lines {{ product {{ name }} quantity unitPrice {MONEY} lineTotal {MONEY} }}
  subtotal {MONEY} discountTotal {MONEY} total {MONEY}
  appliedPromotions {{ code description amount {MONEY} }}
"""
ORDER_FIELDS = CART_FIELDS.replace("product { name }", "name")
ADD = f"""
mutation Add($id: ID!, $quantity: Int!) {{
  addToCart(input: {{productId: $id, quantity: $quantity}}) {{
    cart {{ {CART_FIELDS} priceDigest }}
    userErrors {{ code field message }}
  }}
}}
"""
CART = f"query {{ cart {{ {CART_FIELDS} priceDigest }} }}"
CHECKOUT = f"""
mutation Checkout($key: String!, $expected: MoneyInput, $digest: String) {{
  checkout(input: {{idempotencyKey: $key, expectedTotal: $expected,
                   expectedPriceDigest: $digest}}) {{
    order {{ id status {ORDER_FIELDS} }}
    userErrors {{ code field message }}
  }}
}}
"""
PAY = """
mutation Pay($order: ID!, $key: String!) {
  pay(input: {orderId: $order, idempotencyKey: $key, paymentToken: "tok_visa"}) {
    order { id status total { amount currencyCode } }
    userErrors { code field message }
  }
}
"""
REGISTER = """
mutation Register($email: String!) {
  register(input: {email: $email, password: "a long storefront passphrase 42", name: "Walker"}) {
    token
    userErrors { code message }
  }
}
"""


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> DevStack:
    return running_stack(request)


@pytest.fixture(scope="module")
def customer(stack: DevStack) -> str:
    body = ok(stack.graphql(REGISTER, {"email": f"walker-{uuid.uuid4().hex[:8]}@example.com"}))
    assert body["register"]["userErrors"] == []
    return str(body["register"]["token"])


def ok(body: dict[str, Any]) -> dict[str, Any]:
    """The data of an answer that must carry no errors."""
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


def test_a_guest_is_no_one_rather_than_an_error(stack: DevStack) -> None:
    assert stack.graphql("{ me { id } }") == {"data": {"me": None}}


def test_search_is_ranked_by_relevance_over_name_and_description(stack: DevStack) -> None:
    names = [n["name"] for n in ok(stack.graphql(SEARCH, {"text": "earl"}))["products"]["nodes"]]
    assert names[0] == "Earl Grey Supreme 100g"
    assert "Jasmine Pearls 50g" not in names
    upper = ok(stack.graphql(SEARCH, {"text": "EARL grey"}))["products"]["nodes"]
    assert upper[0]["name"] == "Earl Grey Supreme 100g"
    assert upper[0]["category"] == {"slug": "tea"}


def test_a_category_pages_forward_and_back(stack: DevStack) -> None:
    first = ok(stack.graphql(CATEGORY_PAGE, {"slug": "tea", "first": 4}))["category"]
    assert (first["slug"], first["name"], first["productCount"]) == ("tea", "Tea", 9)
    page1 = first["products"]
    assert page1["pageInfo"]["hasPreviousPage"] is False
    assert page1["pageInfo"]["hasNextPage"] is True
    after = page1["pageInfo"]["endCursor"]
    page2 = ok(stack.graphql(CATEGORY_PAGE, {"slug": "tea", "first": 4, "after": after}))
    page2 = page2["category"]["products"]
    assert page2["pageInfo"]["hasPreviousPage"] is True
    back = ok(stack.graphql(
        CATEGORY_PAGE, {"slug": "tea", "last": 4, "before": page2["pageInfo"]["startCursor"]}
    ))["category"]["products"]
    assert back["nodes"] == page1["nodes"]
    assert back["pageInfo"]["hasPreviousPage"] is False
    assert back["pageInfo"]["hasNextPage"] is True
    names = [n["name"] for n in page1["nodes"] + page2["nodes"]]
    assert names == sorted(names) and len(set(names)) == 8


def _stock(stack: DevStack, token: str | None) -> dict[str, Any]:
    return stack.graphql(STOCK, {"slug": "aeropress-go"}, token=token)


def _unauthorized_paths(body: dict[str, Any]) -> list[list[Any]]:
    return sorted(
        e["path"] for e in body.get("errors", []) if e["extensions"]["code"] == UNAUTHORIZED
    )


@pytest.mark.parametrize("who", ["guest", "customer"])
def test_stock_counts_are_for_staff_only(stack: DevStack, customer: str, who: str) -> None:
    body = _stock(stack, customer if who == "customer" else None)
    stock = body["data"]["product"]["stock"]
    assert isinstance(stock["available"], int)
    assert (stock["onHand"], stock["reserved"]) == (None, None)
    assert _unauthorized_paths(body) == [
        ["product", "stock", "onHand"], ["product", "stock", "reserved"]
    ]
    assert len(body["errors"]) == 2


def test_an_admin_sees_the_stock_counts(stack: DevStack) -> None:
    admin = login(stack, "admin@shopgraph.dev", "admin-password")
    stock = ok(_stock(stack, admin))["product"]["stock"]
    assert stock["available"] == stock["onHand"] - stock["reserved"]


def _product_id(stack: DevStack, slug: str) -> str:
    body = ok(stack.graphql("query($s: String!) { product(slug: $s) { id } }", {"s": slug}))
    return str(body["product"]["id"])


def test_cart_checkout_and_pay(stack: DevStack, customer: str) -> None:
    earl = _product_id(stack, "earl-grey-supreme-100g")
    chamomile = _product_id(stack, "chamomile-blossoms-50g")
    ok(stack.graphql(ADD, {"id": earl, "quantity": 2}, token=customer))
    added = ok(stack.graphql(ADD, {"id": chamomile, "quantity": 1}, token=customer))
    cart = added["addToCart"]["cart"]
    assert added["addToCart"]["userErrors"] == []
    assert [(line["product"]["name"], line["lineTotal"]) for line in cart["lines"]] == [
        ("Earl Grey Supreme 100g", money("21.80")), ("Chamomile Blossoms 50g", money("8.40"))
    ]
    assert cart["subtotal"] == money("30.20")
    assert [(p["code"], p["amount"]) for p in cart["appliedPromotions"]] == [
        ("TEA3FOR2", money("8.40"))
    ]
    assert cart["discountTotal"] == money("8.40")
    assert cart["total"] == money("21.80")
    assert ok(stack.graphql(CART, token=customer))["cart"] == cart

    over = _over_stock_add(stack, customer)
    assert ok(stack.graphql(CART, token=customer))["cart"] == cart, "a refused add changes nothing"
    assert over["cart"] is None or over["cart"] == cart

    placed = ok(stack.graphql(
        CHECKOUT,
        {"key": uuid.uuid4().hex, "expected": cart["total"], "digest": cart["priceDigest"]},
        token=customer,
    ))["checkout"]
    assert placed["userErrors"] == []
    order = placed["order"]
    assert order["status"] == "PENDING_PAYMENT"
    for name in ("subtotal", "discountTotal", "total", "appliedPromotions"):
        assert order[name] == cart[name], name
    assert [(line["name"], line["lineTotal"]) for line in order["lines"]] == [
        (line["product"]["name"], line["lineTotal"]) for line in cart["lines"]
    ]
    paid = ok(stack.graphql(PAY, {"order": order["id"], "key": uuid.uuid4().hex}, token=customer))
    assert paid["pay"]["userErrors"] == []
    assert paid["pay"]["order"]["status"] == "PAID"
    assert paid["pay"]["order"]["total"] == cart["total"]
    assert Decimal(cart["total"]["amount"]) == Decimal("30.20") - Decimal("8.40")


def _over_stock_add(stack: DevStack, customer: str) -> dict[str, Any]:
    """Asks for one more AeroPress than is available; returns the refusing payload."""
    admin = login(stack, "admin@shopgraph.dev", "admin-password")
    available = ok(_stock(stack, admin))["product"]["stock"]["available"]
    aeropress = _product_id(stack, "aeropress-go")
    refused = ok(stack.graphql(ADD, {"id": aeropress, "quantity": available + 1}, token=customer))
    errors = refused["addToCart"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INSUFFICIENT_STOCK", ["input", "quantity"])
    ]
    assert "AeroPress Go" in errors[0]["message"]
    payload: dict[str, Any] = refused["addToCart"]
    return payload
