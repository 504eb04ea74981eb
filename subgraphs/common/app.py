"""The Quart app factory every subgraph uses: /graphql, /health, migrations on start.

Every request is bounded: its body by SHOPGRAPH_SUBGRAPH_MAX_BODY_BYTES (the
router's default, 2 MiB; larger is a 413 PAYLOAD_TOO_LARGE before any of it is
parsed), its document by the operation limits (`limits.py`), its execution by
a resolution budget and a deadline (`budget.py`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import strawberry
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from quart import Quart, Response, request, websocket
from werkzeug.exceptions import HTTPException

from router.config import LimitsConfig, TrafficConfig
from router.errors import coded_error
from router.health import MEDIA_TYPE as HEALTH_MEDIA_TYPE
from router.health import Check, health_answer

from .auth import Auth, TokenCodec
from .budget import (
    ExecutionBudget,
    ExecutionStopped,
    quiet_dropped_field_coroutines,
    within_budget,
)
from .context import Context
from .database import Database, ensure_database
from .endpoint import GraphQLEndpoint, RequestError
from .errors import log_unexpected
from .events import EventsRuntime, EventsSpec
from .live import LiveHub
from .migrations import migrate
from .settings import positive_int
from .shutdown import stop_tasks, within
from .ws import GraphQLWebSocket

logger = logging.getLogger("shopgraph.app")

JSON = "application/json"
ENV_MAX_BODY_BYTES = "SHOPGRAPH_SUBGRAPH_MAX_BODY_BYTES"
# The router refuses larger bodies itself; its own fetches stay well below (an
# `_entities` batch of 10,000 representations is about 600 KB).
DEFAULT_MAX_BODY_BYTES = TrafficConfig().max_body_bytes


@dataclass(frozen=True)
class PeriodicJob:
    """Background work (e.g. expiring reservations) run every `interval` seconds."""

    name: str
    interval: float
    run: Callable[[], Awaitable[Any]]


@dataclass
class SubgraphSpec:
    """What makes one subgraph: its schema, database, migrations, services and jobs."""

    name: str
    schema: strawberry.federation.Schema
    migrations: Path
    database_url: str
    codec: TokenCodec = field(default_factory=TokenCodec.from_env)
    services: Any = None
    jobs: Sequence[PeriodicJob] = ()
    on_stop: Sequence[Callable[[], Awaitable[None]]] = ()
    # None: the router's limits (limits.py), or SHOPGRAPH_SUBGRAPH_LIMITS
    limits: LimitsConfig | None = None
    # None: budget.py's defaults, or SHOPGRAPH_SUBGRAPH_MAX_RESOLUTIONS / _TIMEOUT_SECONDS
    budget: ExecutionBudget | None = None
    # None: DEFAULT_MAX_BODY_BYTES, or SHOPGRAPH_SUBGRAPH_MAX_BODY_BYTES
    max_body_bytes: int | None = None
    # None: no events; otherwise the outbox relay and these consumers run while serving
    events: EventsSpec | None = None
    # The live-update topics its subscriptions watch (live.py: shop.live.<topic>.<key>)
    live_topics: Sequence[str] = ()


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, content_type=JSON)


def max_body_bytes_setting() -> int:
    """SHOPGRAPH_SUBGRAPH_MAX_BODY_BYTES as a positive integer (the default if unset)."""
    return positive_int(os.environ, ENV_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES)


async def _run_periodically(job: PeriodicJob) -> None:
    while True:
        await asyncio.sleep(job.interval)
        try:
            await job.run()
        except Exception as exc:
            log_unexpected(logger, "periodic job %s failed", job.name, error=exc)


def create_subgraph_app(spec: SubgraphSpec, db: Database | None = None) -> Quart:
    """The Quart app serving `spec`: /graphql (POST, and GET for queries), /health,
    migrations and periodic jobs while it serves, JSON errors for anything unexpected.

    `db` lets the caller share its Database with the app's jobs; by default one is
    made from `spec.database_url`. A bad limit setting raises LimitsSettingError here.
    """
    app = Quart(spec.name)
    database = db or Database(spec.database_url)
    database.live = LiveHub(spec.name, spec.live_topics)
    handler = _GraphQLHandler(
        spec=spec,
        database=database,
        endpoint=GraphQLEndpoint(spec.schema, spec.limits),
        budget=spec.budget or ExecutionBudget.from_env(),
    )
    max_body = spec.max_body_bytes or max_body_bytes_setting()
    # Quart refuses a larger declared length at once and stops reading a longer stream.
    app.config["MAX_CONTENT_LENGTH"] = max_body
    quiet_dropped_field_coroutines()
    app.config["SHOPGRAPH_DB"] = database
    app.config["SHOPGRAPH_SPEC"] = spec
    _serve_lifecycle(app, spec, database)
    _graphql_routes(app, handler)
    _websocket_route(app, handler, max_body)
    _health_route(app, spec, database)
    _metrics_route(app)
    _error_handler(app, spec.name, max_body)
    return app


def _serve_lifecycle(app: Quart, spec: SubgraphSpec, database: Database) -> None:
    """Migrate and start the jobs (and events) before serving; stop them and the hooks after."""
    tasks: list[asyncio.Task[None]] = []
    # Made at start, so the broker settings are read from the environment of the serving process.
    events: list[EventsRuntime] = []

    @app.before_serving
    async def start() -> None:
        await ensure_database(database.url)
        await migrate(database.engine, spec.migrations)
        tasks.extend(
            asyncio.create_task(_run_periodically(job), name=job.name)
            for job in spec.jobs
            if job.interval > 0
        )
        if spec.events is not None:
            events.append(EventsRuntime(spec.name, database, spec.events, spec.services))
            await events[0].start()
            database.live.start(events[0].broker)

    @app.after_serving
    async def stop() -> None:
        await stop_tasks(tasks, f"{spec.name} jobs")
        await database.live.stop()
        for runtime in events:
            await runtime.stop()
        for hook in spec.on_stop:
            await within(hook(), f"{spec.name}: a stop hook")
        await within(database.dispose(), f"{spec.name}: closing the pool")


@dataclass(frozen=True)
class _GraphQLHandler:
    """One GraphQL request's execution under the budget, answered as JSON."""

    spec: SubgraphSpec
    database: Database
    endpoint: GraphQLEndpoint
    budget: ExecutionBudget

    async def __call__(self, payload: Any, allow_mutations: bool) -> Response:
        context = self.context(
            Auth.from_header(request.headers.get("Authorization"), self.spec.codec),
            request.remote_addr,
            request.headers.getlist("X-Forwarded-For"),
        )
        try:
            return _json(
                await within_budget(
                    self.budget,
                    lambda: self.endpoint.run(payload, context, allow_mutations=allow_mutations),
                )
            )
        except RequestError as error:
            return _json(error.body, status=400)
        except ExecutionStopped as stopped:
            logger.warning("%s: request stopped: %s", self.spec.name, stopped.code)
            return _json(stopped.body)

    def context(self, auth: Auth, peer: str | None, forwarded_for: list[str]) -> Context:
        """A new per-operation context for a caller with `auth`."""
        return Context(
            db=self.database,
            auth=auth,
            services=self.spec.services,
            peer=peer,
            forwarded_for=", ".join(forwarded_for) or None,
        )


