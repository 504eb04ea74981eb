"""orderStatusChanged and stockChanged over graphql-transport-ws, straight to the orders and
inventory subgraphs (real PostgreSQL, real nats-server): who may watch, what each event
carries, and that a change reaches the watcher through NATS."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from live_helpers import (
    ORDER_WATCH,
    PUBLIC_STOCK_WATCH,
    STOCK_WATCH,
    completed,
    live_socket,
    next_payload,
    start,
)
from orders_helpers import CANCEL, FULFILL, add_to_cart, checkout, pay
from subgraph_stack import Stack, admin_token, customer_token, make_product, set_stock


async def placed_order(stack: Stack, token: str, quantity: int = 2) -> tuple[str, str]:
    """A new PENDING_PAYMENT order of `quantity` units of a new product: (order, product)."""
    product = await make_product(stack, name="Live tea", stock=10)
    await add_to_cart(stack, token, product["id"], quantity)
    payload = await checkout(stack, token, str(uuid.uuid4()))
    assert payload["userErrors"] == []
    return payload["order"]["id"], product["id"]


def order_event(order_id: str, status: str, product_id: str, quantity: int = 2) -> dict[str, Any]:
    """A `next` payload of ORDER_WATCH."""
    lines = [{"product": {"id": product_id}, "quantity": quantity}]
    return {"data": {"orderStatusChanged": {"id": order_id, "status": status, "lines": lines}}}


def refusal(message: str, code: str) -> dict[str, Any]:
    """A `next` payload refusing the subscription field."""
    error = {
        "message": message,
        "locations": [{"line": 3, "column": 3}],
        "path": ["orderStatusChanged"],
        "extensions": {"code": code},
    }
    return {"errors": [error], "data": None}


async def test_the_owner_sees_the_order_then_paid(stack: Stack) -> None:
    user = str(uuid.uuid4())
    token = customer_token(user)
    order_id, product_id = await placed_order(stack, token)
    async with live_socket(stack.url("orders"), token) as socket:
        await start(socket, "1", ORDER_WATCH, {"id": order_id})
        assert await next_payload(socket, "1") == order_event(
            order_id, "PENDING_PAYMENT", product_id
        )
        paid = await pay(stack, token, order_id, str(uuid.uuid4()))
        assert paid["userErrors"] == [] and paid["order"]["status"] == "PAID"
        assert await next_payload(socket, "1") == order_event(order_id, "PAID", product_id)


async def test_another_customer_is_refused_as_for_a_missing_order(stack: Stack) -> None:
    order_id, _ = await placed_order(stack, customer_token())
    missing = str(uuid.uuid4())
    async with live_socket(stack.url("orders"), customer_token()) as socket:
        await start(socket, "theirs", ORDER_WATCH, {"id": order_id})
        assert await next_payload(socket, "theirs") == refusal(
            f"No order {order_id} of yours", "NOT_FOUND"
        )
        await completed(socket, "theirs")
        await start(socket, "missing", ORDER_WATCH, {"id": missing})
        assert await next_payload(socket, "missing") == refusal(
            f"No order {missing} of yours", "NOT_FOUND"
        )
        await completed(socket, "missing")


async def test_a_guest_is_unauthenticated(stack: Stack) -> None:
    order_id, _ = await placed_order(stack, customer_token())
    async with live_socket(stack.url("orders")) as socket:
        await start(socket, "1", ORDER_WATCH, {"id": order_id})
        assert await next_payload(socket, "1") == refusal(
            "Authentication required", "UNAUTHENTICATED"
        )
        await completed(socket, "1")


async def test_an_admin_watches_cancellation_to_the_end(stack: Stack) -> None:
    token = customer_token()
    order_id, product_id = await placed_order(stack, token)
    async with live_socket(stack.url("orders"), admin_token()) as socket:
        await start(socket, "1", ORDER_WATCH, {"id": order_id})
        assert (await next_payload(socket, "1"))["data"]["orderStatusChanged"]["status"] == (
            "PENDING_PAYMENT"
        )
        cancelled = await stack.data("orders", CANCEL, {"input": {"orderId": order_id}}, token)
        assert cancelled["cancelOrder"]["userErrors"] == []
        assert await next_payload(socket, "1") == order_event(order_id, "CANCELLED", product_id)
        await completed(socket, "1")  # CANCELLED is final


async def test_fulfilment_is_the_last_event(stack: Stack) -> None:
    token = customer_token()
    order_id, product_id = await placed_order(stack, token)
    await pay(stack, token, order_id, str(uuid.uuid4()))
    # the token in the upgrade request's header instead of connection_init's payload
    async with live_socket(stack.url("orders"), header_token=token) as socket:
        await start(socket, "1", ORDER_WATCH, {"id": order_id})
        assert await next_payload(socket, "1") == order_event(order_id, "PAID", product_id)
        variables = {"input": {"orderId": order_id}}
        done = await stack.data("orders", FULFILL, variables, admin_token())
        assert done["fulfillOrder"]["userErrors"] == []
        assert await next_payload(socket, "1") == order_event(order_id, "FULFILLED", product_id)
        await completed(socket, "1")


def stock_event(available: int, on_hand: int, reserved: int) -> dict[str, Any]:
    """A `next` payload of STOCK_WATCH for an admin."""
    counts = {"available": available, "onHand": on_hand, "reserved": reserved}
    return {"data": {"stockChanged": counts}}


async def test_stock_changes_on_adjustment_and_reservation(stack: Stack) -> None:
    product = await make_product(stack, name="Live kettle", stock=5)
    async with live_socket(stack.url("inventory"), admin_token()) as socket:
        await start(socket, "s", STOCK_WATCH, {"id": product["id"]})
        assert await next_payload(socket, "s") == stock_event(5, 5, 0)
        await set_stock(stack, product["id"], 3)
        assert await next_payload(socket, "s") == stock_event(8, 8, 0)
        token = customer_token()
        await add_to_cart(stack, token, product["id"], 2)
        assert (await checkout(stack, token, str(uuid.uuid4())))["userErrors"] == []
        assert await next_payload(socket, "s") == stock_event(6, 8, 2)


async def test_staff_counts_stay_refused_to_a_customer(stack: Stack) -> None:
    product = await make_product(stack, name="Live cup", stock=4)
    async with live_socket(stack.url("inventory"), customer_token()) as socket:
        await start(socket, "s", STOCK_WATCH, {"id": product["id"]})
        refused = [
            {
                "message": f"Stock.{field} is for admins and services only",
                "locations": [{"line": 2, "column": 73 + offset}],
                "path": ["stockChanged", field],
                "extensions": {"code": "FORBIDDEN"},
            }
            for field, offset in (("onHand", 0), ("reserved", 7))
        ]
        counts = {"available": 4, "onHand": None, "reserved": None}
        assert await next_payload(socket, "s") == {
            "errors": refused,
            "data": {"stockChanged": counts},
        }
        await start(socket, "p", PUBLIC_STOCK_WATCH, {"id": product["id"]})
        assert await next_payload(socket, "p") == {"data": {"stockChanged": {"available": 4}}}


async def test_a_product_id_that_is_not_a_uuid_is_bad_input(stack: Stack) -> None:
    async with live_socket(stack.url("inventory")) as socket:
        await start(socket, "s", PUBLIC_STOCK_WATCH, {"id": "tea"})
        error = {
            "message": "productId must be a product id (a UUID)",
            "locations": [{"line": 2, "column": 32}],
            "path": ["stockChanged"],
            "extensions": {"code": "BAD_USER_INPUT", "field": ["productId"]},
        }
        assert await next_payload(socket, "s") == {"errors": [error], "data": None}
        await completed(socket, "s")


ORDER_QUERY = "query ($id: ID!) { order(id: $id) { id } }"


@pytest.mark.parametrize(
    ("bad_id", "message"),
    [
        ("x" * 300, "`{name}` is too long: at most 256 characters"),
        ("1234\x00", "`{name}` must not contain a NUL character (\\u0000)"),
    ],
    ids=["300 characters", "a NUL"],
)
async def test_the_subscription_argument_passes_the_input_guard_as_a_query(
    stack: Stack, bad_id: str, message: str
) -> None:
    token = customer_token()
    query = await stack.post(stack.url("orders"), ORDER_QUERY, {"id": bad_id}, token)
    assert query["errors"] == [
        {
            "message": message.format(name="id"),
            "locations": [{"line": 1, "column": 20}],
            "path": ["order"],
            "extensions": {"code": "BAD_USER_INPUT", "field": ["id"]},
        }
    ]
    async with live_socket(stack.url("orders"), token) as socket:
        await start(socket, "bad", ORDER_WATCH, {"id": bad_id})
        error = {
            "message": message.format(name="orderId"),
            "locations": [{"line": 3, "column": 3}],
            "path": ["orderStatusChanged"],
            "extensions": {"code": "BAD_USER_INPUT", "field": ["orderId"]},
        }
        assert await next_payload(socket, "bad") == {"errors": [error], "data": None}
        await completed(socket, "bad")


async def test_a_stock_subscription_argument_passes_the_input_guard(stack: Stack) -> None:
    async with live_socket(stack.url("inventory")) as socket:
        await start(socket, "bad", PUBLIC_STOCK_WATCH, {"id": "y" * 300})
        error = {
            "message": "`productId` is too long: at most 256 characters",
            "locations": [{"line": 2, "column": 32}],
            "path": ["stockChanged"],
            "extensions": {"code": "BAD_USER_INPUT", "field": ["productId"]},
        }
        assert await next_payload(socket, "bad") == {"errors": [error], "data": None}
        await completed(socket, "bad")
