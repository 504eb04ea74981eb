"""StripeGateway's contract, against the local stand-in (real HTTP, the official client):
the exact requests it sends, the decline mapping, capture, refund, lookup, and an
unreachable Stripe; then chargeOrder end to end with SHOPGRAPH_PAYMENT_GATEWAY=stripe."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio
from payments_helpers import CODEC, TIMEOUT, charge_input, payments_nats_fixture, service_token
from stripe_standin import Received, StripeState, stripe_standin

from subgraphs.common.database import database_url
from subgraphs.common.events.server import NatsServer
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.payments.app import create_app
from subgraphs.payments.gateways.base import GatewayPayment, GatewayUnavailable
from subgraphs.payments.gateways.stripe import StripeGateway
from tests.broker import free_port

API_KEY = f"sk_test_{uuid.uuid4().hex}"
KEY = "pay-11111111-2222-3333-4444-555555555555-1"
ORDER = "7b0d7a4e-2c1f-4c8e-9d55-0a4d1c3e2f10"
_ = payments_nats_fixture  # a fixture this module uses


@pytest_asyncio.fixture(scope="module", name="standin")
async def standin_fixture() -> AsyncIterator[tuple[StripeState, RunningServer]]:
    state = StripeState(API_KEY)
    server = await start_server(stripe_standin(state))
    yield state, server
    await server.stop()


@pytest.fixture(name="stripe")
def stripe_fixture(standin: tuple[StripeState, RunningServer]) -> Iterator[StripeState]:
    state, _server = standin
    state.intents.clear()
    state.refunds.clear()
    state.replies.clear()
    state.received.clear()
    state.ids = itertools.count(1)
    yield state


@pytest.fixture(name="gateway")
def gateway_fixture(standin: tuple[StripeState, RunningServer]) -> StripeGateway:
    return StripeGateway(API_KEY, standin[1].url, timeout=5)


async def _authorize(gateway: StripeGateway, token: str = "pm_card_visa") -> GatewayPayment:
    return await gateway.authorize(Decimal("12.50"), "USD", token, KEY, order_id=ORDER)


def _create_form(token: str = "pm_card_visa") -> dict[str, str]:
    return {
        "amount": "1250",
        "currency": "usd",
        "capture_method": "manual",
        "confirm": "true",
        "payment_method": token,
        "metadata[idempotency_key]": KEY,
        "metadata[order_id]": ORDER,
    }


async def test_authorize_creates_a_confirmed_manual_capture_intent(
    stripe: StripeState, gateway: StripeGateway
) -> None:
    answer = await _authorize(gateway)
    assert answer == GatewayPayment("pi_1", "AUTHORIZED")
    assert stripe.received == [Received("POST", "/v1/payment_intents", KEY, _create_form())]
    assert stripe.intents["pi_1"]["status"] == "requires_capture"


async def test_the_same_key_replays_the_first_intent(
    stripe: StripeState, gateway: StripeGateway
) -> None:
    first = await _authorize(gateway)
    second = await _authorize(gateway)
    assert second == first
    assert list(stripe.intents) == ["pi_1"]


async def test_a_card_decline_is_declined_with_its_message(
    stripe: StripeState, gateway: StripeGateway
) -> None:
    answer = await _authorize(gateway, "pm_card_chargeDeclined")
    assert answer == GatewayPayment("pi_1", "DECLINED", "Your card was declined.")
    assert await gateway.find_by_idempotency_key(KEY) == answer


async def test_an_unknown_payment_method_is_declined_with_stripes_message(
    stripe: StripeState, gateway: StripeGateway
) -> None:
    answer = await _authorize(gateway, "pm_no_such_method")
    assert answer == GatewayPayment(None, "DECLINED", "No such PaymentMethod: '…'")
    assert stripe.intents == {}


async def test_another_invalid_authorization_is_declined_and_logged_as_our_error(
    stripe: StripeState, gateway: StripeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await gateway.authorize(Decimal("0.20"), "USD", "pm_card_visa", KEY)
    assert answer == GatewayPayment(None, "DECLINED", "Amount must be at least $0.50 usd")
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "stripe refused an authorization as invalid: code=amount_too_small param=amount"
    ]
    assert stripe.intents == {}


async def test_capture_then_refund(stripe: StripeState, gateway: StripeGateway) -> None:
    held = await _authorize(gateway)
    assert held.reference is not None
    captured = await gateway.capture(held.reference, Decimal("12.50"), "capture-1")
    assert captured == GatewayPayment("pi_1", "CAPTURED")
    refunded = await gateway.refund(held.reference, Decimal("12.50"), "refund-1")
    assert refunded == GatewayPayment("pi_1", "REFUNDED")
    assert stripe.received[1:] == [
        Received(
            "POST", "/v1/payment_intents/pi_1/capture", "capture-1", {"amount_to_capture": "1250"}
        ),
        Received("POST", "/v1/refunds", "refund-1", {"payment_intent": "pi_1", "amount": "1250"}),
    ]
    again = await gateway.refund(held.reference, Decimal("12.50"), "refund-1")
    assert again == refunded
    assert len(stripe.refunds) == 1  # the replayed key refunded nothing more


async def test_lookup_by_reference_and_by_key(stripe: StripeState, gateway: StripeGateway) -> None:
    held = await _authorize(gateway)
    assert await gateway.find_by_idempotency_key(KEY, reference="pi_1") == held
    assert stripe.received[-1] == Received("GET", "/v1/payment_intents/pi_1", None, {})
    assert await gateway.find_by_idempotency_key(KEY) == held
    search = stripe.received[-1]
    assert (search.method, search.path) == ("GET", "/v1/payment_intents/search")
    assert await gateway.find_by_idempotency_key("pay-unknown-1") is None


async def test_stripe_unreachable_is_gateway_unavailable() -> None:
    gateway = StripeGateway(API_KEY, f"http://127.0.0.1:{free_port()}", timeout=5)
    with pytest.raises(GatewayUnavailable):
        await _authorize(gateway)
    with pytest.raises(GatewayUnavailable):
        await gateway.find_by_idempotency_key(KEY)


async def test_a_wrong_key_is_refused_and_never_shown(
    stripe: StripeState, standin: tuple[StripeState, RunningServer]
) -> None:
    secret = "sk_test_wrong_" + uuid.uuid4().hex
    gateway = StripeGateway(secret, standin[1].url, timeout=5)
    with pytest.raises(GatewayUnavailable) as raised:
        await _authorize(gateway)
    assert secret not in str(raised.value) and secret not in repr(gateway)
    assert stripe.intents == {}


@pytest_asyncio.fixture(scope="module", name="stripe_payments")
async def stripe_payments_fixture(
    pg_server_url: str,
    payments_nats: NatsServer,
    standin: tuple[StripeState, RunningServer],
) -> AsyncIterator[RunningServer]:
    url = database_url(pg_server_url, "payments", prefix=f"sgstripe{uuid.uuid4().hex[:8]}")
    env = {
        "SHOPGRAPH_PAYMENT_GATEWAY": "stripe",
        "SHOPGRAPH_STRIPE_API_BASE": standin[1].url,
        "SHOPGRAPH_STRIPE_API_KEY": API_KEY,
        "SHOPGRAPH_NATS_URL": payments_nats.url,
    }
    previous = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        app = create_app(url, codec=CODEC, timeout=TIMEOUT, sweep_interval=0)
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    server = await start_server(app)
    yield server
    await server.stop()


async def _charge(server: RunningServer, **given: str) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            server.graphql_url,
            json={
                "query": "mutation C($input: ChargeOrderInput!) { chargeOrder(input: $input) "
                "{ paymentId status reason tokenReused } }",
                "variables": {"input": charge_input(**given)},
            },
            headers={"Authorization": f"Bearer {service_token()}"},
        )
    body = response.json()
    assert "errors" not in body, body
    result: dict[str, object] = body["data"]["chargeOrder"]
    return result


async def test_charge_order_through_stripe(
    stripe: StripeState, stripe_payments: RunningServer
) -> None:
    captured = await _charge(stripe_payments, paymentToken="pm_card_visa", idempotencyKey="s-1")
    assert (captured["status"], captured["reason"]) == ("CAPTURED", None)
    declined = await _charge(
        stripe_payments, paymentToken="pm_card_chargeDeclined", idempotencyKey="s-2"
    )
    assert (declined["status"], declined["reason"]) == ("DECLINED", "Your card was declined.")
    posts = [(r.method, r.path) for r in stripe.received]
    assert posts == [
        ("POST", "/v1/payment_intents"),
        ("POST", "/v1/payment_intents/pi_1/capture"),
        ("POST", "/v1/payment_intents"),
    ]
    assert [i["status"] for i in stripe.intents.values()] == [
        "succeeded",
        "requires_payment_method",
    ]
    assert await _charge(stripe_payments, paymentToken="pm_card_visa", idempotencyKey="s-1") == (
        captured
    )
    assert len(stripe.received) == 3  # the same key asked Stripe nothing more


async def test_charge_order_with_an_unknown_payment_method_is_declined(
    stripe: StripeState, stripe_payments: RunningServer
) -> None:
    declined = await _charge(
        stripe_payments, paymentToken="pm_typo_4242", idempotencyKey="s-missing"
    )
    assert (declined["status"], declined["reason"]) == (
        "DECLINED",
        "No such PaymentMethod: '…'",
    )
    assert stripe.intents == {}
