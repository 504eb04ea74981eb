"""pay holds no lock and no connection while the provider and inventory are called.

The fake provider's response gate keeps a charge in flight for as long as a
test needs; stale claims are the state a `pay` that died mid-payment leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from orders_helpers import CANCEL, PAY, add_to_cart, checkout, pay, stock_of
from sqlalchemy import text
from subgraph_stack import CODEC, Stack, customer_token, make_product

from subgraphs.common.auth import CUSTOMER, Viewer
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.orders import lifecycle, paying
from subgraphs.orders.payment_keys import token_hash
from subgraphs.orders.payments import FakePaymentProvider
from subgraphs.orders.services import OrdersServices
from subgraphs.stack import create_app

PAYMENT_TIMEOUT = 0.5
VISA = token_hash("tok_visa")


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


@contextlib.asynccontextmanager
async def _answers_held(provider: FakePaymentProvider) -> AsyncIterator[list[asyncio.Future[Any]]]:
    """Inside, the provider charges but does not answer; listed calls are awaited on exit."""
    gate = provider.response_gate = asyncio.Event()
    started: list[asyncio.Future[Any]] = []
    try:
        yield started
    finally:
        gate.set()
        provider.response_gate = None
        await asyncio.gather(*started, return_exceptions=True)


async def _order_state(stack: Stack, order_id: str) -> tuple[Any, ...]:
    rows = await stack.sql(
        "orders",
        "SELECT status, payment_claim IS NOT NULL AS claimed FROM orders "
        "WHERE id = CAST(:id AS uuid)",
        id=order_id,
    )
    return tuple(rows[0])


async def _payments(stack: Stack, order_id: str) -> list[tuple[str, str, str | None]]:
    rows = await stack.sql(
        "orders",
        "SELECT idempotency_key, status, provider_reference FROM payments "
        "WHERE order_id = CAST(:id AS uuid) ORDER BY created_at, idempotency_key",
        id=order_id,
    )
    return [tuple(r) for r in rows]


async def _reservation_status(stack: Stack, order_id: str) -> list[str]:
    rows = await stack.sql(
        "inventory", "SELECT status FROM reservations WHERE id = CAST(:id AS uuid)", id=order_id
    )
    return [r.status for r in rows]


async def _new_order(stack: Stack, token: str, product_id: str, quantity: int, key: str) -> str:
    await add_to_cart(stack, token, product_id, quantity)
    done = await checkout(stack, token, key)
    assert done["userErrors"] == []
    order_id: str = done["order"]["id"]
    return order_id


async def test_a_payment_in_flight_locks_nothing_and_holds_no_connection(stack: Stack) -> None:
    token = customer_token()
    item = await make_product(stack, stock=3)
    order_id = await _new_order(stack, token, item["id"], 2, "c1")
    async with _answers_held(stack.payments) as started:
        paying_call = asyncio.ensure_future(pay(stack, token, order_id, "p1"))
        started.append(paying_call)
        await _until(lambda: stack.payments.held == 1, "the charge to reach the provider")

        async with stack.dbs["orders"].engine.begin() as conn:
            locked = await conn.execute(
                text(
                    "SELECT status, payment_claim_key FROM orders "
                    "WHERE id = CAST(:id AS uuid) FOR UPDATE NOWAIT"
                ),
                {"id": order_id},
            )
            assert tuple(locked.one()) == ("PENDING_PAYMENT", "p1")
            touched = await conn.execute(
                text("UPDATE orders SET updated_at = now() WHERE id = CAST(:id AS uuid)"),
                {"id": order_id},
            )
            assert touched.rowcount == 1
        assert stack.app_db("orders").engine.pool.checkedout() == 0
        open_transactions = await stack.sql(
            "orders",
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%'",
        )
        assert open_transactions[0][0] == 0
        shown = await stack.data(
            "orders", "query ($id: ID!) { order(id: $id) { status } }", {"id": order_id}, token
        )
        assert shown["order"] == {"status": "PENDING_PAYMENT"}
        # Cancelling waits for the payment to settle instead of racing it.
        cancelling = asyncio.ensure_future(
            stack.data("orders", CANCEL, {"input": {"orderId": order_id}}, token)
        )
        started.append(cancelling)
        await asyncio.sleep(0.2)
        assert not paying_call.done() and not cancelling.done()

    paid = await paying_call
    assert paid["userErrors"] == []
    assert paid["order"]["status"] == "PAID"
    cancelled = (await cancelling)["cancelOrder"]
    assert cancelled["userErrors"] == [
        {
            "code": "INVALID_STATUS_TRANSITION",
            "field": ["input", "orderId"],
            "message": "An order that is PAID cannot be cancelled",
        }
    ]
    assert await _order_state(stack, order_id) == ("PAID", False)
    assert await stock_of(stack, item["id"]) == (1, 0)


@pytest.mark.parametrize("same_key", [True, False], ids=["same-key", "distinct-keys"])
async def test_ten_concurrent_pays_charge_once(stack: Stack, same_key: bool) -> None:
    token = customer_token()
    item = await make_product(stack, price="7.50", stock=5)
    order_id = await _new_order(stack, token, item["id"], 2, "c1")
    keys = ["p"] * 10 if same_key else [f"p{n}" for n in range(10)]
    async with _answers_held(stack.payments) as calls:
        calls += [asyncio.ensure_future(pay(stack, token, order_id, key)) for key in keys]
        await _until(lambda: stack.payments.held == 1, "the winner's charge")
        await asyncio.sleep(0.3)  # let the other nine arrive while the charge is in flight
        assert stack.payments.held == 1
    results = await asyncio.gather(*calls)

    assert [(c.amount, c.charge.approved, c.refunded) for c in stack.payments.charges.values()] == [
        (15, True, False)
    ]
    assert {r["order"]["status"] for r in results} == {"PAID"}
    assert len({r["order"]["paidAt"] for r in results}) == 1
    errors = sorted((e["code"], e["message"]) for r in results for e in r["userErrors"])
    if same_key:
        assert errors == []
        assert await _payments(stack, order_id) == [
            ("p", "CAPTURED", next(iter(stack.payments.charges.values())).charge.reference)
        ]
    else:
        assert errors == [("ORDER_NOT_PAYABLE", "Order is PAID")] * 9
        assert [(s, r is not None) for _, s, r in await _payments(stack, order_id)] == [
            ("CAPTURED", True)
        ]
    assert await stock_of(stack, item["id"]) == (3, 0)
    assert await _reservation_status(stack, order_id) == ["COMMITTED"]


@dataclass
class SlowProvider:
    payments: FakePaymentProvider
    orders: RunningServer


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def slow_provider(stack: Stack) -> AsyncIterator[SlowProvider]:
    payments = FakePaymentProvider()
    orders = await start_server(
        create_app(
            "orders",
            stack.database_urls["orders"],
            codec=CODEC,
            inventory_url=stack.servers["inventory"].graphql_url,
            products_url=stack.servers["products"].graphql_url,
            payments=payments,
            payment_timeout=PAYMENT_TIMEOUT,
            sweep_interval=0,
            reservation_ttl=timedelta(minutes=15),
        )
    )
    yield SlowProvider(payments, orders)
    await orders.stop()


async def test_provider_timeout_keeps_no_charge_and_the_stock(
    stack: Stack, slow_provider: SlowProvider
) -> None:
    token = customer_token()
    item = await make_product(stack, price="20.00", stock=4)
    order_id = await _new_order(stack, token, item["id"], 2, "c1")
    url = slow_provider.orders.graphql_url
    provider = slow_provider.payments
    provider.charges.clear()

    def pay_body(key: str) -> dict[str, Any]:
        return {"input": {"orderId": order_id, "idempotencyKey": key, "paymentToken": "tok_visa"}}

    provider.response_gate = asyncio.Event()  # never opened: the provider charges, then hangs
    try:
        timed_out = await stack.post(url, PAY, pay_body("p1"), token)
    finally:
        provider.response_gate = None
    refunded_message = (
        "The payment was refunded because the order could not be completed; "
        "pay again with a new key"
    )
    assert timed_out["data"]["pay"] == {
        "order": {"id": order_id, "status": "PENDING_PAYMENT", "paidAt": None},
        "userErrors": [{"code": "SERVICE_UNAVAILABLE", "field": None, "message": refunded_message}],
    }
    [charge] = provider.charges.values()
    assert (charge.amount, charge.charge.approved, charge.refunded) == (40, True, True)
    assert await _payments(stack, order_id) == [("p1", "REFUNDED", charge.charge.reference)]
    assert await _order_state(stack, order_id) == ("PENDING_PAYMENT", False)
    assert await stock_of(stack, item["id"]) == (4, 2)
    assert await _reservation_status(stack, order_id) == ["ACTIVE"]

    replay = await stack.post(url, PAY, pay_body("p1"), token)
    assert replay["data"]["pay"]["userErrors"][0]["message"] == refunded_message
    assert len(provider.charges) == 1

    paid = await stack.post(url, PAY, pay_body("p2"), token)
    assert paid["data"]["pay"]["userErrors"] == []
    assert paid["data"]["pay"]["order"]["status"] == "PAID"
    assert sorted(c.refunded for c in provider.charges.values()) == [False, True]
    assert await stock_of(stack, item["id"]) == (2, 0)


async def test_stale_claims_are_settled_by_the_sweep(stack: Stack) -> None:
    services: OrdersServices = stack.servers["orders"].app.config["SHOPGRAPH_SPEC"].services
    db = stack.app_db("orders")
    user = str(uuid.uuid4())
    token = customer_token(user)
    viewer = Viewer(user, CUSTOMER)
    item = await make_product(stack, price="5.00", stock=6)
    charged_id = await _new_order(stack, token, item["id"], 2, "c1")
    uncharged_id = await _new_order(stack, token, item["id"], 1, "c2")
    assert await stock_of(stack, item["id"]) == (6, 3)

    # Two pays that died after claiming: one after the provider charged, one before.
    charged = await paying.claim(db, viewer, uuid.UUID(charged_id), "p1", VISA)
    assert isinstance(charged, paying.Claim)
    charge = await stack.payments.charge(
        amount=charged.amount,
        currency=charged.currency,
        token="tok_visa",
        idempotency_key=charged.provider_key,
    )
    uncharged = await paying.claim(db, viewer, uuid.UUID(uncharged_id), "p2", VISA)
    assert isinstance(uncharged, paying.Claim)
    await stack.sql(
        "orders",
        "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = CAST(:id AS uuid)",
        id=uncharged_id,
    )

    # Young claims are live payments: neither sweep touches them.
    assert await paying.recover_stale_claims(db, services) == 0
    assert await lifecycle.expire_orders(db, services) == 0
    assert await _order_state(stack, charged_id) == ("PENDING_PAYMENT", True)
    assert await _order_state(stack, uncharged_id) == ("PENDING_PAYMENT", True)

    await stack.sql(
        "orders",
        "UPDATE orders SET payment_claimed_at = now() - interval '1 hour' "
        "WHERE payment_claim IS NOT NULL",
    )
    assert await paying.recover_stale_claims(db, services) == 2
    assert await paying.recover_stale_claims(db, services) == 0

    # The charge went through: the order is completed, not charged again.
    assert await _order_state(stack, charged_id) == ("PAID", False)
    assert await _payments(stack, charged_id) == [("p1", "CAPTURED", charge.reference)]
    assert await _reservation_status(stack, charged_id) == ["COMMITTED"]
    replay = await pay(stack, token, charged_id, "p1")
    assert replay["userErrors"] == []
    assert replay["order"]["status"] == "PAID"
    assert len(stack.payments.charges) == 1
    assert [c.refunded for c in stack.payments.charges.values()] == [False]

    # Nothing was charged: the claim is dropped, and the expired order now expires.
    assert await _order_state(stack, uncharged_id) == ("PENDING_PAYMENT", False)
    assert await _payments(stack, uncharged_id) == []
    assert await lifecycle.expire_orders(db, services) == 1
    assert await _order_state(stack, uncharged_id) == ("CANCELLED", False)
    assert await stock_of(stack, item["id"]) == (4, 0)


async def test_a_stale_charged_claim_whose_stock_is_gone_is_refunded(stack: Stack) -> None:
    services: OrdersServices = stack.servers["orders"].app.config["SHOPGRAPH_SPEC"].services
    db = stack.app_db("orders")
    user = str(uuid.uuid4())
    item = await make_product(stack, price="5.00", stock=3)
    order_id = await _new_order(stack, customer_token(user), item["id"], 2, "c1")
    taken = await paying.claim(db, Viewer(user, CUSTOMER), uuid.UUID(order_id), "p1", VISA)
    assert isinstance(taken, paying.Claim)
    charge = await stack.payments.charge(
        amount=taken.amount,
        currency=taken.currency,
        token="tok_visa",
        idempotency_key=taken.provider_key,
    )
    released = await services.inventory.release(uuid.UUID(order_id))  # e.g. it expired
    assert released.status == "RELEASED"
    await stack.sql(
        "orders",
        "UPDATE orders SET payment_claimed_at = now() - interval '1 hour' "
        "WHERE id = CAST(:id AS uuid)",
        id=order_id,
    )

    assert await paying.recover_stale_claims(db, services) == 1
    assert await _order_state(stack, order_id) == ("CANCELLED", False)
    assert await _payments(stack, order_id) == [("p1", "REFUNDED", charge.reference)]
    assert [c.refunded for c in stack.payments.charges.values()] == [True]
    assert await stock_of(stack, item["id"]) == (3, 0)
