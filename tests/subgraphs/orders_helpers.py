"""GraphQL documents and steps shared by the orders tests."""

from __future__ import annotations

from typing import Any

from subgraph_stack import Stack

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
