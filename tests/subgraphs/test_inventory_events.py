"""inventory's consumers against real PostgreSQL and a real nats-server.

The test plays the orders service: it publishes OrderPaid / OrderCancelled to
JetStream exactly as a relay does, and watches inventory's tables and outbox.
Every test uses fresh product and order ids, so events still in flight from
another test change nothing it looks at.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from subgraphs.common.auth import ADMIN, SERVICE, TokenCodec
from subgraphs.common.database import Database, database_url
from subgraphs.common.events import Event, new_event
from subgraphs.common.events.broker import EventBroker
from subgraphs.common.events.envelope import encode, subject_of
from subgraphs.common.events.server import NatsServer
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.inventory import stock
from subgraphs.inventory.app import create_app
from tests.broker import eventually, start_nats

_SECRET = secrets.token_urlsafe(32)
CODEC = TokenCodec("HS256", _SECRET, _SECRET)

ADJUST = """
mutation ($input: AdjustStockInput!) {
  adjustStock(input: $input) { adjustment { onHandAfter } userErrors { code } }
}
"""
RESERVE = """
mutation ($input: ReserveStockInput!) {
  reserveStock(input: $input) { reservation { status } userErrors { code } }
}
"""
RELEASE = """
mutation ($input: ReservationIdInput!) {
  releaseReservation(input: $input) { reservation { status } userErrors { code } }
}
"""


@dataclass
class Inventory:
    server: RunningServer
    db: Database
    broker: EventBroker
    http: httpx.AsyncClient

    async def call(self, query: str, variables: dict[str, Any], role: str) -> dict[str, Any]:
        token = CODEC.issue("orders" if role == SERVICE else str(uuid.uuid4()), role)
        answer = await self.http.post(
            self.server.graphql_url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert "errors" not in body, body
        return body["data"]

    async def adjust(self, product: uuid.UUID, delta: int) -> None:
        key = f"adj-{uuid.uuid4()}"
        variables = {"input": {"productId": str(product), "delta": delta, "idempotencyKey": key}}
        data = await self.call(ADJUST, variables, ADMIN)
        assert data["adjustStock"]["userErrors"] == []

    async def reserve(self, order: uuid.UUID, lines: list[tuple[uuid.UUID, int]]) -> None:
        variables = {
            "input": {
                "reservationId": str(order),
                "lines": [{"productId": str(p), "quantity": q} for p, q in lines],
            }
        }
        data = await self.call(RESERVE, variables, SERVICE)
        assert data["reserveStock"] == {"reservation": {"status": "ACTIVE"}, "userErrors": []}

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.db.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []

    async def levels(self, product: uuid.UUID) -> tuple[int, int]:
        rows = await self.sql(
            "SELECT on_hand, reserved FROM stock_items WHERE product_id = :p", p=product
        )
        return (rows[0][0], rows[0][1])

    async def status(self, order: uuid.UUID) -> str | None:
        rows = await self.sql("SELECT status FROM reservations WHERE id = :id", id=order)
        return rows[0][0] if rows else None

    async def outbox(self, type: str, key: str, value: uuid.UUID) -> list[dict[str, Any]]:
        """The data of every `type` event inventory wrote whose data[key] is `value`."""
        rows = await self.sql(
            "SELECT body FROM event_outbox WHERE type = :t AND body->'data'->>:k = :v "
            "ORDER BY created_at",
            t=type,
            k=key,
            v=str(value),
        )
        return [row[0]["data"] for row in rows]

    async def publish(self, event: Event, msg_id: str | None = None) -> None:
        """Publish as orders' relay would; another `msg_id` delivers the same event again."""
        await self.broker.publish(encode(event), subject_of(event.type), msg_id or str(event.id))

    async def handled(self, consumer: str, event: Event) -> bool:
        rows = await self.sql(
            "SELECT 1 FROM event_handled WHERE consumer = :c AND event_id = :e",
            c=consumer,
            e=event.id,
        )
        return bool(rows)


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = start_nats(tmp_path_factory.mktemp("inventory-events"))
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module")
async def inventory(pg_server_url: str, nats: NatsServer) -> AsyncIterator[Inventory]:
    url = database_url(pg_server_url, "inventory", prefix="sgevinv")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SHOPGRAPH_NATS_URL", nats.url)
        env.delenv("SHOPGRAPH_STOCK_LOW_THRESHOLD", raising=False)
        server = await start_server(create_app(url, codec=CODEC, sweep_interval=0))
    broker = EventBroker(nats.url, name="test-orders")
    await broker.run()
    db = Database(url)
    async with httpx.AsyncClient(timeout=30) as http:
        yield Inventory(server, db, broker, http)
    await broker.close()
    await server.stop()
    await db.dispose()


