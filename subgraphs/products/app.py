"""The products subgraph as a Quart app."""

from __future__ import annotations

from pathlib import Path

from quart import Quart

from subgraphs.common.app import SubgraphSpec, create_subgraph_app
from subgraphs.common.auth import TokenCodec

from .schema import schema

NAME = "products"
MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(database_url: str, codec: TokenCodec | None = None) -> Quart:
    spec = SubgraphSpec(
        name=NAME,
        schema=schema,
        migrations=MIGRATIONS,
        database_url=database_url,
        codec=codec or TokenCodec.from_env(),
    )
    return create_subgraph_app(spec)
