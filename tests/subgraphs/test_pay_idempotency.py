"""A pay idempotency key is bound to its first request's order and payment token."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator

from orders_helpers import PAY, add_to_cart, checkout, pay, stock_settles
from subgraph_stack import Stack, customer_token, make_product

from subgraphs.payments.charging import MAX_ATTEMPTS_PER_ORDER

OTHER_TOKEN = {
    "code": "IDEMPOTENCY_KEY_REUSED",
    "field": ["input", "idempotencyKey"],
    "message": "This idempotencyKey was used with a different paymentToken; pay with a new key",
}
OTHER_ORDER = {
    "code": "IDEMPOTENCY_KEY_REUSED",
    "field": ["input", "idempotencyKey"],
    "message": "This idempotencyKey was used to pay another order; pay with a new key",
}
DECLINED = {"code": "PAYMENT_DECLINED", "field": None, "message": "The payment was declined"}


async def _order(stack: Stack, token: str, product_id: str, key: str) -> str:
    await add_to_cart(stack, token, product_id, 1)
    done = await checkout(stack, token, key)
    assert done["userErrors"] == []
    order_id: str = done["order"]["id"]
    return order_id


async def test_a_declined_payment_uses_up_its_key(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, price="20.00", stock=4)
    order_id = await _order(stack, token, item["id"], "c1")

    declined = await pay(stack, token, order_id, "p1", payment_token="tok_declined")
    assert declined["userErrors"] == [DECLINED]
    other = await pay(stack, token, order_id, "p1", payment_token="tok_visa")
    assert other["userErrors"] == [OTHER_TOKEN]
    assert other["order"]["status"] == "PENDING_PAYMENT"
    replay = await pay(stack, token, order_id, "p1", payment_token="tok_declined")
    assert replay["userErrors"] == [DECLINED]
    assert await stack.charges() == [("20.00", "DECLINED")]

    paid = await pay(stack, token, order_id, "p2", payment_token="tok_visa")
    assert (paid["userErrors"], paid["order"]["status"]) == ([], "PAID")
    assert (await pay(stack, token, order_id, "p2", payment_token="tok_amex"))["userErrors"] == [
        OTHER_TOKEN
    ]
    stored = await stack.sql(
        "orders",
        "SELECT idempotency_key, status, token_hash FROM payments ORDER BY idempotency_key",
    )
    assert [tuple(r) for r in stored] == [
        ("p1", "DECLINED", hashlib.sha256(b"tok_declined").hexdigest()),
        ("p2", "CAPTURED", hashlib.sha256(b"tok_visa").hexdigest()),
    ]


async def test_a_key_cannot_pay_a_second_order(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, price="5.00", stock=4)
    first = await _order(stack, token, item["id"], "c1")
    second = await _order(stack, token, item["id"], "c2")
    assert (await pay(stack, token, first, "p1"))["order"]["status"] == "PAID"

    reused = await pay(stack, token, second, "p1")
    assert reused["userErrors"] == [OTHER_ORDER]
    assert reused["order"]["status"] == "PENDING_PAYMENT"
    assert await stack.charges() == [("5.00", "CAPTURED")]
    await stock_settles(stack, item["id"], (3, 1))
    # Another customer's keys are theirs: the same key pays their order.
    stranger = customer_token()
    theirs = await _order(stack, stranger, item["id"], "c1")
    assert (await pay(stack, stranger, theirs, "p1"))["userErrors"] == []


async def test_the_payment_token_has_no_default(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, stock=2)
    order_id = await _order(stack, token, item["id"], "c1")
    body = await stack.gql(
        "orders", PAY, {"input": {"orderId": order_id, "idempotencyKey": "p1"}}, token
    )
    assert "data" not in body  # refused before execution
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "paymentToken" in body["errors"][0]["message"]
    assert await stack.charges() == []


async def test_one_key_sent_for_two_orders_at_once_pays_one(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, price="5.00", stock=4)
    orders = [await _order(stack, token, item["id"], f"c{n}") for n in range(2)]
    results = await asyncio.gather(*(pay(stack, token, order, "p1") for order in orders))
    assert sorted(r["order"]["status"] for r in results) == ["PAID", "PENDING_PAYMENT"]
    assert sorted(len(r["userErrors"]) for r in results) == [0, 1]
    assert [e for r in results for e in r["userErrors"]] == [OTHER_ORDER]
    assert await stack.charges() == [("5.00", "CAPTURED")]


async def test_a_failing_provider_leaves_the_key_free_for_a_retry(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, price="8.00", stock=3)
    order_id = await _order(stack, token, item["id"], "c1")

    failed = await pay(stack, token, order_id, "p1", payment_token="tok_error")
    assert failed["userErrors"] == [
        {
            "code": "SERVICE_UNAVAILABLE",
            "field": None,
            "message": "Payments are unavailable; nothing was charged, "
            "retry with the same idempotencyKey",
        }
    ]
    assert failed["order"]["status"] == "PENDING_PAYMENT"
    assert await stack.sql("orders", "SELECT id FROM payments") == []
    # the same key, even with another token, pays: the failure did not use it
    retried = await pay(stack, token, order_id, "p1", payment_token="tok_visa")
    assert (retried["userErrors"], retried["order"]["status"]) == ([], "PAID")
    assert await stack.charges() == [("8.00", "CAPTURED")]


BLANK_TOKEN = {
    "code": "INVALID_INPUT",
    "field": ["input", "paymentToken"],
    "message": "paymentToken must not be blank: pass the token from the payment form",
}


async def test_a_blank_payment_token_is_a_user_error_before_any_claim(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, price="4.20", stock=2)
    order_id = await _order(stack, token, item["id"], "c-blank")
    for blank in ("", " ", "\t \n"):
        answer = await pay(stack, token, order_id, "p-blank", payment_token=blank)
        assert answer["userErrors"] == [BLANK_TOKEN], blank
    rows = await stack.sql(
        "orders",
        "SELECT status, payment_claim, payment_claim_key FROM orders WHERE id = :id",
        id=order_id,
    )
    assert [tuple(r) for r in rows] == [("PENDING_PAYMENT", None, None)]
    assert await stack.charges() == []
    assert await stack.sql("payments", "SELECT id FROM payments") == []
    paid = await pay(stack, token, order_id, "p-blank", payment_token="tok_visa")
    assert (paid["userErrors"], paid["order"]["status"]) == ([], "PAID")


TOTAL_CHECK = "orders_total_after_discounts"


@contextlib.asynccontextmanager
async def _negative_total(stack: Stack, order_id: str) -> AsyncIterator[None]:
    """Inside, the order's total is -1.00 (its check constraint lifted meanwhile)."""
    await stack.sql("orders", f"ALTER TABLE orders DROP CONSTRAINT {TOTAL_CHECK}")
    try:
        await stack.sql("orders", "UPDATE orders SET total = -1 WHERE id = :id", id=order_id)
        yield
    finally:
        await stack.sql("orders", "UPDATE orders SET total = subtotal WHERE id = :id", id=order_id)
        await stack.sql(
            "orders",
            f"ALTER TABLE orders ADD CONSTRAINT {TOTAL_CHECK} "
            "CHECK (discount_total >= 0 AND total = GREATEST(subtotal - discount_total, 0))",
        )


