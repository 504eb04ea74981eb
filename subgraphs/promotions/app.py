"""The promotions subgraph as a Quart app."""

from __future__ import annotations

from quart import Quart

from subgraphs.common.app import SubgraphSpec, create_subgraph_app
from subgraphs.common.auth import TokenCodec
from subgraphs.common.migrations import migrations_of

from .schema import schema

NAME = "promotions"
MIGRATIONS = migrations_of(__package__)


def create_app(database_url: str, codec: TokenCodec | None = None) -> Quart:
    """The promotions app on its database `database_url` (codec: from the environment)."""
    spec = SubgraphSpec(
        name=NAME,
        schema=schema,
        migrations=MIGRATIONS,
        database_url=database_url,
        codec=codec or TokenCodec.from_env(),
    )
    return create_subgraph_app(spec)
