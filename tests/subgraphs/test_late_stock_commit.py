"""inventory's commit fence: an abandoned commit attempt never sells stock when it arrives,
and a commit that waited past the reservation's expiry sells nothing.

(`pay` no longer commits stock itself: inventory does on OrderPaid, see
test_order_events.py. These tests keep inventory's own commit API honest.)
The faults are real: a row lock on the reservation held from the test so
inventory itself stalls.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from orders_helpers import stock_of
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from subgraph_stack import Stack, customer_token, make_product, service_token

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
