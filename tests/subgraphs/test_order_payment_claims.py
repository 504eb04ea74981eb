"""pay holds no lock and no connection while payments charges the order.

The fake gateway's response gate (in the payments subgraph, `stack.gateway`)
keeps a charge in flight for as long as a test needs; stale claims are the state
a `pay` that died mid-payment leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from orders_helpers import (
    CANCEL,
    PAY,
    add_to_cart,
    checkout,
    pay,
    payment_of,
    stock_of,
    stock_settles,
)
from sqlalchemy import text
from subgraph_stack import CODEC, Stack, customer_token, make_product

from subgraphs.common.auth import CUSTOMER, Viewer
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.orders import lifecycle, paying
from subgraphs.orders.app import create_app
from subgraphs.orders.payment_keys import token_hash
from subgraphs.orders.services import OrdersServices
from subgraphs.payments.gateways.fake import FakeGateway
from subgraphs.payments.models import gateway_key
from tests.broker import eventually

PAYMENTS_CALL_TIMEOUT = 0.5
VISA = token_hash("tok_visa")


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


@contextlib.asynccontextmanager
async def _answers_held(provider: FakeGateway) -> AsyncIterator[list[asyncio.Future[Any]]]:
    """Inside, the gateway charges but does not answer; listed calls are awaited on exit."""
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
    async with _answers_held(stack.gateway) as started:
        paying_call = asyncio.ensure_future(pay(stack, token, order_id, "p1"))
        started.append(paying_call)
        await _until(lambda: stack.gateway.held == 1, "the charge to reach the gateway")

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
    await stock_settles(stack, item["id"], (1, 0))


@pytest.mark.parametrize("same_key", [True, False], ids=["same-key", "distinct-keys"])
async def test_ten_concurrent_pays_charge_once(
    stack: Stack, same_key: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = customer_token()
    item = await make_product(stack, price="7.50", stock=5)
    order_id = await _new_order(stack, token, item["id"], 2, "c1")
    keys = ["p"] * 10 if same_key else [f"p{n}" for n in range(10)]
    waiting = _count_claim_waiters(monkeypatch)
    async with _answers_held(stack.gateway) as calls:
        calls += [asyncio.ensure_future(pay(stack, token, order_id, key)) for key in keys]
        await _until(lambda: stack.gateway.held == 1, "the winner's charge")
        # all nine others have found the claim on and wait, while the charge is in flight
        await _until(lambda: len(waiting) == 9, "the other nine pays to find the claim")
        assert stack.gateway.held == 1
    results = await asyncio.gather(*calls)

    assert await stack.charges() == [("15.00", "CAPTURED")]
    assert {r["order"]["status"] for r in results} == {"PAID"}
    assert len({r["order"]["paidAt"] for r in results}) == 1
    errors = sorted((e["code"], e["message"]) for r in results for e in r["userErrors"])
    payment = await payment_of(stack, order_id, token)
    assert payment is not None and payment["status"] == "CAPTURED"
    assert await _payments(stack, order_id) == [
        ("p" if same_key else _key_of(results, keys), "CAPTURED", payment["id"])
    ]
    assert errors == ([] if same_key else [("ORDER_NOT_PAYABLE", "Order is PAID")] * 9)
    await stock_settles(stack, item["id"], (3, 0))
    assert await _reservation_status(stack, order_id) == ["COMMITTED"]


def _count_claim_waiters(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """The requests (tasks) that found another caller's claim on the order: `paying.claim`
    unchanged, only watched (the servers run in this event loop)."""
    waiting: set[int] = set()
    claim = paying.claim

    async def watched(*args: Any) -> Any:
        decision = await claim(*args)
        if decision is None:
            waiting.add(id(asyncio.current_task()))
        return decision

    monkeypatch.setattr(paying, "claim", watched)
    return waiting


def _key_of(results: list[dict[str, Any]], keys: list[str]) -> str:
    """The key of the one pay that answered without errors (the one that charged)."""
    [key] = [k for k, r in zip(keys, results, strict=True) if not r["userErrors"]]
    return key


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def impatient_orders(stack: Stack) -> AsyncIterator[RunningServer]:
    """A second orders subgraph on the stack's database that waits only PAYMENTS_CALL_TIMEOUT for
    payments' answer (its event consumers share the stack's orders' durable consumers)."""
    orders = await start_server(
        create_app(
            stack.database_urls["orders"],
            codec=CODEC,
            inventory_url=stack.url("inventory"),
            products_url=stack.url("products"),
            promotions_url=stack.url("promotions"),
            payments_url=stack.url("payments"),
            payments_call_timeout=PAYMENTS_CALL_TIMEOUT,
            sweep_interval=0,
            reservation_ttl=timedelta(minutes=15),
        )
    )
    yield orders
    await orders.stop()


