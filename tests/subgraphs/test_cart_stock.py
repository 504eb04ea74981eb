"""The cart refuses more than is available, naming the product; checkout checks again."""

from __future__ import annotations

from typing import Any

from orders_helpers import REMOVE, add_to_cart, checkout, stock_of, update_line
from subgraph_stack import Stack, admin_token, customer_token, make_product, set_stock

BEANS = "Kenya AA Beans 250g"


def _not_in_cart(name: str) -> dict[str, Any]:
    message = f"{name} is not in the cart"
    return {"code": "NOT_IN_CART", "field": ["input", "productId"], "message": message}


async def test_adding_more_than_is_available_is_refused_with_the_products_name(
    stack: Stack,
) -> None:
    token = customer_token()
    beans = await make_product(stack, name=BEANS, stock=3)
    assert (await add_to_cart(stack, token, beans["id"], 2))["userErrors"] == []
    refused = await add_to_cart(stack, token, beans["id"], 2)
    assert refused["userErrors"] == [
        {
            "code": "INSUFFICIENT_STOCK",
            "field": ["input", "quantity"],
            "message": f"Only 3 of {BEANS} are available; your cart already has 2",
        }
    ]
    assert refused["cart"]["lines"] == [{"product": {"id": beans["id"]}, "quantity": 2}]
    assert (await add_to_cart(stack, token, beans["id"], 1))["cart"]["totalQuantity"] == 3

    first = await add_to_cart(stack, customer_token(), beans["id"], 4)
    assert first["userErrors"][0]["message"] == f"Only 3 of {BEANS} are available"
    sold_out = await make_product(stack, name="Gone Tea")
    empty = await add_to_cart(stack, customer_token(), sold_out["id"])
    assert empty["userErrors"] == [
        {
            "code": "INSUFFICIENT_STOCK",
            "field": ["input", "quantity"],
            "message": "Gone Tea is out of stock",
        }
    ]
    assert empty["cart"] == {"lines": [], "totalQuantity": 0}


async def test_update_refuses_over_stock_and_zero_removes_the_line(stack: Stack) -> None:
    token = customer_token()
    beans = await make_product(stack, name=BEANS, stock=3)
    mug = await make_product(stack, name="Mug", stock=5)
    await add_to_cart(stack, token, beans["id"], 1)
    await add_to_cart(stack, token, mug["id"], 1)

    too_many = await update_line(stack, token, beans["id"], 4)
    assert too_many["userErrors"] == [
        {
            "code": "INSUFFICIENT_STOCK",
            "field": ["input", "quantity"],
            "message": f"Only 3 of {BEANS} are available",
        }
    ]
    assert (await update_line(stack, token, beans["id"], 3))["cart"]["totalQuantity"] == 4
    negative = await update_line(stack, token, beans["id"], -1)
    assert negative["userErrors"] == [
        {
            "code": "INVALID_QUANTITY",
            "field": ["input", "quantity"],
            "message": "quantity must be between 0 and 1000",
        }
    ]
    removed = await update_line(stack, token, beans["id"], 0)
    assert removed["userErrors"] == []
    assert removed["cart"]["lines"] == [{"product": {"id": mug["id"]}, "quantity": 1}]
    again = await update_line(stack, token, beans["id"], 0)
    assert again["userErrors"] == [_not_in_cart(BEANS)]


async def test_checkout_names_the_product_whose_stock_went(stack: Stack) -> None:
    token = customer_token()
    plenty = await make_product(stack, name="Mug", stock=10)
    beans = await make_product(stack, name=BEANS, stock=3)
    await add_to_cart(stack, token, plenty["id"], 2)
    await add_to_cart(stack, token, beans["id"], 3)
    await set_stock(stack, beans["id"], -2)  # sold elsewhere meanwhile

    failed = await checkout(stack, token, "k")
    assert failed == {
        "order": None,
        "userErrors": [
            {
                "code": "INSUFFICIENT_STOCK",
                # the cart is not checkout's input: no input path
                "field": None,
                "message": f"Only 1 of {BEANS} is available; your cart has 3",
            }
        ],
    }
    assert await stock_of(stack, plenty["id"]) == (10, 0)
    assert await stack.sql("inventory", "SELECT id FROM reservations") == []
    cart = await stack.data("orders", "{ cart { totalQuantity } }", token=token)
    assert cart["cart"]["totalQuantity"] == 5


async def test_not_in_cart_names_the_product_and_its_id_only_once_it_is_gone(
    stack: Stack,
) -> None:
    token = customer_token()
    beans = await make_product(stack, name=BEANS, stock=3)
    removed = await stack.data("orders", REMOVE, {"input": {"productId": beans["id"]}}, token)
    assert removed["removeFromCart"]["userErrors"] == [_not_in_cart(BEANS)]
    assert (await update_line(stack, token, beans["id"], 2))["userErrors"] == [_not_in_cart(BEANS)]
    deleted = await stack.data(
        "products",
        "mutation ($id: ID!) { deleteProduct(input: {id: $id}) { deletedProductId } }",
        {"id": beans["id"]},
        admin_token(),
    )
    assert deleted["deleteProduct"]["deletedProductId"] == beans["id"]
    gone = await update_line(stack, token, beans["id"], 0)
    assert gone["userErrors"] == [_not_in_cart(f"Product {beans['id']}")]
