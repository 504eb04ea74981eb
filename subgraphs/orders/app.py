"""The orders subgraph as a Quart app; it also expires unpaid orders, settles stale
payments, publishes its events and reacts to payments' and inventory's (reactions.py)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from quart import Quart

from subgraphs.common.app import PeriodicJob, SubgraphSpec, create_subgraph_app
from subgraphs.common.auth import TokenCodec
from subgraphs.common.database import Database
from subgraphs.common.events import EventsSpec
from subgraphs.common.migrations import migrations_of

from . import lifecycle, paying
from .clients import (
    CatalogClient,
    GraphQLClient,
    InventoryClient,
    PaymentsClient,
    PromotionsClient,
)
from .order_events import LIVE_TOPIC
from .reactions import CONSUMERS
from .schema import schema
from .services import OrdersServices
from .settings import OrdersSettings

NAME = "orders"
MIGRATIONS = migrations_of(__package__)


def create_app(
    database_url: str,
    *,
    codec: TokenCodec | None = None,
    **settings: Any,
) -> Quart:
    """The orders app on `database_url`; `settings` override OrdersSettings fields, and
    what they leave unset comes from the environment (SHOPGRAPH_INVENTORY_URL, ...)."""
    config = OrdersSettings.from_env(os.environ, **settings)
    codec = codec or TokenCodec.from_env()
    services, clients = _services(config, codec)
    _check_claim_ttl(services)
    db = Database(database_url)
    spec = SubgraphSpec(
        name=NAME,
        schema=schema,
        migrations=MIGRATIONS,
        database_url=database_url,
        codec=codec,
        services=services,
        jobs=[PeriodicJob("expire-orders", config.sweep_interval, _sweep(db, services))],
        on_stop=[client.close for client in clients],
        events=EventsSpec(consumers=CONSUMERS),
        live_topics=[LIVE_TOPIC],
    )
    return create_subgraph_app(spec, db)


def _services(
    config: OrdersSettings, codec: TokenCodec
) -> tuple[OrdersServices, list[GraphQLClient]]:
    """The clients of the four subgraphs orders asks, and the services built on them."""
    inventory, products, promotions = (
        GraphQLClient(url, codec, config.upstream_timeout, NAME)
        for url in (config.inventory_url, config.products_url, config.promotions_url)
    )
    # a charge waits for payments and its gateway: payments_call_timeout, not upstream_timeout
    payments = GraphQLClient(config.payments_url, codec, config.payments_call_timeout, NAME)
    services = OrdersServices(
        inventory=InventoryClient(inventory),
        catalog=CatalogClient(products),
        promotions=PromotionsClient(promotions),
        payments=PaymentsClient(payments),
        reservation_ttl=config.reservation_ttl,
        payments_call_timeout=config.payments_call_timeout,
        payment_claim_ttl=config.payment_claim_ttl,
    )
    return services, [inventory, products, promotions, payments]


def _check_claim_ttl(services: OrdersServices) -> None:
    # A shorter TTL would let the sweep take over the claim of a payment still in progress.
    if services.payment_claim_ttl.total_seconds() <= services.claim_wait:
        raise ValueError(
            f"the payment claim TTL must exceed {services.claim_wait:g}s, the longest a "
            "payment can legitimately take with these timeouts"
        )


def _sweep(db: Database, services: OrdersServices) -> Callable[[], Awaitable[None]]:
    """The periodic job: settle stale payment claims first, then expire unpaid orders."""

    async def expire() -> None:
        await paying.recover_stale_claims(db, services)
        await lifecycle.expire_orders(db, services)

    return expire
