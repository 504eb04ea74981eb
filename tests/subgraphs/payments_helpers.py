"""The payments subgraph on a real port for its tests, with its fake gateway, a real
nats-server, and the chargeOrder / settlePayment calls orders makes.

Until the shared stack (conftest) serves payments, these fixtures start it themselves:
one nats-server per session, one payments app per test module, empty tables per test
(`app`). Test modules import the *_fixture functions to use them.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from subgraphs.common.auth import ADMIN, CUSTOMER, SERVICE, TokenCodec
from subgraphs.common.database import Database, database_url
from subgraphs.common.events.server import NatsServer
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.payments.app import create_app
from subgraphs.payments.gateways.fake import FakeGateway
from tests.broker import start_nats

# Our own secret, so these tests do not depend on the shared stack's modules.
_SECRET = secrets.token_urlsafe(32)
CODEC = TokenCodec("HS256", _SECRET, _SECRET)
TABLES = ("payments", "fake_gateway_charges", "event_outbox", "event_handled")
# Short enough that a gated (slow) gateway makes a test wait seconds, not tens of them.
TIMEOUT = 1.0

CHARGE = """
mutation Charge($input: ChargeOrderInput!) {
  chargeOrder(input: $input) { paymentId status reason tokenReused }
}
"""
SETTLE = """
mutation Settle($key: String!) {
  settlePayment(idempotencyKey: $key) { paymentId status reason tokenReused }
}
"""
ORDER_PAYMENTS = """
query Payments($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Order {
      id
      payment { id status gateway reason amount { amount currencyCode } }
      payments { id status }
    }
  }
}
"""


def service_token() -> str:
    """A token of the orders service, as orders calls payments with."""
    return CODEC.issue("orders", SERVICE)


def customer_token(user_id: str | None = None) -> str:
    """A customer's token (a fresh user unless `user_id`)."""
    return CODEC.issue(user_id or str(uuid.uuid4()), CUSTOMER)


def admin_token() -> str:
    """An administrator's token."""
    return CODEC.issue(str(uuid.uuid4()), ADMIN)


@dataclass
class PaymentsApp:
    """The running payments subgraph, its database and its fake gateway."""

    http: httpx.AsyncClient
    server: RunningServer
    db: Database
    gateway: FakeGateway

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The JSON body of a 200 answer to `query`."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            self.server.graphql_url,
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def charge(self, **given: Any) -> dict[str, Any]:
        """chargeOrder as orders calls it (service token); `given` overrides the input."""
        body = await self.post(CHARGE, {"input": charge_input(**given)}, service_token())
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["chargeOrder"]
        return result

    async def settle(self, key: str) -> dict[str, Any]:
        """settlePayment(key) with a service token."""
        body = await self.post(SETTLE, {"key": key}, service_token())
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["settlePayment"]
        return result

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        """Rows of `statement` on the payments database."""
        async with self.db.engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []


ORDER_ID = "7b0d7a4e-2c1f-4c8e-9d55-0a4d1c3e2f10"
USER_ID = "5a1e9c3b-8d2f-4e6a-b7c1-3f9e2d4a6b80"


def charge_input(**given: Any) -> dict[str, Any]:
    """A chargeOrder input for ORDER_ID of USER_ID, 12.50 USD, approved token."""
    return {
        "orderId": ORDER_ID,
        "userId": USER_ID,
        "amount": "12.50",
        "currency": "USD",
        "idempotencyKey": "key-1",
        "paymentToken": "tok_visa",
        **given,
    }


@pytest.fixture(scope="session", name="payments_nats")
def payments_nats_fixture() -> Iterator[NatsServer]:
    """A nats-server for the payments tests (the app's relay and refund consumer)."""
    server = start_nats(Path(tempfile.mkdtemp(prefix="sgpay-nats-")))
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module", name="payments")
async def payments_fixture(
    pg_server_url: str, payments_nats: NatsServer
) -> AsyncIterator[PaymentsApp]:
    """The payments subgraph with a FakeGateway, on its own database and port."""
    url = database_url(pg_server_url, "payments", prefix=f"sgpay{uuid.uuid4().hex[:8]}")
    gateway_db = Database(url)
    gateway = FakeGateway(gateway_db)
    previous = os.environ.get("SHOPGRAPH_NATS_URL")
    os.environ["SHOPGRAPH_NATS_URL"] = payments_nats.url
    # The events runtime reads the broker's URL when serving starts, so it stays set until then.
    try:
        app = create_app(
            url, codec=CODEC, gateway=gateway, timeout=TIMEOUT, charge_wait=3.0, sweep_interval=0
        )
        server = await start_server(app)
    finally:
        if previous is None:
            os.environ.pop("SHOPGRAPH_NATS_URL", None)
        else:
            os.environ["SHOPGRAPH_NATS_URL"] = previous
    db = Database(url)
    async with httpx.AsyncClient(timeout=60) as http:
        yield PaymentsApp(http, server, db, gateway)
    await server.stop()
    await db.dispose()
    await gateway_db.dispose()


@pytest_asyncio.fixture(name="app")
async def app_fixture(payments: PaymentsApp) -> PaymentsApp:
    """The payments app with empty tables and an open gateway."""
    await payments.sql(f"TRUNCATE {', '.join(TABLES)}")
    payments.gateway.response_gate = None
    return payments