def order_paid(order: uuid.UUID, lines: list[tuple[uuid.UUID, int]]) -> Event:
    line_data = [
        {"productId": str(p), "sku": "SKU", "name": "Tea", "quantity": q, "unitPrice": "3.50"}
        for p, q in lines
    ]
    data = {
        "orderId": str(order),
        "userId": str(uuid.uuid4()),
        "paymentId": str(uuid.uuid4()),
        "currency": "EUR",
        "total": "10.50",
        "lines": line_data,
    }
    return new_event("OrderPaid", "orders", data)


def order_cancelled(order: uuid.UUID, was_paid: bool) -> Event:
    data = {"orderId": str(order), "userId": str(uuid.uuid4()), "reason": "ADMIN"}
    return new_event("OrderCancelled", "orders", {**data, "wasPaid": was_paid})


async def until_status(inventory: Inventory, order: uuid.UUID, wanted: str) -> None:
    async def reached() -> str | None:
        status = await inventory.status(order)
        return status if status == wanted else None

    await eventually(reached)


async def until_handled(inventory: Inventory, consumer: str, event: Event) -> None:
    await eventually(lambda: inventory.handled(consumer, event))


async def test_order_paid_commits_the_reservation_once(inventory: Inventory) -> None:
    product, order = uuid.uuid4(), uuid.uuid4()
    await inventory.adjust(product, 10)
    await inventory.reserve(order, [(product, 3)])
    assert await inventory.levels(product) == (10, 3)
    paid = order_paid(order, [(product, 3)])
    await inventory.publish(paid)
    await until_status(inventory, order, "COMMITTED")
    assert await inventory.levels(product) == (7, 0)

    await inventory.publish(paid, msg_id=f"{paid.id}-again")  # delivered a second time
    twin = order_paid(order, [(product, 3)])  # or a second OrderPaid for the same order
    await inventory.publish(twin)
    await until_handled(inventory, "commit-paid", twin)
    assert await inventory.levels(product) == (7, 0)
    assert await inventory.outbox("StockCommitFailed", "orderId", order) == []


async def test_an_expired_reservation_is_taken_again_and_committed(inventory: Inventory) -> None:
    product, swept, overdue = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await inventory.adjust(product, 10)
    await inventory.reserve(swept, [(product, 3)])
    await inventory.reserve(overdue, [(product, 2)])
    await inventory.sql(
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=swept,
    )
    assert await stock.release_expired(inventory.db) == 1
    assert (await inventory.status(swept), await inventory.levels(product)) == ("EXPIRED", (10, 2))
    # `overdue` is past its expiry but no sweep ran: the consumer expires and re-takes it.
    await inventory.sql(
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=overdue,
    )
    await inventory.publish(order_paid(swept, [(product, 3)]))
    await inventory.publish(order_paid(overdue, [(product, 2)]))
    await until_status(inventory, swept, "COMMITTED")
    await until_status(inventory, overdue, "COMMITTED")
    assert await inventory.levels(product) == (5, 0)
    assert await inventory.outbox("StockCommitFailed", "orderId", swept) == []


