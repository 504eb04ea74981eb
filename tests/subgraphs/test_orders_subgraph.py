"""orders: cart, checkout, payment and the order lifecycle, against real inventory and products."""

from __future__ import annotations

import asyncio
import uuid

from orders_helpers import (
    CANCEL,
    FULFILL,
    REMOVE,
    UPDATE_LINE,
    add_to_cart,
    checkout,
    pay,
    payment_of,
    stock_of,
    stock_settles,
)
from subgraph_stack import Stack, admin_token, customer_token, make_product

from subgraphs.orders import lifecycle
from tests.broker import eventually


async def test_cart_operations_and_their_errors(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, price="12.00", stock=10)
    tea = await make_product(stack, price="3.50", stock=10)

    assert (await add_to_cart(stack, token, mug["id"], 2))["userErrors"] == []
    added = await add_to_cart(stack, token, mug["id"], 1)
    assert added["cart"]["lines"] == [{"product": {"id": mug["id"]}, "quantity": 3}]
    added = await add_to_cart(stack, token, tea["id"])
    assert added["cart"]["totalQuantity"] == 4

    unknown_id = str(uuid.uuid4())
    unknown = await add_to_cart(stack, token, unknown_id)
    assert unknown["userErrors"] == [
        {
            "code": "PRODUCT_NOT_FOUND",
            "field": ["input", "productId"],
            "message": f"No product with id {unknown_id}",
        }
    ]
    for quantity in (0, -2, 1001):
        bad = await add_to_cart(stack, token, mug["id"], quantity)
        assert [e["code"] for e in bad["userErrors"]] == ["INVALID_QUANTITY"]
    assert bad["cart"]["totalQuantity"] == 4  # unchanged

    updated = (
        await stack.data(
            "orders", UPDATE_LINE, {"input": {"productId": mug["id"], "quantity": 1}}, token
        )
    )["updateCartLine"]
    assert updated["cart"]["totalQuantity"] == 2
    too_big = (
        await stack.data(
            "orders", UPDATE_LINE, {"input": {"productId": mug["id"], "quantity": 1001}}, token
        )
    )["updateCartLine"]
    assert too_big["userErrors"][0]["code"] == "INVALID_QUANTITY"
    removed = (await stack.data("orders", REMOVE, {"input": {"productId": mug["id"]}}, token))[
        "removeFromCart"
    ]
    assert removed["cart"]["lines"] == [{"product": {"id": tea["id"]}, "quantity": 1}]
    not_there = (await stack.data("orders", REMOVE, {"input": {"productId": mug["id"]}}, token))[
        "removeFromCart"
    ]
    assert not_there["userErrors"][0]["code"] == "NOT_IN_CART"

    other = await stack.data(
        "orders", "{ cart { totalQuantity lines { quantity } } }", token=customer_token()
    )
    assert other["cart"] == {"totalQuantity": 0, "lines": []}
    anonymous = await stack.gql("orders", "{ cart { totalQuantity } }")
    assert anonymous["data"] == {"cart": None}
    assert [(e["path"], e["extensions"]["code"]) for e in anonymous["errors"]] == [
        (["cart"], "UNAUTHENTICATED")
    ]


