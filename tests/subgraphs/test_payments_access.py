"""Who sees an order's payments (Order.payment / Order.payments, Payment by key), and the
periodic sweep that settles payments left in flight."""

from __future__ import annotations

import asyncio
import os

from payments_helpers import (  # noqa: F401 (the *_fixture functions are fixtures)
    ORDER_ID,
    ORDER_PAYMENTS,
    USER_ID,
    PaymentsApp,
    admin_token,
    app_fixture,
    customer_token,
    payments_fixture,
    payments_nats_fixture,
    service_token,
)

from subgraphs.payments.charging import PaymentsServices, settle_stale
from subgraphs.payments.settings import PaymentsSettings

PAYMENT = """
query One($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Payment { id status order { id } } }
}
"""


async def _order(app: PaymentsApp, token: str | None) -> dict[str, object]:
    reps = [{"__typename": "Order", "id": ORDER_ID}]
    body = await app.post(ORDER_PAYMENTS, {"reps": reps}, token)
    assert "errors" not in body, body
    order: dict[str, object] = body["data"]["_entities"][0]
    return order


async def _declined_then_captured(app: PaymentsApp) -> tuple[str, str]:
    declined = await app.charge(paymentToken="tok_declined", idempotencyKey="first")
    captured = await app.charge(idempotencyKey="second")
    return declined["paymentId"], captured["paymentId"]


async def test_the_owner_admins_and_services_see_the_payments(app: PaymentsApp) -> None:
    declined, captured = await _declined_then_captured(app)
    for token in (customer_token(USER_ID), admin_token(), service_token()):
        order = await _order(app, token)
        assert order["payment"] == {
            "id": captured,
            "status": "CAPTURED",
            "gateway": "fake",
            "reason": None,
            "amount": {"amount": "12.50", "currencyCode": "USD"},
        }
        assert order["payments"] == [
            {"id": captured, "status": "CAPTURED"},
            {"id": declined, "status": "DECLINED"},
        ]


async def test_another_customer_and_a_guest_see_none(app: PaymentsApp) -> None:
    await _declined_then_captured(app)
    for token in (customer_token(), None):
        order = await _order(app, token)
        assert (order["payment"], order["payments"]) == (None, [])


async def test_the_latest_attempt_when_none_was_captured(app: PaymentsApp) -> None:
    await app.charge(paymentToken="tok_declined", idempotencyKey="first")
    await asyncio.sleep(0.01)  # distinct created_at: "latest" must not be a coin toss
    failed = await app.charge(paymentToken="tok_error", idempotencyKey="second")
    order = await _order(app, customer_token(USER_ID))
    assert order["payment"]["id"] == failed["paymentId"]  # type: ignore[index]
    assert order["payment"]["status"] == "FAILED"  # type: ignore[index]


async def test_an_order_without_payments(app: PaymentsApp) -> None:
    order = await _order(app, admin_token())
    assert (order["payment"], order["payments"]) == (None, [])


async def test_payment_by_key_for_its_owner_only(app: PaymentsApp) -> None:
    paid = await app.charge()
    reps = [{"__typename": "Payment", "id": paid["paymentId"]}]
    mine = await app.post(PAYMENT, {"reps": reps}, customer_token(USER_ID))
    assert mine["data"]["_entities"] == [
        {"id": paid["paymentId"], "status": "CAPTURED", "order": {"id": ORDER_ID}}
    ]
    theirs = await app.post(PAYMENT, {"reps": reps}, customer_token())
    assert theirs["data"]["_entities"] == [None]


async def test_the_sweep_settles_a_stale_payment(app: PaymentsApp) -> None:
    app.gateway.response_gate = asyncio.Event()
    pending = await app.charge()
    assert pending["status"] == "PENDING"
    app.gateway.response_gate = None
    settings = PaymentsSettings.from_env(os.environ, pending_ttl=0.001, timeout=1.0)
    services = PaymentsServices(app.db, app.gateway, settings)
    assert await settle_stale(services) == 1
    assert await app.sql("SELECT status FROM payments") == [("CAPTURED",)]
    assert await settle_stale(services) == 0


async def test_settle_fails_a_payment_the_gateway_never_saw_once_it_is_stale(
    app: PaymentsApp,
) -> None:
    await app.sql(
        "INSERT INTO payments (id, order_id, user_id, idempotency_key, token_hash, amount, "
        "currency_code, gateway, status, updated_at) VALUES (gen_random_uuid(), :order, :user, "
        "'lost', 'x', 5, 'USD', 'fake', 'PENDING', now() - interval '1 hour')",
        order=ORDER_ID,
        user=USER_ID,
    )
    settled = await app.settle("lost")
    assert settled["status"] == "FAILED"
    assert settled["reason"] == "The gateway has no charge for this payment; nothing was charged"
    kinds = await app.sql("SELECT type, body->'data'->>'status' FROM event_outbox")
    assert kinds == [("PaymentFailed", "FAILED")]
