"""The products subgraph as a Quart app; it asks inventory which products are in stock."""

from __future__ import annotations

import os
from dataclasses import dataclass

from quart import Quart

from subgraphs.common.app import SubgraphSpec, create_subgraph_app
from subgraphs.common.auth import TokenCodec
from subgraphs.common.migrations import migrations_of
from subgraphs.common.service_client import GraphQLClient

from .availability import AvailabilityClient
from .schema import schema

NAME = "products"
MIGRATIONS = migrations_of(__package__)
INVENTORY_URL_ENV = "SHOPGRAPH_INVENTORY_URL"
INVENTORY_URL = "http://127.0.0.1:4003/graphql"


@dataclass(frozen=True)
class ProductsServices:
    """What the products subgraph talks to besides its database."""

    availability: AvailabilityClient


def create_app(
    database_url: str,
    codec: TokenCodec | None = None,
    *,
    inventory_url: str | None = None,
    upstream_timeout: float | None = None,
) -> Quart:
    """Unset arguments come from the environment (SHOPGRAPH_INVENTORY_URL, ...)."""
    env = os.environ
    codec = codec or TokenCodec.from_env()
    timeout = upstream_timeout or float(env.get("SHOPGRAPH_UPSTREAM_TIMEOUT", "5"))
    url = inventory_url or env.get(INVENTORY_URL_ENV, INVENTORY_URL)
    availability = AvailabilityClient(GraphQLClient(url, codec, timeout, NAME))
    spec = SubgraphSpec(
        name=NAME,
        schema=schema,
        migrations=MIGRATIONS,
        database_url=database_url,
        codec=codec,
        services=ProductsServices(availability),
        on_stop=[availability.close],
    )
    return create_subgraph_app(spec)