async def test_without_the_units_any_more_it_is_stock_commit_failed(inventory: Inventory) -> None:
    plenty, scarce = sorted([uuid.uuid4(), uuid.uuid4()])
    lapsed, other = uuid.uuid4(), uuid.uuid4()
    await inventory.adjust(plenty, 10)
    await inventory.adjust(scarce, 5)
    await inventory.reserve(lapsed, [(plenty, 2), (scarce, 4)])
    await inventory.sql(
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=lapsed,
    )
    assert await stock.release_expired(inventory.db) == 1
    await inventory.reserve(other, [(scarce, 3)])  # only 2 of `scarce` left for `lapsed`
    paid = order_paid(lapsed, [(plenty, 2), (scarce, 4)])
    await inventory.publish(paid)
    failed = await eventually(lambda: inventory.outbox("StockCommitFailed", "orderId", lapsed))
    assert failed == [
        {
            "orderId": str(lapsed),
            "reason": "INSUFFICIENT_STOCK",
            "shortages": [{"productId": str(scarce), "requested": 4, "available": 2}],
        }
    ]
    # All lines or none: `plenty`'s two units were not kept either.
    assert await inventory.levels(plenty) == (10, 0)
    assert await inventory.levels(scarce) == (5, 3)
    assert await inventory.status(lapsed) == "EXPIRED"


async def test_a_released_reservation_is_not_taken_again(inventory: Inventory) -> None:
    product, order = uuid.uuid4(), uuid.uuid4()
    await inventory.adjust(product, 10)
    await inventory.reserve(order, [(product, 3)])
    released = await inventory.call(RELEASE, {"input": {"reservationId": str(order)}}, SERVICE)
    assert released["releaseReservation"]["reservation"] == {"status": "RELEASED"}
    await inventory.publish(order_paid(order, [(product, 3)]))
    failed = await eventually(lambda: inventory.outbox("StockCommitFailed", "orderId", order))
    assert failed == [{"orderId": str(order), "reason": "RESERVATION_RELEASED"}]
    assert await inventory.levels(product) == (10, 0)


async def test_an_unknown_order_is_a_no_op(inventory: Inventory) -> None:
    unknown = uuid.uuid4()
    paid = order_paid(unknown, [(uuid.uuid4(), 1)])
    cancelled = order_cancelled(unknown, was_paid=False)
    await inventory.publish(paid)
    await inventory.publish(cancelled)
    await until_handled(inventory, "commit-paid", paid)
    await until_handled(inventory, "release-cancelled", cancelled)
    assert await inventory.status(unknown) is None
    assert await inventory.outbox("StockCommitFailed", "orderId", unknown) == []


async def test_stock_low_once_per_crossing(inventory: Inventory) -> None:
    product, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await inventory.adjust(product, 8)  # a restock never alerts
    await inventory.reserve(first, [(product, 4)])
    await inventory.publish(order_paid(first, [(product, 4)]))
    await until_status(inventory, first, "COMMITTED")
    low = [{"productId": str(product), "available": 4, "threshold": 5}]
    assert await inventory.outbox("StockLow", "productId", product) == low

    await inventory.reserve(second, [(product, 1)])
    await inventory.publish(order_paid(second, [(product, 1)]))
    await until_status(inventory, second, "COMMITTED")
    assert await inventory.outbox("StockLow", "productId", product) == low  # still the same spell

    await inventory.adjust(product, 10)  # 13 available: the spell is over
    await inventory.adjust(product, -9)  # 4 again: a new crossing
    crossings = await inventory.outbox("StockLow", "productId", product)
    assert crossings == [*low, {"productId": str(product), "available": 4, "threshold": 5}]
    await inventory.adjust(product, -1)
    assert len(await inventory.outbox("StockLow", "productId", product)) == 2


async def test_order_cancelled_releases_held_units_and_keeps_sold_ones(
    inventory: Inventory,
) -> None:
    product, held, sold = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await inventory.adjust(product, 20)
    await inventory.reserve(held, [(product, 3)])
    await inventory.reserve(sold, [(product, 2)])
    await inventory.publish(order_paid(sold, [(product, 2)]))
    await until_status(inventory, sold, "COMMITTED")

    cancelled = order_cancelled(held, was_paid=False)
    await inventory.publish(cancelled)
    await until_status(inventory, held, "RELEASED")
    assert await inventory.levels(product) == (18, 0)
    await inventory.publish(cancelled, msg_id=f"{cancelled.id}-again")
    paid_then_cancelled = order_cancelled(sold, was_paid=True)
    await inventory.publish(paid_then_cancelled)
    await until_handled(inventory, "release-cancelled", paid_then_cancelled)
    assert await inventory.status(sold) == "COMMITTED"
    assert await inventory.levels(product) == (18, 0)