async def test_payments_refusing_the_charge_is_a_user_error_not_a_500(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, price="4.20", stock=2)
    order_id = await _order(stack, token, item["id"], "c-refused")
    # Orders cannot produce a charge payments refuses (its own checks, an order of 0.00 paid
    # without payments: test_pay_free_orders), so the order is made inconsistent by hand.
    async with _negative_total(stack, order_id):
        refused = await pay(stack, token, order_id, "p-refused")
    assert refused["userErrors"] == [
        {
            "code": "ORDER_NOT_PAYABLE",
            "field": None,
            "message": "Payments cannot charge this order as it is; nothing was charged",
        }
    ]
    assert refused["order"]["status"] == "PENDING_PAYMENT"
    assert await stack.charges() == []
    # Nothing was recorded under the key: it pays the order once it is payable.
    paid = await pay(stack, token, order_id, "p-refused")
    assert (paid["userErrors"], paid["order"]["status"]) == ([], "PAID")
    assert await stack.charges() == [("4.20", "CAPTURED")]


async def test_an_order_past_its_payment_attempts_is_not_payable(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, price="3.00", stock=2)
    order_id = await _order(stack, token, item["id"], "c-many")
    # the declined attempts payments already holds for the order (its cap, MAX_ATTEMPTS)
    await stack.sql(
        "payments",
        "INSERT INTO payments (id, order_id, user_id, idempotency_key, token_hash, amount, "
        "currency_code, gateway, status, reason) SELECT gen_random_uuid(), CAST(:id AS uuid), "
        "gen_random_uuid(), 'old-' || n, 'x', 3, 'USD', 'fake', 'DECLINED', 'declined' "
        "FROM generate_series(1, :cap) AS n",
        id=order_id,
        cap=MAX_ATTEMPTS_PER_ORDER,
    )
    refused = await pay(stack, token, order_id, "p-many")
    assert refused["userErrors"] == [
        {
            "code": "ORDER_NOT_PAYABLE",
            "field": ["input", "orderId"],
            "message": "This order has had the most payment attempts allowed; nothing was charged",
        }
    ]
    assert refused["order"]["status"] == "PENDING_PAYMENT"
    assert await stack.charges() == []
    claimed = await stack.sql(
        "orders", "SELECT payment_claim FROM orders WHERE id = CAST(:id AS uuid)", id=order_id
    )
    assert claimed == [(None,)]
