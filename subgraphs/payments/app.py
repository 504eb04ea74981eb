"""The payments subgraph as a Quart app: the gateway chosen by settings, the stale-payment
sweep as a periodic job, and the refund consumer on the events layer."""

from __future__ import annotations

import os
from typing import Any

from quart import Quart

from subgraphs.common.app import PeriodicJob, SubgraphSpec, create_subgraph_app
from subgraphs.common.auth import TokenCodec
from subgraphs.common.database import Database
from subgraphs.common.events import EventsSpec
from subgraphs.common.migrations import migrations_of

from .charging import PaymentsServices, settle_stale
from .gateways.base import Gateway
from .gateways.fake import FakeGateway
from .refunds import CONSUMERS
from .schema import schema
from .settings import STRIPE_KEY_ENV, PaymentSettingError, PaymentsSettings

NAME = "payments"
MIGRATIONS = migrations_of(__package__)


def configured_gateway(settings: PaymentsSettings, db: Database) -> Gateway:
    """The gateway SHOPGRAPH_PAYMENT_GATEWAY names; Stripe's key only from the environment."""
    if settings.gateway == "fake":
        return FakeGateway(db)
    from .gateways.stripe import StripeGateway  # the stripe library only when it is used

    api_key = os.environ.get(STRIPE_KEY_ENV, "").strip()
    if not api_key:
        raise PaymentSettingError(f"{STRIPE_KEY_ENV} must be set to use the stripe gateway")
    return StripeGateway(api_key, settings.stripe_api_base, timeout=settings.timeout)


def create_app(
    database_url: str,
    *,
    codec: TokenCodec | None = None,
    gateway: Gateway | None = None,
    **settings: Any,
) -> Quart:
    """The payments app on `database_url`; `gateway` (tests) replaces the configured one,
    `settings` override PaymentsSettings' environment values (timeout=, sweep_interval=...)."""
    chosen = PaymentsSettings.from_env(os.environ, **settings)
    db = Database(database_url)
    services = PaymentsServices(db, gateway or configured_gateway(chosen, db), chosen)
    spec = SubgraphSpec(
        name=NAME,
        schema=schema,
        migrations=MIGRATIONS,
        database_url=database_url,
        codec=codec or TokenCodec.from_env(),
        services=services,
        jobs=[PeriodicJob("payments-sweep", chosen.sweep_interval, lambda: settle_stale(services))],
        events=EventsSpec(consumers=CONSUMERS),
    )
    return create_subgraph_app(spec, db)
