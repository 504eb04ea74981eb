"""A stock commit whose answer `pay` stopped waiting for never sells stock for an unpaid order.

`pay` commits with its claim token as the attempt id; when the answer does not
come it asks inventory to abandon that attempt, which either finds the commit
already done (the order is paid) or fences it off (the payment is refunded and
the units stay held for the still payable order). The faults are real: a proxy
that delays or loses the commit on its way, or a row lock on the reservation
held from the test so inventory itself stalls.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from fault_proxy import LOSE_RESPONSE, PASS, SLOW_REQUEST, SLOW_RESPONSE, FaultProxy
from orders_helpers import CHECKOUT, PAY, add_to_cart, stock_of
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from subgraph_stack import CODEC, Stack, customer_token, make_product, service_token

from subgraphs.common.serve import RunningServer, start_server
from subgraphs.orders import paying
from subgraphs.orders.payments import FakePaymentProvider
from subgraphs.orders.services import OrdersServices
from subgraphs.stack import create_app

TIMEOUT = 0.5
REFUNDED = (
    "The payment was refunded because the order could not be completed; pay again with a new key"
)
UNCONFIRMED = "The payment could not be confirmed yet; retry with the same key for its result"

RESERVE = """
mutation ($input: ReserveStockInput!) {
  reserveStock(input: $input) { reservation { status } userErrors { code } }
}
"""
COMMIT = """
mutation ($input: CommitReservationInput!) {
  commitReservation(input: $input) {
    reservation { status } userErrors { code field message }
  }
}
"""
ABANDON = """
mutation ($input: AbandonCommitInput!) {
  abandonCommit(input: $input) { reservation { status } userErrors { code field message } }
}
"""


@dataclass
class SlowInventory:
    proxy: FaultProxy
    orders: RunningServer
    payments: FakePaymentProvider

    @property
    def services(self) -> OrdersServices:
        spec = self.orders.app.config["SHOPGRAPH_SPEC"]  # type: ignore[attr-defined]
        services: OrdersServices = spec.services
        return services


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def slow(stack: Stack) -> AsyncIterator[SlowInventory]:
    proxy = FaultProxy(
        stack.servers["inventory"].url, delay=3 * TIMEOUT, field=b"commitReservation"
    )
    proxy_server = await start_server(proxy)  # type: ignore[arg-type]
    payments = FakePaymentProvider()
    orders = await start_server(
        create_app(
            "orders",
            stack.database_urls["orders"],
            codec=CODEC,
            inventory_url=proxy_server.graphql_url,
            products_url=stack.servers["products"].graphql_url,
            promotions_url=stack.url("promotions"),
            payments=payments,
            upstream_timeout=TIMEOUT,
            sweep_interval=0,
            reservation_ttl=timedelta(minutes=15),
        )
    )
    yield SlowInventory(proxy, orders, payments)
    await orders.stop()
    await proxy_server.stop()


async def _ordered(
    stack: Stack, slow: SlowInventory, token: str, stock: int, qty: int
) -> tuple[str, str]:
    item = await make_product(stack, price="10.00", stock=stock)
    await add_to_cart(stack, token, item["id"], qty)
    body = await stack.post(
        slow.orders.graphql_url, CHECKOUT, {"input": {"idempotencyKey": "c1"}}, token
    )
    assert body["data"]["checkout"]["userErrors"] == []
    slow.payments.charges.clear()
    return item["id"], body["data"]["checkout"]["order"]["id"]


async def _pay(stack: Stack, slow: SlowInventory, token: str, order_id: str, key: str) -> Any:
    body = await stack.post(
        slow.orders.graphql_url,
        PAY,
        {"input": {"orderId": order_id, "idempotencyKey": key, "paymentToken": "tok_visa"}},
        token,
    )
    assert "errors" not in body, body
    return body["data"]["pay"]


async def _order(stack: Stack, order_id: str) -> tuple[str, bool]:
    [row] = await stack.sql(
        "orders",
        "SELECT status, payment_claim IS NOT NULL FROM orders WHERE id = CAST(:id AS uuid)",
        id=order_id,
    )
    return (row[0], row[1])


async def _payments(stack: Stack, order_id: str) -> list[tuple[str, str, str]]:
    rows = await stack.sql(
        "orders",
        "SELECT idempotency_key, status, provider_reference FROM payments "
        "WHERE order_id = CAST(:id AS uuid) ORDER BY created_at",
        id=order_id,
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def _reservation(stack: Stack, reservation_id: str) -> str:
    [row] = await stack.sql(
        "inventory",
        "SELECT status FROM reservations WHERE id = CAST(:id AS uuid)",
        id=reservation_id,
    )
    return str(row.status)


@pytest.mark.parametrize("mode", [SLOW_REQUEST, LOSE_RESPONSE, SLOW_RESPONSE])
async def test_a_commit_pay_gave_up_on_never_sells_stock_for_an_unpaid_order(
    stack: Stack, slow: SlowInventory, mode: str
) -> None:
    token = customer_token()
    product, order_id = await _ordered(stack, slow, token, stock=5, qty=2)
    assert await stock_of(stack, product) == (5, 2)

    slow.proxy.mode = mode
    try:
        answer = await _pay(stack, slow, token, order_id, "p1")
        await slow.proxy.idle()  # the delayed commit has now reached inventory and finished
    finally:
        slow.proxy.mode = PASS
    [charge] = slow.payments.charges.values()
    reference = charge.charge.reference

    if mode == SLOW_REQUEST:
        # The fence came first: the late commit changed nothing, the money went back,
        # and the order is payable with its units still held (not sold).
        assert answer == {
            "order": {"id": order_id, "status": "PENDING_PAYMENT", "paidAt": None},
            "userErrors": [{"code": "SERVICE_UNAVAILABLE", "field": None, "message": REFUNDED}],
        }
        assert charge.refunded is True
        assert await _payments(stack, order_id) == [("p1", "REFUNDED", reference)]
        assert await _order(stack, order_id) == ("PENDING_PAYMENT", False)
        assert await _reservation(stack, order_id) == "ACTIVE"
        assert await stock_of(stack, product) == (5, 2)
        fenced = await stack.sql("inventory", "SELECT reservation_id::text FROM abandoned_commits")
        assert [r[0] for r in fenced] == [order_id]

        # Same key: the same answer, no second charge. A new key pays normally.
        assert (await _pay(stack, slow, token, order_id, "p1"))["userErrors"][0]["message"] == (
            REFUNDED
        )
        assert len(slow.payments.charges) == 1
        paid = await _pay(stack, slow, token, order_id, "p2")
        assert paid["userErrors"] == []
        assert paid["order"]["status"] == "PAID"
        assert sorted(c.refunded for c in slow.payments.charges.values()) == [False, True]
    else:
        # The commit had landed, only its answer was lost or late: the sale stands.
        assert answer["userErrors"] == []
        assert answer["order"]["status"] == "PAID"
        assert charge.refunded is False
        assert await _payments(stack, order_id) == [("p1", "CAPTURED", reference)]
        assert await _order(stack, order_id) == ("PAID", False)
        replay = await _pay(stack, slow, token, order_id, "p1")
        assert (replay["userErrors"], replay["order"]["status"]) == ([], "PAID")
        assert len(slow.payments.charges) == 1
    assert await _reservation(stack, order_id) == "COMMITTED"
    assert await stock_of(stack, product) == (3, 0)


async def _lock_reservation(conn: AsyncConnection, reservation_id: str) -> None:
    await conn.execute(
        text("SELECT id FROM reservations WHERE id = CAST(:id AS uuid) FOR UPDATE"),
        {"id": reservation_id},
    )


async def _lock_waiters(stack: Stack, wanted: bool) -> None:
    """Wait until some (wanted) or no (not wanted) statement in inventory waits for a lock."""
    query = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(500):
        [row] = await stack.sql("inventory", query)
        if (row[0] > 0) == wanted:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for lock waiters={wanted}")


async def _until_committed(stack: Stack, reservation_id: str) -> None:
    for _ in range(500):
        if await _reservation(stack, reservation_id) == "COMMITTED":
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the late commit never ran")


async def test_a_stalled_inventory_leaves_the_payment_to_the_sweep_which_completes_it(
    stack: Stack, slow: SlowInventory
) -> None:
    token = customer_token()
    product, order_id = await _ordered(stack, slow, token, stock=5, qty=2)

    # Inventory stalls on the reservation's row: neither the commit nor the abandon
    # that follows it answers in time, so nobody can know whether the commit lands.
    async with stack.dbs["inventory"].engine.connect() as conn:
        await conn.begin()
        await _lock_reservation(conn, order_id)
        answer = await _pay(stack, slow, token, order_id, "p1")
        assert answer == {
            "order": {"id": order_id, "status": "PENDING_PAYMENT", "paidAt": None},
            "userErrors": [{"code": "SERVICE_UNAVAILABLE", "field": None, "message": UNCONFIRMED}],
        }
        # The charge is kept and the claim stays: no refund while the stock may yet be sold.
        [charge] = slow.payments.charges.values()
        assert charge.refunded is False
        assert await _order(stack, order_id) == ("PENDING_PAYMENT", True)
        assert await _payments(stack, order_id) == []
        await conn.rollback()
    # The commit queued first for the row, so it runs first; the abandon then finds it done.
    await _until_committed(stack, order_id)
    await _lock_waiters(stack, False)
    assert await _reservation(stack, order_id) == "COMMITTED"
    assert await stack.sql("inventory", "SELECT attempt_id FROM abandoned_commits") == []
    assert await stock_of(stack, product) == (3, 0)

    await stack.sql(
        "orders",
        "UPDATE orders SET payment_claimed_at = now() - interval '1 hour' "
        "WHERE id = CAST(:id AS uuid)",
        id=order_id,
    )
    db = slow.orders.app.config["SHOPGRAPH_DB"]  # type: ignore[attr-defined]
    assert await paying.recover_stale_claims(db, slow.services) == 1
    assert await _order(stack, order_id) == ("PAID", False)
    assert await _payments(stack, order_id) == [("p1", "CAPTURED", charge.charge.reference)]
    assert [c.refunded for c in slow.payments.charges.values()] == [False]
    replay = await _pay(stack, slow, token, order_id, "p1")
    assert (replay["userErrors"], replay["order"]["status"]) == ([], "PAID")
    assert await _reservation(stack, order_id) == "COMMITTED"
    assert await stock_of(stack, product) == (3, 0)


async def _reserved(stack: Stack, quantity: int, on_hand: int) -> tuple[str, str]:
    product = (await make_product(stack, stock=on_hand))["id"]
    rid = str(uuid.uuid4())
    body = await stack.data(
        "inventory",
        RESERVE,
        {"input": {"reservationId": rid, "lines": [{"productId": product, "quantity": quantity}]}},
        service_token(),
    )
    assert body["reserveStock"] == {"reservation": {"status": "ACTIVE"}, "userErrors": []}
    return product, rid


async def _call(stack: Stack, document: str, rid: str, attempt: str | None) -> dict[str, Any]:
    body = await stack.data(
        "inventory",
        document,
        {"input": {"reservationId": rid, "attemptId": attempt}},
        service_token(),
    )
    payload: dict[str, Any] = next(iter(body.values()))
    return payload


async def test_an_abandoned_commit_attempt_changes_nothing_when_it_arrives(stack: Stack) -> None:
    product, rid = await _reserved(stack, quantity=2, on_hand=5)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())

    fenced = await _call(stack, ABANDON, rid, first)
    assert fenced == {"reservation": {"status": "ACTIVE"}, "userErrors": []}
    assert await _call(stack, ABANDON, rid, first) == fenced  # safe to repeat
    late = await _call(stack, COMMIT, rid, first)
    assert late == {
        "reservation": {"status": "ACTIVE"},
        "userErrors": [
            {
                "code": "RESERVATION_NOT_ACTIVE",
                "field": ["input", "attemptId"],
                "message": "This commit attempt was abandoned by its caller; nothing was changed",
            }
        ],
    }
    assert await stock_of(stack, product) == (5, 2)

    # Another attempt commits; abandoning it afterwards reports the sale and undoes nothing.
    done = await _call(stack, COMMIT, rid, second)
    assert done == {"reservation": {"status": "COMMITTED"}, "userErrors": []}
    assert await _call(stack, ABANDON, rid, second) == done
    assert await _call(stack, COMMIT, rid, None) == done
    assert (await _call(stack, COMMIT, rid, first))["userErrors"][0]["field"] == [
        "input",
        "attemptId",
    ]
    assert await stock_of(stack, product) == (3, 0)

    missing = await _call(stack, ABANDON, str(uuid.uuid4()), first)
    assert missing["reservation"] is None
    assert [e["code"] for e in missing["userErrors"]] == ["RESERVATION_NOT_FOUND"]
    bad = await stack.gql(
        "inventory", ABANDON, {"input": {"reservationId": rid, "attemptId": "x"}}, service_token()
    )
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert bad["errors"][0]["message"] == "attemptId must be a UUID"
    denied = await stack.gql(
        "inventory",
        ABANDON,
        {"input": {"reservationId": rid, "attemptId": first}},
        customer_token(),
    )
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_commit_that_waited_past_the_reservation_expiry_sells_nothing(
    stack: Stack,
) -> None:
    product, rid = await _reserved(stack, quantity=2, on_hand=5)
    async with stack.dbs["inventory"].engine.connect() as conn:
        await conn.begin()
        await _lock_reservation(conn, rid)
        # The commit's transaction starts before the expiry and gets the row after it.
        pending = asyncio.ensure_future(_call(stack, COMMIT, rid, str(uuid.uuid4())))
        await _lock_waiters(stack, True)
        await conn.execute(
            text(
                "UPDATE reservations SET expires_at = clock_timestamp() + interval '0.3 second' "
                "WHERE id = CAST(:id AS uuid)"
            ),
            {"id": rid},
        )
        await asyncio.sleep(0.6)
        await conn.commit()
    late = await pending
    assert late["reservation"] == {"status": "EXPIRED"}
    assert [e["code"] for e in late["userErrors"]] == ["RESERVATION_NOT_ACTIVE"]
    assert await stock_of(stack, product) == (5, 0)