async def test_a_charge_whose_answer_never_came_is_settled_by_payments_event(
    stack: Stack, impatient_orders: RunningServer
) -> None:
    token = customer_token()
    item = await make_product(stack, price="20.00", stock=4)
    order_id = await _new_order(stack, token, item["id"], 2, "c1")
    url = impatient_orders.graphql_url

    def pay_body(key: str) -> dict[str, Any]:
        return {"input": {"orderId": order_id, "idempotencyKey": key, "paymentToken": "tok_visa"}}

    async with _answers_held(stack.gateway):  # the gateway charges, then does not answer
        timed_out = await stack.post(url, PAY, pay_body("p1"), token)
        assert timed_out["data"]["pay"] == {
            "order": {"id": order_id, "status": "PENDING_PAYMENT", "paidAt": None},
            "userErrors": [
                {"code": "SERVICE_UNAVAILABLE", "field": None, "message": paying.UNCONFIRMED}
            ],
        }
        # The claim stays: no other key may charge while this charge's fate is unknown.
        assert await _order_state(stack, order_id) == ("PENDING_PAYMENT", True)
    # payments gets its answer, captures, and its PaymentCaptured completes the order.

    async def paid() -> bool:
        return await _order_state(stack, order_id) == ("PAID", False)

    await eventually(paid)
    payment = await payment_of(stack, order_id, token)
    assert payment is not None and payment["status"] == "CAPTURED"
    assert await _payments(stack, order_id) == [("p1", "CAPTURED", payment["id"])]
    replay = await stack.post(url, PAY, pay_body("p1"), token)
    assert replay["data"]["pay"]["userErrors"] == []
    assert replay["data"]["pay"]["order"]["status"] == "PAID"
    assert await stack.charges() == [("40.00", "CAPTURED")]
    await stock_settles(stack, item["id"], (2, 0))


async def _in_flight_at_payments(stack: Stack, claim: paying.Claim) -> str:
    """What payments holds after dying mid-charge: its row under the claim's key still
    PENDING, and the gateway's authorization made under the attempt's key; the payment id."""
    payment_id = uuid.uuid4()
    await stack.sql(
        "payments",
        "INSERT INTO payments (id, order_id, user_id, idempotency_key, token_hash, amount, "
        "currency_code, gateway, status, attempt) VALUES (:id, :order, :user, :key, :hash, "
        ":amount, :currency, 'fake', 'PENDING', 1)",
        id=payment_id,
        order=claim.order_id,
        user=claim.user_id,
        key=claim.payments_key,
        hash=claim.token_hash,
        amount=claim.amount,
        currency=claim.currency,
    )
    await stack.gateway.authorize(
        claim.amount, claim.currency, "tok_visa", gateway_key(payment_id, 1), str(claim.order_id)
    )
    return str(payment_id)


async def test_stale_claims_are_settled_by_the_sweep_asking_payments(stack: Stack) -> None:
    services: OrdersServices = stack.servers["orders"].app.config["SHOPGRAPH_SPEC"].services
    db = stack.app_db("orders")
    user = str(uuid.uuid4())
    token = customer_token(user)
    viewer = Viewer(user, CUSTOMER)
    item = await make_product(stack, price="5.00", stock=6)
    charged_id = await _new_order(stack, token, item["id"], 2, "c1")
    uncharged_id = await _new_order(stack, token, item["id"], 1, "c2")
    assert await stock_of(stack, item["id"]) == (6, 3)

    # Two pays that died after claiming: one after payments started charging, one before.
    charged = await paying.claim(db, viewer, uuid.UUID(charged_id), "p1", VISA)
    assert isinstance(charged, paying.Claim)
    payment_id = await _in_flight_at_payments(stack, charged)
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

    # payments found the authorization at the gateway and captured it: the order is paid,
    # not charged again, and its units are sold on OrderPaid.
    assert await _order_state(stack, charged_id) == ("PAID", False)
    assert await _payments(stack, charged_id) == [("p1", "CAPTURED", payment_id)]
    replay = await pay(stack, token, charged_id, "p1")
    assert replay["userErrors"] == []
    assert replay["order"]["status"] == "PAID"
    assert await stack.charges() == [("10.00", "CAPTURED")]

    # Nothing was charged: the claim is dropped, and the expired order now expires.
    assert await _order_state(stack, uncharged_id) == ("PENDING_PAYMENT", False)
    assert await _payments(stack, uncharged_id) == []
    assert await lifecycle.expire_orders(db, services) == 1
    assert await _order_state(stack, uncharged_id) == ("CANCELLED", False)
    await stock_settles(stack, item["id"], (4, 0))
    assert await _reservation_status(stack, charged_id) == ["COMMITTED"]


async def test_a_stale_claim_payments_cannot_settle_yet_stays(stack: Stack) -> None:
    services: OrdersServices = stack.servers["orders"].app.config["SHOPGRAPH_SPEC"].services
    db = stack.app_db("orders")
    user = str(uuid.uuid4())
    item = await make_product(stack, price="5.00", stock=3)
    order_id = await _new_order(stack, customer_token(user), item["id"], 1, "c1")
    taken = await paying.claim(db, Viewer(user, CUSTOMER), uuid.UUID(order_id), "p1", VISA)
    assert isinstance(taken, paying.Claim)
    # payments' row is in flight and the gateway has no charge under the attempt's key: it
    # cannot tell yet whether the charging call still reaches the gateway, so it says PENDING.
    await stack.sql(
        "payments",
        "INSERT INTO payments (id, order_id, user_id, idempotency_key, token_hash, amount, "
        "currency_code, gateway, status, attempt) VALUES (gen_random_uuid(), :order, :user, "
        ":key, :hash, 5, 'USD', 'fake', 'PENDING', 1)",
        order=taken.order_id,
        user=taken.user_id,
        key=taken.payments_key,
        hash=taken.token_hash,
    )
    await stack.sql(
        "orders",
        "UPDATE orders SET payment_claimed_at = now() - interval '1 hour' "
        "WHERE id = CAST(:id AS uuid)",
        id=order_id,
    )
    assert await paying.recover_stale_claims(db, services) == 0
    assert await _order_state(stack, order_id) == ("PENDING_PAYMENT", True)
    assert await _payments(stack, order_id) == []
    assert await stack.charges() == []
