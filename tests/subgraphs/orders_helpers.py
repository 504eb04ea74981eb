"""GraphQL documents and steps shared by the orders tests."""

from __future__ import annotations

from typing import Any

from subgraph_stack import Stack

from subgraphs.promotions.seed import seed_promotions
from tests.broker import eventually

CART_FIELDS = (
    "cart { lines { product { id } quantity } totalQuantity } userErrors { code field message }"
)
ADD = f"""
mutation Add($input: AddToCartInput!) {{ addToCart(input: $input) {{ {CART_FIELDS} }} }}
"""
UPDATE_LINE = f"""
mutation Update($input: UpdateCartLineInput!) {{
  updateCartLine(input: $input) {{ {CART_FIELDS} }}
}}
"""
REMOVE = f"""
mutation Remove($input: RemoveFromCartInput!) {{
  removeFromCart(input: $input) {{ {CART_FIELDS} }}
}}
"""
ORDER_FIELDS = """
  id status total { amount currencyCode } subtotal { amount }
  lines { lineNumber product { id } sku name quantity unitPrice { amount } lineTotal { amount } }
  customer { id } itemCount
"""
CHECKOUT = f"""
mutation Checkout($input: CheckoutInput!) {{
  checkout(input: $input) {{ order {{ {ORDER_FIELDS} }} userErrors {{ code field message }} }}
}}
"""
PAY = """
mutation Pay($input: PayInput!) {
  pay(input: $input) { order { id status paidAt } userErrors { code field message } }
}
"""
CANCEL = """
mutation Cancel($input: OrderIdInput!) {
  cancelOrder(input: $input) { order { id status cancelReason } userErrors { code field message } }
}
"""
FULFILL = """
mutation Fulfill($input: OrderIdInput!) {
  fulfillOrder(input: $input) { order { id status fulfilledAt } userErrors { code field message } }
}
"""


async def add_to_cart(
    stack: Stack, token: str, product_id: str, quantity: int = 1
) -> dict[str, Any]:
    body = await stack.data(
        "orders", ADD, {"input": {"productId": product_id, "quantity": quantity}}, token
    )
    payload: dict[str, Any] = body["addToCart"]
    return payload


async def checkout(stack: Stack, token: str, key: str) -> dict[str, Any]:
    body = await stack.data("orders", CHECKOUT, {"input": {"idempotencyKey": key}}, token)
    payload: dict[str, Any] = body["checkout"]
    return payload


async def pay(
    stack: Stack, token: str, order_id: str, key: str, payment_token: str = "tok_visa"
) -> dict[str, Any]:
    body = await stack.data(
        "orders",
        PAY,
        {"input": {"orderId": order_id, "idempotencyKey": key, "paymentToken": payment_token}},
        token,
    )
    payload: dict[str, Any] = body["pay"]
    return payload


async def stock_of(stack: Stack, product_id: str) -> tuple[int, int]:
    rows = await stack.sql(
        "inventory",
        "SELECT on_hand, reserved FROM stock_items WHERE product_id = CAST(:p AS uuid)",
        p=product_id,
    )
    return (rows[0].on_hand, rows[0].reserved) if rows else (0, 0)


async def stock_settles(stack: Stack, product_id: str, expected: tuple[int, int]) -> None:
    """Wait until the product's (on_hand, reserved) is `expected`: a paid order's units are
    sold by inventory when OrderPaid reaches it, so after `pay` the stock moves a moment later.
    """

    async def reached() -> bool:
        return await stock_of(stack, product_id) == expected

    try:
        await eventually(reached)
    except AssertionError:
        assert await stock_of(stack, product_id) == expected  # shows what it is instead


async def order_status(stack: Stack, order_id: str) -> tuple[str, str | None]:
    """The order's (status, cancel_reason) as stored."""
    [row] = await stack.sql(
        "orders",
        "SELECT status, cancel_reason FROM orders WHERE id = CAST(:id AS uuid)",
        id=order_id,
    )
    return (row.status, row.cancel_reason)


ORDER_PAYMENT = """
query ($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Order { payment { id status gateway amount { amount currencyCode } } }
  }
}
"""


async def payment_of(stack: Stack, order_id: str, token: str) -> dict[str, Any] | None:
    """The order's payment as the payments subgraph shows it (Order.payment), or None."""
    reps = [{"__typename": "Order", "id": order_id}]
    body = await stack.data("payments", ORDER_PAYMENT, {"reps": reps}, token)
    payment: dict[str, Any] | None = body["_entities"][0]["payment"]
    return payment


MONEY = "amount currencyCode"
CART_MONEY = f"""
lines {{ product {{ id }} quantity unitPrice {{ {MONEY} }} lineTotal {{ {MONEY} }} }}
totalQuantity subtotal {{ {MONEY} }} discountTotal {{ {MONEY} }} total {{ {MONEY} }}
appliedPromotions {{ code description amount {{ {MONEY} }} }}
"""
CART_QUERY = f"{{ cart {{ {CART_MONEY} }} }}"
ORDER_MONEY = f"""
id status subtotal {{ {MONEY} }} discountTotal {{ {MONEY} }} total {{ {MONEY} }}
appliedPromotions {{ code description amount {{ {MONEY} }} }}
lines {{ product {{ id }} name quantity unitPrice {{ {MONEY} }} lineTotal {{ {MONEY} }} }}
"""
CHECKOUT_MONEY = f"""
mutation Checkout($input: CheckoutInput!) {{
  checkout(input: $input) {{ order {{ {ORDER_MONEY} }} userErrors {{ code field message }} }}
}}
"""


def usd(amount: str) -> dict[str, str]:
    """A Money value in US dollars, as the API prints it."""
    return {"amount": amount, "currencyCode": "USD"}


async def update_line(stack: Stack, token: str, product_id: str, quantity: int) -> dict[str, Any]:
    """updateCartLine's payload (cart quantities and userErrors)."""
    body = await stack.data(
        "orders", UPDATE_LINE, {"input": {"productId": product_id, "quantity": quantity}}, token
    )
    payload: dict[str, Any] = body["updateCartLine"]
    return payload


async def checkout_expecting(
    stack: Stack, token: str, key: str, total: dict[str, str] | None
) -> dict[str, Any]:
    """checkout's payload with the order's money, sending `total` as expectedTotal."""
    variables = {"input": {"idempotencyKey": key, "expectedTotal": total}}
    payload: dict[str, Any] = (await stack.data("orders", CHECKOUT_MONEY, variables, token))[
        "checkout"
    ]
    return payload


# checkout's answer to a key sent again with different expected values
CHECKOUT_KEY_REUSED = {
    "order": None,
    "userErrors": [
        {
            "code": "IDEMPOTENCY_KEY_REUSED",
            "field": ["input", "idempotencyKey"],
            "message": "This idempotencyKey was used for a checkout with a different "
            "expectedTotal or expectedPriceDigest; use a new key",
        }
    ],
}

TEA3FOR2_DESCRIPTION = "Tea: buy 2, get the cheapest of every 3 free"


async def seed_tea_promotion(stack: Stack) -> None:
    """The demo shop's promotions (TEA3FOR2 active on category "tea"), by promotions' seeder."""
    await seed_promotions(stack.dbs["promotions"])
