"""The inventory subgraph as a Quart app; it also expires overdue reservations and consumes
OrderPaid / OrderCancelled (consumers.py)."""

from __future__ import annotations

import os

from quart import Quart

from subgraphs.common.app import PeriodicJob, SubgraphSpec, create_subgraph_app
from subgraphs.common.auth import TokenCodec
from subgraphs.common.database import Database
from subgraphs.common.events import EventsSpec
from subgraphs.common.migrations import migrations_of

from . import stock
from .consumers import CONSUMERS
from .schema import schema

NAME = "inventory"
MIGRATIONS = migrations_of(__package__)


def create_app(
    database_url: str, codec: TokenCodec | None = None, sweep_interval: float | None = None
) -> Quart:
    """`sweep_interval` seconds between expiry sweeps (0 disables; env SHOPGRAPH_SWEEP_SECONDS)."""
    if sweep_interval is None:
        sweep_interval = float(os.environ.get("SHOPGRAPH_SWEEP_SECONDS", "10"))
    db = Database(database_url)

    async def sweep() -> None:
        await stock.release_expired(db)

    spec = SubgraphSpec(
        name=NAME,
        schema=schema,
        migrations=MIGRATIONS,
        database_url=database_url,
        codec=codec or TokenCodec.from_env(),
        jobs=[PeriodicJob("expire-reservations", sweep_interval, sweep)],
        events=EventsSpec(consumers=CONSUMERS),
        live_topics=[stock.LIVE_TOPIC],
    )
    return create_subgraph_app(spec, db)