def _bad_request(message: str) -> Response:
    return _json({"errors": [coded_error(message, "BAD_REQUEST")]}, 400)


def _graphql_routes(app: Quart, handle: _GraphQLHandler) -> None:
    """POST runs any operation; GET (a link, a prefetch) runs queries only."""

    @app.post("/graphql")
    async def graphql_post() -> Response:
        try:
            payload = orjson.loads(await request.get_data())
        except orjson.JSONDecodeError:
            return _bad_request("Request body is not valid JSON")
        return await handle(payload, allow_mutations=True)

    @app.get("/graphql")
    async def graphql_get() -> Response:
        args = request.args
        payload: dict[str, Any] = {
            "query": args.get("query"),
            "operationName": args.get("operationName"),
        }
        if args.get("variables"):
            try:
                payload["variables"] = orjson.loads(args["variables"])
            except orjson.JSONDecodeError:
                return _bad_request("`variables` is not valid JSON")
        return await handle(payload, allow_mutations=False)


def _websocket_route(app: Quart, handle: _GraphQLHandler, max_body: int) -> None:
    """graphql-transport-ws on the same path (ws.py): subscriptions and single results."""

    @app.websocket("/graphql")
    async def graphql_ws() -> None:
        peer = websocket.remote_addr
        forwarded = websocket.headers.getlist("X-Forwarded-For")
        connection = GraphQLWebSocket(
            handle.endpoint,
            handle.budget,
            handle.spec.codec,
            lambda auth: handle.context(auth, peer, forwarded),
            max_body,
        )
        await connection.serve()


def _health_route(app: Quart, spec: SubgraphSpec, database: Database) -> None:
    @app.get("/health")
    async def health() -> Response:
        reachable = await database.ping()
        database_check = Check(reachable, None if reachable else "no answer to SELECT 1 in 2 s")
        status, body = health_answer(spec.name, {"database": database_check})
        return Response(body, status=status, content_type=HEALTH_MEDIA_TYPE)


def _metrics_route(app: Quart) -> None:
    """Prometheus text: the events counters (labelled by service) and process metrics."""

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), status=200, content_type=CONTENT_TYPE_LATEST)


def _error_handler(app: Quart, name: str, max_body: int) -> None:
    """HTTP errors keep their status with a coded body; anything else is a logged 500."""

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            code = error.code or 500
            if code == 413:
                message = f"Request body larger than {max_body} bytes."
                return _json({"errors": [coded_error(message, "PAYLOAD_TOO_LARGE")]}, code)
            return _json({"errors": [coded_error(error.name, "BAD_REQUEST")]}, code)
        log_unexpected(logger, "unhandled error in %s", name, error=error)
        return _json(
            {"errors": [coded_error("Internal server error", "INTERNAL_SERVER_ERROR")]}, 500
        )
