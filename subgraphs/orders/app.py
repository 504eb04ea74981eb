"""The orders subgraph as a Quart app; it also expires unpaid orders and settles stale payments."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import timedelta

from quart import Quart

from subgraphs.common.app import PeriodicJob, SubgraphSpec, create_subgraph_app
from subgraphs.common.auth import TokenCodec
from subgraphs.common.database import Database
from subgraphs.common.migrations import migrations_of

from . import lifecycle, paying
from .clients import CatalogClient, GraphQLClient, InventoryClient, PromotionsClient
from .payments import FakePaymentProvider, PaymentProvider
from .schema import schema
from .services import OrdersServices

NAME = "orders"
MIGRATIONS = migrations_of(__package__)
INVENTORY_URL_ENV = "SHOPGRAPH_INVENTORY_URL"
INVENTORY_URL = "http://127.0.0.1:4003/graphql"
PRODUCTS_URL_ENV = "SHOPGRAPH_PRODUCTS_URL"
PRODUCTS_URL = "http://127.0.0.1:4002/graphql"
PROMOTIONS_URL_ENV = "SHOPGRAPH_PROMOTIONS_URL"
PROMOTIONS_URL = "http://127.0.0.1:4005/graphql"


def create_app(
    database_url: str,
    *,
    inventory_url: str | None = None,
    products_url: str | None = None,
    promotions_url: str | None = None,
    codec: TokenCodec | None = None,
    payments: PaymentProvider | None = None,
    reservation_ttl: timedelta | None = None,
    upstream_timeout: float | None = None,
    sweep_interval: float | None = None,
    payment_timeout: float | None = None,
    payment_claim_ttl: timedelta | None = None,
) -> Quart:
    """Unset arguments come from the environment (SHOPGRAPH_INVENTORY_URL,
    SHOPGRAPH_PROMOTIONS_URL, ...)."""
    env = os.environ
    codec = codec or TokenCodec.from_env()
    timeout = upstream_timeout or float(env.get("SHOPGRAPH_UPSTREAM_TIMEOUT", "5"))
    inventory = _client(inventory_url or env.get(INVENTORY_URL_ENV, INVENTORY_URL), codec, timeout)
    products = _client(products_url or env.get(PRODUCTS_URL_ENV, PRODUCTS_URL), codec, timeout)
    promotions = _client(
        promotions_url or env.get(PROMOTIONS_URL_ENV, PROMOTIONS_URL), codec, timeout
    )
    services = OrdersServices(
        inventory=InventoryClient(inventory),
        catalog=CatalogClient(products),
        promotions=PromotionsClient(promotions),
        payments=payments or FakePaymentProvider(),
        reservation_ttl=reservation_ttl
        or timedelta(seconds=int(env.get("SHOPGRAPH_RESERVATION_TTL_SECONDS", "900"))),
        payment_timeout=payment_timeout or float(env.get("SHOPGRAPH_PAYMENT_TIMEOUT", "10")),
        payment_claim_ttl=payment_claim_ttl
        or timedelta(seconds=float(env.get("SHOPGRAPH_PAYMENT_CLAIM_TTL_SECONDS", "120"))),
    )
    _check_claim_ttl(services)
    if sweep_interval is None:
        sweep_interval = float(env.get("SHOPGRAPH_SWEEP_SECONDS", "10"))
    db = Database(database_url)
    spec = SubgraphSpec(
        name=NAME,
        schema=schema,
        migrations=MIGRATIONS,
        database_url=database_url,
        codec=codec,
        services=services,
        jobs=[PeriodicJob("expire-orders", sweep_interval, _sweep(db, services))],
        on_stop=[inventory.close, products.close, promotions.close],
    )
    return create_subgraph_app(spec, db)


def _client(url: str, codec: TokenCodec, timeout: float) -> GraphQLClient:
    return GraphQLClient(url, codec, timeout, NAME)


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