async def test_a_paid_order_cancelled_before_its_commit_is_not_sold(inventory: Inventory) -> None:
    product, order = uuid.uuid4(), uuid.uuid4()
    await inventory.adjust(product, 10)
    await inventory.reserve(order, [(product, 3)])
    await inventory.sql(
        "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=order,
    )
    assert await stock.release_expired(inventory.db) == 1
    # orders cancels the paid order (its release marks the expired reservation RELEASED)
    # before inventory has handled OrderPaid: the late OrderPaid must not sell the units.
    cancelled = order_cancelled(order, was_paid=True)
    await inventory.publish(cancelled)
    await until_status(inventory, order, "RELEASED")
    await inventory.publish(order_paid(order, [(product, 3)]))
    await eventually(lambda: inventory.outbox("StockCommitFailed", "orderId", order))
    assert await inventory.levels(product) == (10, 0)
    assert await inventory.status(order) == "RELEASED"


def _malformed_paid(order: uuid.UUID, product: uuid.UUID, case: str) -> Event:
    """An OrderPaid for `order` (holding 3 of `product`) broken as `case` says."""
    data = dict(order_paid(order, [(product, 3)]).data)
    line = dict(data["lines"][0])
    if case == "orderId":
        data["orderId"] = "order-7"
    elif case == "productId":
        line["productId"] = "tea"
    else:
        line["quantity"] = {"zero": 0, "text": "3", "bool": True}[case]
    return new_event("OrderPaid", "orders", {**data, "lines": [line]})


MALFORMED_PAID = {
    "orderId": "OrderPaid.orderId is not a UUID",
    "productId": "OrderPaid.productId is not a UUID",
    "zero": "OrderPaid.lines[].quantity is not a positive integer",
    "text": "OrderPaid.lines[].quantity is not a positive integer",
    "bool": "OrderPaid.lines[].quantity is not a positive integer",
}


async def dead_letter(inventory: Inventory, consumer: str, event: Event) -> tuple[int, str] | None:
    rows = await inventory.sql(
        "SELECT deliveries, error FROM event_dead_letters WHERE consumer = :c AND event_id = :e",
        c=consumer,
        e=event.id,
    )
    return (rows[0][0], rows[0][1]) if rows else None


@pytest.mark.parametrize("case", sorted(MALFORMED_PAID))
async def test_a_malformed_order_paid_is_dead_lettered_at_once(
    inventory: Inventory, case: str
) -> None:
    product, order = uuid.uuid4(), uuid.uuid4()
    await inventory.adjust(product, 10)
    await inventory.reserve(order, [(product, 3)])
    paid = _malformed_paid(order, product, case)
    await inventory.publish(paid)
    letter = await eventually(lambda: dead_letter(inventory, "commit-paid", paid))
    assert letter == (1, MALFORMED_PAID[case])  # no retry: the first delivery gave up
    assert not await inventory.handled("commit-paid", paid)
    assert await inventory.status(order) == "ACTIVE"
    assert await inventory.levels(product) == (10, 3)
    assert await inventory.outbox("StockCommitFailed", "orderId", order) == []


async def test_a_malformed_order_cancelled_is_dead_lettered_at_once(inventory: Inventory) -> None:
    cancelled = new_event(
        "OrderCancelled",
        "orders",
        {"orderId": "42", "userId": str(uuid.uuid4()), "reason": "ADMIN", "wasPaid": False},
    )
    await inventory.publish(cancelled)
    letter = await eventually(lambda: dead_letter(inventory, "release-cancelled", cancelled))
    assert letter == (1, "OrderCancelled.orderId is not a UUID")
    assert not await inventory.handled("release-cancelled", cancelled)
