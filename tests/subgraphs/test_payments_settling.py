"""settlePayment writes FAILED only when the gateway answered that it charged nothing, and
only FAILED attempts stay out of the per-order attempt cap.

A FAILED payment may be charged again under a new gateway key, so a FAILED written while
the gateway held (or had taken) the money would charge the customer twice. Real
PostgreSQL, real HTTP, the fake gateway (the outside world); nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import orjson
import pytest
from payments_helpers import (  # noqa: F401 (the *_fixture functions are fixtures)
    ORDER_ID,
    USER_ID,
    PaymentsApp,
    app_fixture,
    payments_fixture,
    payments_nats_fixture,
)

from subgraphs.payments.charging import MAX_ATTEMPTS_PER_ORDER
from subgraphs.payments.gateways.base import GatewayPayment

NOTHING_CHARGED = "The gateway has no charge for this payment; nothing was charged"
# Older than any charging caller can still be at work (4 x the gateway timeout).
BACKDATE = "UPDATE payments SET updated_at = now() - interval '1 hour'"


async def _charges(app: PaymentsApp) -> list[Any]:
    return await app.sql("SELECT status, amount FROM fake_gateway_charges")


async def _outbox(app: PaymentsApp) -> list[tuple[str, dict[str, Any]]]:
    rows = await app.sql("SELECT type, body FROM event_outbox ORDER BY created_at")
    return [(kind, body if isinstance(body, dict) else orjson.loads(body)) for kind, body in rows]


async def _insert(app: PaymentsApp, key: str, status: str, reference: str | None) -> None:
    await app.sql(
        "INSERT INTO payments (id, order_id, user_id, idempotency_key, token_hash, amount, "
        "currency_code, gateway, status, reference) VALUES (gen_random_uuid(), :order, :user, "
        ":key, 'x', 5, 'USD', 'fake', :status, :reference)",
        order=ORDER_ID,
        user=USER_ID,
        key=key,
        status=status,
        reference=reference,
    )
    await app.sql(BACKDATE)


async def test_a_lost_capture_is_not_failed_while_the_gateway_is_silent(
    app: PaymentsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The capture happens at the provider, but its answer and every lookup are lost: settle
    must not write FAILED (a retry would charge again); it captures once the gateway answers."""
    capture = app.gateway.capture

    async def capture_then_fall_silent(
        reference: str, amount: Decimal, idempotency_key: str
    ) -> GatewayPayment:
        app.gateway.response_gate = asyncio.Event()  # from now on no answer comes back
        return await capture(reference, amount, idempotency_key)

    monkeypatch.setattr(app.gateway, "capture", capture_then_fall_silent)
    pending = await app.charge()
    assert pending["status"] == "PENDING"
    assert [(s, str(a)) for s, a in await _charges(app)] == [("CAPTURED", "12.50")]
    [(status, reference)] = await app.sql("SELECT status, reference FROM payments")
    assert status == "AUTHORIZED" and reference is not None
    await app.sql(BACKDATE)  # long quiet: the charging caller surely gave up
    silent = await app.settle("key-1")
    assert (silent["paymentId"], silent["status"]) == (pending["paymentId"], "PENDING")
    assert await app.sql("SELECT status FROM payments") == [("AUTHORIZED",)]
    assert await _outbox(app) == []
    app.gateway.response_gate = None  # the gateway answers again
    settled = await app.settle("key-1")
    assert (settled["paymentId"], settled["status"]) == (pending["paymentId"], "CAPTURED")
    assert await app.charge() == settled  # the customer's retry charges nothing more
    assert [(s, str(a)) for s, a in await _charges(app)] == [("CAPTURED", "12.50")]
    assert [kind for kind, _ in await _outbox(app)] == ["PaymentCaptured"]


async def test_settle_keeps_a_pending_payment_when_the_lookup_times_out(
    app: PaymentsApp,
) -> None:
    await _insert(app, "quiet", "PENDING", None)
    app.gateway.response_gate = asyncio.Event()  # the lookup's answer never comes
    result = await app.settle("quiet")
    assert (result["status"], result["reason"]) == ("PENDING", None)
    assert await app.sql("SELECT status FROM payments") == [("PENDING",)]
    assert await _outbox(app) == []


async def test_settle_keeps_an_authorized_payment_the_lookup_does_not_find(
    app: PaymentsApp,
) -> None:
    """An attempt with a gateway reference may hold money whatever a lookup by key says:
    it stays AUTHORIZED (capture is tried again) until the gateway answers for it."""
    await _insert(app, "held", "AUTHORIZED", "fake_not_found_by_key")
    result = await app.settle("held")
    assert (result["status"], result["reason"]) == ("PENDING", None)
    assert await app.sql("SELECT status, reference FROM payments") == [
        ("AUTHORIZED", "fake_not_found_by_key")
    ]
    assert await _outbox(app) == []


async def test_settle_fails_an_old_attempt_the_gateway_says_it_never_saw(
    app: PaymentsApp,
) -> None:
    await _insert(app, "never-reached", "PENDING", None)
    result = await app.settle("never-reached")
    assert (result["status"], result["reason"]) == ("FAILED", NOTHING_CHARGED)
    assert await app.sql("SELECT status FROM payments") == [("FAILED",)]
    [(kind, body)] = await _outbox(app)
    assert (kind, body["data"]["status"], body["data"]["reason"]) == (
        "PaymentFailed",
        "FAILED",
        NOTHING_CHARGED,
    )


async def test_failed_attempts_do_not_count_towards_the_cap(app: PaymentsApp) -> None:
    """An outage (nothing charged) must not lock the order out of paying for good."""
    for n in range(MAX_ATTEMPTS_PER_ORDER):
        failed = await app.charge(idempotencyKey=f"down-{n}", paymentToken="tok_error")
        assert failed["status"] == "FAILED"
    paid = await app.charge(idempotencyKey="after-outage")
    assert paid["status"] == "CAPTURED"
    assert [(s, str(a)) for s, a in await _charges(app)] == [("CAPTURED", "12.50")]
    assert await app.sql("SELECT status, count(*) FROM payments GROUP BY status ORDER BY 1") == [
        ("CAPTURED", 1),
        ("FAILED", MAX_ATTEMPTS_PER_ORDER),
    ]