async def test_checkout_reserves_stock_and_snapshots_prices(stack: Stack) -> None:
    user = str(uuid.uuid4())
    token = customer_token(user)
    mug = await make_product(stack, name="Mug", price="12.00", stock=5)
    tea = await make_product(stack, name="Tea", price="3.35", stock=5)
    await add_to_cart(stack, token, mug["id"], 2)
    await add_to_cart(stack, token, tea["id"], 3)

    done = await checkout(stack, token, "checkout-1")
    assert done["userErrors"] == []
    order = done["order"]
    assert order["status"] == "PENDING_PAYMENT"
    assert order["total"] == {"amount": "34.05", "currencyCode": "USD"}
    assert order["customer"] == {"id": user}
    assert order["itemCount"] == 5
    assert [
        (line["name"], line["quantity"], line["unitPrice"]["amount"], line["lineTotal"]["amount"])
        for line in order["lines"]
    ] == [("Mug", 2, "12.00", "24.00"), ("Tea", 3, "3.35", "10.05")]
    assert await stock_of(stack, mug["id"]) == (5, 2)
    assert await stock_of(stack, tea["id"]) == (5, 3)
    reservation = await stack.sql(
        "inventory", "SELECT status FROM reservations WHERE id = CAST(:id AS uuid)", id=order["id"]
    )
    assert [r.status for r in reservation] == ["ACTIVE"]
    cart = await stack.data("orders", "{ cart { totalQuantity } }", token=token)
    assert cart["cart"]["totalQuantity"] == 0

    # Same key again: the same order, nothing new reserved.
    replay = await checkout(stack, token, "checkout-1")
    assert replay["order"]["id"] == order["id"]
    assert await stock_of(stack, mug["id"]) == (5, 2)
    empty = await checkout(stack, token, "checkout-2")
    assert empty == {
        "order": None,
        "userErrors": [{"code": "CART_EMPTY", "field": None, "message": "The cart is empty"}],
    }


async def test_concurrent_retries_with_one_key_make_one_order(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, stock=10)
    await add_to_cart(stack, token, item["id"], 2)
    results = await asyncio.gather(*(checkout(stack, token, "same-key") for _ in range(5)))
    ids = {r["order"]["id"] for r in results}
    assert len(ids) == 1
    assert all(r["userErrors"] == [] for r in results)
    assert await stock_of(stack, item["id"]) == (10, 2)
    assert len(await stack.sql("orders", "SELECT id FROM orders")) == 1


async def test_insufficient_stock_is_a_user_error_and_keeps_the_cart(stack: Stack) -> None:
    token = customer_token()
    plenty = await make_product(stack, stock=10)
    scarce = await make_product(stack, stock=1)
    await add_to_cart(stack, token, plenty["id"], 2)
    await add_to_cart(stack, token, scarce["id"], 1)
    await stack.sql(
        "orders",
        "UPDATE cart_lines SET quantity = 3 WHERE product_id = CAST(:p AS uuid)",
        p=scarce["id"],
    )  # a cart from before the cart checked stock
    failed = await checkout(stack, token, "k")
    assert failed["order"] is None
    assert failed["userErrors"] == [
        {
            "code": "INSUFFICIENT_STOCK",
            "field": None,
            "message": f"Only 1 of {scarce['name']} is available; your cart has 3",
        }
    ]
    assert await stock_of(stack, plenty["id"]) == (10, 0)
    assert await stack.sql("orders", "SELECT id FROM orders") == []
    assert await stack.sql("inventory", "SELECT id FROM reservations") == []
    cart = await stack.data("orders", "{ cart { totalQuantity } }", token=token)
    assert cart["cart"]["totalQuantity"] == 5


async def test_checkout_drops_a_deleted_product_and_a_cart_left_empty_is_refused(
    stack: Stack,
) -> None:
    user = str(uuid.uuid4())
    token = customer_token(user)
    gone = await make_product(stack, stock=3)
    await add_to_cart(stack, token, gone["id"])
    deleted = await stack.data(
        "products",
        "mutation ($id: ID!) { deleteProduct(input: {id: $id}) { deletedProductId } }",
        {"id": gone["id"]},
        admin_token(),
    )
    assert deleted["deleteProduct"]["deletedProductId"] == gone["id"]
    shown = await stack.data("orders", "{ cart { lines { quantity } totalQuantity } }", token=token)
    assert shown == {"cart": {"lines": [], "totalQuantity": 0}}
    failed = await checkout(stack, token, "k")
    assert failed == {
        "order": None,
        "userErrors": [{"code": "CART_EMPTY", "field": None, "message": "The cart is empty"}],
    }
    assert await stock_of(stack, gone["id"]) == (3, 0)
    lines = "SELECT product_id FROM cart_lines WHERE user_id = CAST(:u AS uuid)"
    assert await stack.sql("orders", lines, u=user) == []


