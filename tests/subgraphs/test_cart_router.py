"""The cart through the router: `Query.cart` is nullable, so a cart that cannot be shown
(a guest's, or one that cannot be priced now) is null with its error while the query's
other root fields still answer."""

from __future__ import annotations

from orders_helpers import add_to_cart
from router_helpers import CUSTOMER, error_list, through_router
from subgraph_stack import Stack, admin_token, customer_token, make_product

QUERY = "{ cart { totalQuantity total { amount } } products(first: 5) { totalCount } }"


async def test_a_guest_has_no_cart_and_still_sees_the_catalogue(stack: Stack) -> None:
    await make_product(stack, stock=1)
    body = await through_router(stack, QUERY)
    assert body["data"] == {"cart": None, "products": {"totalCount": 1}}
    assert error_list(body) == [
        (["cart"], "Unauthorized field or type", "UNAUTHORIZED_FIELD_OR_TYPE")
    ]


async def test_a_customer_sees_the_cart_priced(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, price="12.00", stock=5)
    await add_to_cart(stack, token, mug["id"], 2)
    body = await through_router(stack, QUERY, token=token, access=CUSTOMER)
    assert body == {
        "data": {
            "cart": {"totalQuantity": 2, "total": {"amount": "24.00"}},
            "products": {"totalCount": 1},
        }
    }


async def test_a_cart_that_cannot_be_priced_is_null_and_the_rest_answers(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, price="12.00", stock=5)
    tasse = await make_product(stack, stock=5)
    await add_to_cart(stack, token, mug["id"])
    await add_to_cart(stack, token, tasse["id"])
    repriced = await stack.data(
        "products",
        'mutation ($id: ID!) { updateProduct(input: {id: $id, price: {amount: "11.00", '
        "currencyCode: EUR}}) { userErrors { code } } }",
        {"id": tasse["id"]},
        admin_token(),
    )
    assert repriced["updateProduct"]["userErrors"] == []
    body = await through_router(stack, QUERY, token=token, access=CUSTOMER)
    assert body["data"] == {"cart": None, "products": {"totalCount": 2}}
    assert error_list(body) == [
        (
            ["cart"],
            "The cart mixes currencies (EUR, USD); remove the products in the other currency",
            "CURRENCY_MISMATCH",
        )
    ]
