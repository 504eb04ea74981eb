"""The suggestions subgraph as a Quart app: its consumers keep the counts fresh, a
process pool recomputes them at start and every SHOPGRAPH_SUGGESTIONS_RECOMPUTE_SECONDS,
and the products' categories are refreshed every SHOPGRAPH_SUGGESTIONS_CATALOGUE_SECONDS."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from typing import Any

from quart import Quart

from subgraphs.common.app import PeriodicJob, SubgraphSpec, create_subgraph_app
from subgraphs.common.auth import TokenCodec
from subgraphs.common.database import Database
from subgraphs.common.errors import log_unexpected
from subgraphs.common.events import EventsSpec
from subgraphs.common.migrations import migrations_of
from subgraphs.common.service_client import GraphQLClient

from .catalogue import Catalogue, logger
from .consumers import CONSUMERS
from .recompute import Recomputer
from .schema import schema
from .services import SuggestionsServices
from .settings import SuggestionsSettings

NAME = "suggestions"
MIGRATIONS = migrations_of(__package__)


def create_app(database_url: str, *, codec: TokenCodec | None = None, **options: Any) -> Quart:
    """The suggestions app on `database_url`; `options` override SuggestionsSettings
    fields (products_url, workers, recompute_seconds, ...), the rest comes from the
    environment."""
    config = SuggestionsSettings.from_env(os.environ, **options)
    codec = codec or TokenCodec.from_env()
    client = GraphQLClient(config.products_url, codec, config.upstream_timeout, NAME)
    services = SuggestionsServices(Catalogue(client), Recomputer(database_url, config.workers))
    db = Database(database_url)
    startup = _Startup(services, db, recompute=config.recompute_seconds > 0)
    spec = SubgraphSpec(
        name=NAME,
        schema=schema,
        migrations=MIGRATIONS,
        database_url=database_url,
        codec=codec,
        services=services,
        jobs=[
            PeriodicJob("recompute", config.recompute_seconds, services.recomputer.run),
            PeriodicJob("catalogue", config.catalogue_seconds, _refresh(services.catalogue, db)),
        ],
        on_stop=[startup.cancel, services.recomputer.close, client.close],
        events=EventsSpec(consumers=CONSUMERS) if config.events else None,
    )
    app = create_subgraph_app(spec, db)
    app.before_serving(startup.start)  # after the app's own hook: the tables exist
    return app


def _refresh(catalogue: Catalogue, db: Database) -> Callable[[], Awaitable[None]]:
    async def refresh() -> None:
        await catalogue.refresh(db)

    return refresh


class _Startup:
    """The first recompute (if recomputing is on) and catalogue refresh, run in the
    background at start so that serving does not wait for them."""

    def __init__(self, services: SuggestionsServices, db: Database, *, recompute: bool) -> None:
        self.services = services
        self.db = db
        self.recompute = recompute
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the background work."""
        self.task = asyncio.create_task(self._run(), name="suggestions-startup")

    async def _run(self) -> None:
        try:
            if self.recompute:
                await self.services.recomputer.run()
            await self.services.catalogue.refresh(self.db)
        except Exception as error:
            log_unexpected(logger, "suggestions: the start-up recompute failed", error=error)

    async def cancel(self) -> None:
        """Stop waiting for it (the pool finishes it when it closes)."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