async def test_pay_then_fulfil(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, price="20.00", stock=4)
    await add_to_cart(stack, token, item["id"], 3)
    order = (await checkout(stack, token, "c1"))["order"]

    declined = await pay(stack, token, order["id"], "p1", payment_token="tok_declined")
    assert declined["order"]["status"] == "PENDING_PAYMENT"
    assert declined["userErrors"] == [
        {"code": "PAYMENT_DECLINED", "field": None, "message": "The payment was declined"}
    ]
    assert await stock_of(stack, item["id"]) == (4, 3)

    paid = await pay(stack, token, order["id"], "p2")
    assert paid["userErrors"] == []
    assert paid["order"]["status"] == "PAID"
    assert paid["order"]["paidAt"] is not None
    await stock_settles(stack, item["id"], (1, 0))  # inventory sells the units on OrderPaid
    assert await stack.charges() == [("60.00", "DECLINED"), ("60.00", "CAPTURED")]

    replay = await pay(stack, token, order["id"], "p2")
    assert replay["order"]["status"] == "PAID"
    assert replay["userErrors"] == []
    assert await stack.charges() == [("60.00", "DECLINED"), ("60.00", "CAPTURED")]
    twice = await pay(stack, token, order["id"], "p3")
    assert twice["userErrors"][0]["code"] == "ORDER_NOT_PAYABLE"

    not_admin = await stack.gql("orders", FULFILL, {"input": {"orderId": order["id"]}}, token)
    assert not_admin["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    fulfilled = (
        await stack.data("orders", FULFILL, {"input": {"orderId": order["id"]}}, admin_token())
    )["fulfillOrder"]
    assert fulfilled["order"]["status"] == "FULFILLED"
    cancel = (
        await stack.data("orders", CANCEL, {"input": {"orderId": order["id"]}}, admin_token())
    )["cancelOrder"]
    assert cancel["userErrors"][0]["code"] == "INVALID_STATUS_TRANSITION"


async def test_cancel_releases_stock_and_admin_cancel_refunds(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, stock=5)
    await add_to_cart(stack, token, item["id"], 2)
    unpaid = (await checkout(stack, token, "c1"))["order"]
    cancelled = (await stack.data("orders", CANCEL, {"input": {"orderId": unpaid["id"]}}, token))[
        "cancelOrder"
    ]
    assert cancelled["order"] == {
        "id": unpaid["id"],
        "status": "CANCELLED",
        "cancelReason": "CUSTOMER",
    }
    assert await stock_of(stack, item["id"]) == (5, 0)

    await add_to_cart(stack, token, item["id"], 1)
    paid_order = (await checkout(stack, token, "c2"))["order"]
    await pay(stack, token, paid_order["id"], "p")
    await stock_settles(stack, item["id"], (4, 0))
    customer_cancel = (
        await stack.data("orders", CANCEL, {"input": {"orderId": paid_order["id"]}}, token)
    )["cancelOrder"]
    assert customer_cancel["userErrors"][0]["code"] == "INVALID_STATUS_TRANSITION"
    admin_cancel = (
        await stack.data("orders", CANCEL, {"input": {"orderId": paid_order["id"]}}, admin_token())
    )["cancelOrder"]
    assert admin_cancel["order"]["status"] == "CANCELLED"
    assert await stock_of(stack, item["id"]) == (5, 0)  # released (restocked) at once

    async def refunded() -> bool:  # by payments, on OrderCancelled with wasPaid
        return await stack.charges() == [("10.00", "REFUNDED")]

    await eventually(refunded)
    payment = await payment_of(stack, paid_order["id"], admin_token())
    assert payment is not None and payment["status"] == "REFUNDED"


