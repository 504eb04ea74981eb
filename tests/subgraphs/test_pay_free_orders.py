"""An order whose total is 0.00 (a 100% promotion) is paid without a charge: PAID at
once, OrderPaid published as for any payment, no payment recorded by payments."""

from __future__ import annotations

from typing import Any

import orjson
from orders_helpers import add_to_cart, checkout, pay, payment_of, stock_settles
from promotions_helpers import created, percent_off
from subgraph_stack import Stack, customer_token, make_product

OTHER_TOKEN = {
    "code": "IDEMPOTENCY_KEY_REUSED",
    "field": ["input", "idempotencyKey"],
    "message": "This idempotencyKey was used with a different paymentToken; pay with a new key",
}


async def _free_order(stack: Stack, token: str) -> tuple[str, str]:
    """A checked-out order of two products of a category under a 100% promotion."""
    item = await make_product(stack, price="8.00", category="Freebies", stock=3)
    await created(stack, "ALLFREE", percent_off("freebies", "100"))
    await add_to_cart(stack, token, item["id"], 2)
    done = await checkout(stack, token, "c1")
    assert done["userErrors"] == []
    assert done["order"]["total"] == {"amount": "0.00", "currencyCode": "USD"}
    return done["order"]["id"], item["id"]


async def _order_paid_events(stack: Stack, order_id: str) -> list[dict[str, Any]]:
    rows = await stack.sql(
        "orders",
        "SELECT body::text FROM event_outbox WHERE type = 'OrderPaid' "
        "AND body->'data'->>'orderId' = :id",
        id=order_id,
    )
    return [orjson.loads(body)["data"] for (body,) in rows]


async def test_an_order_of_zero_is_paid_without_a_charge(stack: Stack) -> None:
    token = customer_token()
    order_id, product_id = await _free_order(stack, token)

    paid = await pay(stack, token, order_id, "p1")
    assert (paid["userErrors"], paid["order"]["status"]) == ([], "PAID")
    assert paid["order"]["paidAt"] is not None
    assert await stack.charges() == []
    assert await stack.sql("payments", "SELECT id FROM payments") == []
    assert await payment_of(stack, order_id, token) is None
    [event] = await _order_paid_events(stack, order_id)
    assert (event["paymentId"], event["total"]) == (None, "0.00")
    await stock_settles(stack, product_id, (1, 0))  # inventory sold the stock on OrderPaid

    # The key's result replays; another token under it is refused; another key finds it PAID.
    assert await pay(stack, token, order_id, "p1") == paid
    assert (await pay(stack, token, order_id, "p1", payment_token="tok_amex"))["userErrors"] == [
        OTHER_TOKEN
    ]
    again = await pay(stack, token, order_id, "p2")
    assert again["userErrors"] == [
        {"code": "ORDER_NOT_PAYABLE", "field": ["input", "orderId"], "message": "Order is PAID"}
    ]
    assert len(await _order_paid_events(stack, order_id)) == 1
