"""Payments down: an order's payment fields are null with their error, the order itself
still answers (`Order.payments` is nullable, so the failed fetch stops there)."""

from __future__ import annotations

import socket

from orders_helpers import add_to_cart, checkout
from router_helpers import CUSTOMER, error_list, through_router
from subgraph_stack import Stack, customer_token, make_product

QUERY = """
query ($id: ID!) {
  order(id: $id) { id status payment { status } payments { id status } }
}
"""


def _closed_port_url() -> str:
    """A URL nothing listens at: calls to it are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/graphql"


async def test_an_order_answers_with_null_payments_when_payments_is_down(stack: Stack) -> None:
    token = customer_token()
    mug = await make_product(stack, price="12.00", stock=5)
    await add_to_cart(stack, token, mug["id"])
    order = (await checkout(stack, token, "pay-down-1"))["order"]
    body = await through_router(
        stack,
        QUERY,
        {"id": order["id"]},
        token=token,
        access=CUSTOMER,
        urls={"payments": _closed_port_url()},
    )
    assert body["data"] == {
        "order": {
            "id": order["id"],
            "status": "PENDING_PAYMENT",
            "payment": None,
            "payments": None,
        }
    }
    # the failed fetch is reported at the entity it was for (the order)
    assert error_list(body) == [
        (["order"], "HTTP fetch failed from 'payments': ConnectError", "SUBREQUEST_HTTP_ERROR")
    ]