async def test_unpaid_orders_expire_and_release_their_stock(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, stock=3)
    await add_to_cart(stack, token, item["id"], 2)
    order = (await checkout(stack, token, "c"))["order"]
    assert await stock_of(stack, item["id"]) == (3, 2)
    await stack.sql(
        "orders",
        "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = CAST(:id AS uuid)",
        id=order["id"],
    )
    late = await pay(stack, token, order["id"], "p")
    assert late["userErrors"][0]["code"] == "ORDER_EXPIRED"
    assert late["order"]["status"] == "CANCELLED"
    assert await stock_of(stack, item["id"]) == (3, 0)
    assert await stack.charges() == []

    await add_to_cart(stack, token, item["id"], 1)
    second = (await checkout(stack, token, "c2"))["order"]
    await stack.sql(
        "orders",
        "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = CAST(:id AS uuid)",
        id=second["id"],
    )
    services = stack.servers["orders"].app.config["SHOPGRAPH_SPEC"].services
    assert await lifecycle.expire_orders(stack.app_db("orders"), services) == 1
    status = await stack.sql(
        "orders",
        "SELECT status, cancel_reason FROM orders WHERE id = CAST(:id AS uuid)",
        id=second["id"],
    )
    assert [(r.status, r.cancel_reason) for r in status] == [("CANCELLED", "EXPIRED")]
    assert await stock_of(stack, item["id"]) == (3, 0)


async def test_orders_are_private_to_their_customer(stack: Stack) -> None:
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    item = await make_product(stack, stock=5)
    await add_to_cart(stack, customer_token(alice), item["id"])
    order = (await checkout(stack, customer_token(alice), "a"))["order"]
    query = "query ($id: ID!) { order(id: $id) { id status } }"
    own = await stack.data("orders", query, {"id": order["id"]}, customer_token(alice))
    assert own["order"] == {"id": order["id"], "status": "PENDING_PAYMENT"}
    assert (await stack.data("orders", query, {"id": order["id"]}, admin_token()))["order"][
        "id"
    ] == order["id"]
    stranger = await stack.gql("orders", query, {"id": order["id"]}, customer_token(bob))
    assert stranger["data"] == {"order": None}
    assert stranger["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    paying = await stack.gql(
        "orders",
        'mutation ($id: ID!) { pay(input: {orderId: $id, idempotencyKey: "x", '
        'paymentToken: "tok_visa"}) { order { id } } }',
        {"id": order["id"]},
        customer_token(bob),
    )
    assert paying["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await stock_of(stack, item["id"]) == (5, 1)

    user_orders = """
    query ($reps: [_Any!]!) {
      _entities(representations: $reps) {
        ... on User { orders(first: 5) { totalCount nodes { id } } }
      }
    }
    """
    reps = {"reps": [{"__typename": "User", "id": alice}]}
    mine = await stack.data("orders", user_orders, reps, customer_token(alice))
    assert mine["_entities"] == [{"orders": {"totalCount": 1, "nodes": [{"id": order["id"]}]}}]
    theirs = await stack.gql("orders", user_orders, reps, customer_token(bob))
    assert theirs["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    listed = await stack.data("orders", "{ orders { totalCount } }", token=customer_token(bob))
    assert listed["orders"]["totalCount"] == 0
    everything = await stack.data("orders", "{ orders { totalCount } }", token=admin_token())
    assert everything["orders"]["totalCount"] == 1


async def test_order_list_pages_newest_first(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, stock=10)
    ids = []
    for n in range(5):
        await add_to_cart(stack, token, item["id"])
        ids.append((await checkout(stack, token, f"k{n}"))["order"]["id"])
    query = """
    query ($after: String) {
      orders(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } }
    }
    """
    seen, after = [], None
    while True:
        page = (await stack.data("orders", query, {"after": after}, token))["orders"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids[::-1]
