"""The whole way, on the shared stack: two customers pay for A and B together (checkout
publishes OrderPlaced, payments PaymentCaptured, over NATS), and within seconds both
baskets count and `product(A).suggestions`, asked by a guest through the router, names B
with B's name from products."""

from __future__ import annotations

import uuid

from orders_helpers import add_to_cart, checkout, pay
from router_helpers import through_router
from subgraph_stack import Stack, customer_token, make_product

from tests.broker import eventually

SUGGESTIONS = """
query ($id: ID!) { product(id: $id) { name suggestions(first: 4) { id name } } }
"""


async def buy(stack: Stack, products: list[str]) -> str:
    """One customer's paid order of one unit of each of `products`; its id."""
    token = customer_token()
    for product in products:
        assert (await add_to_cart(stack, token, product))["userErrors"] == []
    placed = await checkout(stack, token, str(uuid.uuid4()))
    assert placed["userErrors"] == [], placed
    order: str = placed["order"]["id"]
    paid = await pay(stack, token, order, str(uuid.uuid4()))
    assert paid["userErrors"] == [], paid
    return order


async def test_bought_together_twice_is_suggested_through_the_router(stack: Stack) -> None:
    kettle = await make_product(stack, name="Kettle", category="Flow", stock=10)
    dripper = await make_product(stack, name="Dripper", category="Flow", stock=10)
    for _ in range(2):
        await buy(stack, [kettle["id"], dripper["id"]])

    async def counted_twice() -> bool:
        rows = await stack.sql(
            "suggestions",
            "SELECT baskets FROM co_purchases WHERE product_id = CAST(:a AS uuid) "
            "AND other_id = CAST(:b AS uuid)",
            a=kettle["id"],
            b=dripper["id"],
        )
        return [row.baskets for row in rows] == [2]

    await eventually(counted_twice)
    body = await through_router(stack, SUGGESTIONS, {"id": kettle["id"]})
    assert body == {
        "data": {
            "product": {
                "name": "Kettle",
                "suggestions": [{"id": dripper["id"], "name": "Dripper"}],
            }
        }
    }
