"""chargeOrder and settlePayment: once per idempotency key, whatever the gateway does.

Real PostgreSQL, real HTTP, the fake gateway (the outside world) keeping its charges
in its own table; nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import orjson
from payments_helpers import (  # noqa: F401 (the *_fixture functions are fixtures)
    CHARGE,
    ORDER_ID,
    USER_ID,
    PaymentsApp,
    app_fixture,
    charge_input,
    customer_token,
    payments_fixture,
    payments_nats_fixture,
    service_token,
)

from subgraphs.payments.charging import MAX_ATTEMPTS_PER_ORDER
from tests.broker import eventually

UNAVAILABLE = "The payment gateway is unavailable; nothing was charged"


async def _charges(app: PaymentsApp) -> list[Any]:
    return await app.sql(
        "SELECT idempotency_key, status, amount, currency_code FROM fake_gateway_charges"
    )


async def _outbox(app: PaymentsApp) -> list[tuple[str, dict[str, Any]]]:
    rows = await app.sql("SELECT type, body FROM event_outbox ORDER BY created_at")
    return [(kind, body if isinstance(body, dict) else orjson.loads(body)) for kind, body in rows]


async def test_approved_token_is_captured_once_with_its_event(app: PaymentsApp) -> None:
    result = await app.charge()
    assert result["status"] == "CAPTURED"
    assert result["reason"] is None and result["tokenReused"] is False
    rows = await app.sql(
        "SELECT id, status, amount, currency_code, gateway, token_hash, reference FROM payments"
    )
    assert len(rows) == 1
    payment_id, status, amount, currency, gateway, token_hash, reference = rows[0]
    assert (str(payment_id), status, str(amount), currency, gateway) == (
        result["paymentId"],
        "CAPTURED",
        "12.50",
        "USD",
        "fake",
    )
    assert token_hash == hashlib.sha256(b"tok_visa").hexdigest()
    assert reference is not None and reference.startswith("fake_")
    charges = await _charges(app)
    assert [(c[1], str(c[2]), c[3]) for c in charges] == [("CAPTURED", "12.50", "USD")]
    events = await _outbox(app)
    assert [kind for kind, _ in events] == ["PaymentCaptured"]
    assert events[0][1]["data"] == {
        "paymentId": result["paymentId"],
        "orderId": ORDER_ID,
        "userId": USER_ID,
        "amount": "12.50",
        "currency": "USD",
        "gateway": "fake",
        "idempotencyKey": "key-1",
    }


async def test_declined_token_uses_up_the_key(app: PaymentsApp) -> None:
    result = await app.charge(paymentToken="tok_declined")
    assert (result["status"], result["reason"]) == ("DECLINED", "Your card was declined.")
    again = await app.charge(paymentToken="tok_declined")
    assert again == result
    assert [c[1] for c in await _charges(app)] == ["DECLINED"]
    events = await _outbox(app)
    assert [kind for kind, _ in events] == ["PaymentFailed"]
    assert events[0][1]["data"]["status"] == "DECLINED"
    assert events[0][1]["data"]["reason"] == "Your card was declined."


async def test_gateway_down_fails_then_the_same_key_is_tried_again(app: PaymentsApp) -> None:
    failed = await app.charge(paymentToken="tok_error")
    assert (failed["status"], failed["reason"]) == ("FAILED", UNAVAILABLE)
    assert await _charges(app) == []
    retried = await app.charge(paymentToken="tok_visa")
    assert retried["status"] == "CAPTURED"
    assert retried["paymentId"] == failed["paymentId"]
    rows = await app.sql("SELECT status, attempt, reason FROM payments")
    assert rows == [("CAPTURED", 2, None)]
    assert [c[1] for c in await _charges(app)] == ["CAPTURED"]
    kinds = [(kind, body["data"].get("status")) for kind, body in await _outbox(app)]
    assert kinds == [("PaymentFailed", "FAILED"), ("PaymentCaptured", None)]


async def test_same_key_twice_charges_once(app: PaymentsApp) -> None:
    first = await app.charge()
    second = await app.charge()
    assert second == first
    assert len(await _charges(app)) == 1
    assert [kind for kind, _ in await _outbox(app)] == ["PaymentCaptured"]


async def test_twenty_concurrent_calls_with_one_key_charge_once(app: PaymentsApp) -> None:
    results = await asyncio.gather(*(app.charge() for _ in range(20)))
    assert {r["status"] for r in results} == {"CAPTURED"}
    assert len({r["paymentId"] for r in results}) == 1
    assert len(await _charges(app)) == 1
    assert len(await app.sql("SELECT id FROM payments")) == 1
    assert [kind for kind, _ in await _outbox(app)] == ["PaymentCaptured"]


async def test_a_reused_key_with_another_charge_is_refused(app: PaymentsApp) -> None:
    first = await app.charge()
    for change in (
        {"paymentToken": "tok_other"},
        {"amount": "12.51"},
        {"currency": "EUR"},
        {"orderId": "0c9a7d12-4b3e-4f5a-8c6d-7e8f9a0b1c2d"},
    ):
        reused = await app.charge(**change)
        assert reused == {
            "paymentId": None,
            "status": None,
            "reason": None,
            "tokenReused": True,
        }, change
    assert len(await _charges(app)) == 1
    assert (await app.charge())["paymentId"] == first["paymentId"]


async def test_a_lost_answer_is_pending_until_settled(app: PaymentsApp) -> None:
    app.gateway.response_gate = asyncio.Event()  # the gateway acts but never answers
    pending = await app.charge()
    assert pending["status"] == "PENDING"
    # the gateway holds the amount, but neither its answer nor the lookup's came back
    assert await app.sql("SELECT status FROM payments") == [("PENDING",)]
    assert [c[1] for c in await _charges(app)] == ["AUTHORIZED"]
    assert await _outbox(app) == []
    app.gateway.response_gate = None  # the gateway answers again
    settled = await app.settle("key-1")
    assert settled["status"] == "CAPTURED"
    assert settled["paymentId"] == pending["paymentId"]
    assert [c[1] for c in await _charges(app)] == ["CAPTURED"]
    assert [kind for kind, _ in await _outbox(app)] == ["PaymentCaptured"]
    assert await app.charge() == settled  # the key now answers the settled payment


async def test_settle_an_unknown_key_says_nothing_was_charged(app: PaymentsApp) -> None:
    result = await app.settle("never-used")
    assert result == {"paymentId": None, "status": None, "reason": None, "tokenReused": False}


async def test_the_outbox_row_commits_with_the_final_status(app: PaymentsApp) -> None:
    """The status and its event are one transaction: neither is seen without the other."""
    result = await app.charge()

    async def both() -> list[Any]:
        return await app.sql(
            "SELECT p.status, o.type FROM payments p JOIN event_outbox o "
            "ON o.body->'data'->>'paymentId' = p.id::text"
        )

    assert await eventually(both) == [("CAPTURED", "PaymentCaptured")]
    assert result["status"] == "CAPTURED"


async def test_charge_order_is_for_services_only(app: PaymentsApp) -> None:
    body = await app.post(CHARGE, {"input": charge_input()}, customer_token(USER_ID))
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await app.sql("SELECT id FROM payments") == []


async def test_bad_input_is_a_coded_error_naming_the_field(app: PaymentsApp) -> None:
    for change, field in (
        ({"amount": "-1"}, ["input", "amount"]),
        ({"amount": "1.001"}, ["input", "amount"]),
        ({"amount": "lots"}, ["input", "amount"]),
        ({"currency": "XYZ"}, ["input", "currency"]),
        ({"orderId": "nope"}, ["input", "orderId"]),
        ({"idempotencyKey": " "}, ["input", "idempotencyKey"]),
        ({"paymentToken": ""}, ["input", "paymentToken"]),
        ({"paymentToken": " \t "}, ["input", "paymentToken"]),
    ):
        body = await app.post(CHARGE, {"input": charge_input(**change)}, service_token())
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", change
        assert error["extensions"]["field"] == field, change
    assert await app.sql("SELECT id FROM payments") == []


async def test_an_amount_is_a_plain_ascii_decimal(app: PaymentsApp) -> None:
    # Each of these is a valid Python Decimal (1000, 12, 100): not a valid amount here.
    for amount in ("1_000", "\u0661\u0662", "1E+2", " 12.50", "12.50\n", "+5", "5.", ".5"):
        body = await app.post(CHARGE, {"input": charge_input(amount=amount)}, service_token())
        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", amount
        assert error["extensions"]["field"] == ["input", "amount"], amount
        assert error["message"] == '`input.amount` must be a plain decimal such as "12.50"'
    assert await app.sql("SELECT id FROM payments") == []
    assert await _charges(app) == []


async def test_a_second_caller_waits_for_the_first_then_answers_pending(app: PaymentsApp) -> None:
    app.gateway.response_gate = asyncio.Event()
    first = asyncio.ensure_future(app.charge())
    await eventually(lambda: _held(app))
    second = await app.charge()  # waits charge_wait for the first, which is still at the gate
    assert second["status"] == "PENDING"
    app.gateway.response_gate.set()
    assert (await first)["paymentId"] == second["paymentId"]
    assert len(await _charges(app)) == 1


async def _held(app: PaymentsApp) -> bool:
    return app.gateway.held > 0


async def test_settle_leaves_a_fresh_payment_alone_when_the_gateway_has_nothing(
    app: PaymentsApp,
) -> None:
    """The charging caller may still be talking to the gateway: not FAILED yet."""
    await app.sql(
        "INSERT INTO payments (id, order_id, user_id, idempotency_key, token_hash, amount, "
        "currency_code, gateway, status) VALUES (gen_random_uuid(), :order, :user, 'fresh', "
        "'x', 5, 'USD', 'fake', 'PENDING')",
        order=ORDER_ID,
        user=USER_ID,
    )
    assert (await app.settle("fresh"))["status"] == "PENDING"
    assert await app.sql("SELECT status FROM payments") == [("PENDING",)]
    assert await _outbox(app) == []


async def test_no_captured_status_without_its_event(app: PaymentsApp) -> None:
    """The final status and its outbox row commit together: when the outbox write fails, the
    status is not written either, and a later settle writes both."""
    await app.sql(
        "CREATE OR REPLACE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'outbox refused'; END $$"
    )
    await app.sql(
        "CREATE TRIGGER refuse_event BEFORE INSERT ON event_outbox "
        "FOR EACH ROW EXECUTE FUNCTION refuse_event()"
    )
    try:
        body = await app.post(CHARGE, {"input": charge_input()}, service_token())
    finally:
        await app.sql("DROP TRIGGER refuse_event ON event_outbox")
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert await app.sql("SELECT status FROM payments") == [("AUTHORIZED",)]
    assert [c[1] for c in await _charges(app)] == ["CAPTURED"]
    assert await _outbox(app) == []
    settled = await app.settle("key-1")
    assert settled["status"] == "CAPTURED"
    assert [kind for kind, _ in await _outbox(app)] == ["PaymentCaptured"]


async def test_an_order_takes_at_most_twenty_attempts(app: PaymentsApp) -> None:
    for n in range(MAX_ATTEMPTS_PER_ORDER):
        declined = await app.charge(idempotencyKey=f"d-{n}", paymentToken="tok_declined")
        assert declined["status"] == "DECLINED"
    body = await app.post(CHARGE, {"input": charge_input(idempotencyKey="d-last")}, service_token())
    assert body["data"] is None
    [error] = body["errors"]
    assert (error["extensions"]["code"], error["message"]) == (
        "PAYMENT_ATTEMPTS_EXCEEDED",
        "The order has had 20 payment attempts, the most allowed; nothing was charged",
    )
    assert len(await _charges(app)) == MAX_ATTEMPTS_PER_ORDER
    assert await app.sql("SELECT count(*) FROM payments") == [(MAX_ATTEMPTS_PER_ORDER,)]
    # a key already used still answers its attempt; another order is not concerned
    again = await app.charge(idempotencyKey="d-0", paymentToken="tok_declined")
    assert again["status"] == "DECLINED"
    other = "0e7c1a53-54d8-4c4f-9b0a-5f8d3c2e1a77"
    assert (await app.charge(orderId=other, idempotencyKey="o-1"))["status"] == "CAPTURED"
