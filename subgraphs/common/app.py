"""The Quart app factory every subgraph uses: /graphql, /health, migrations on start."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import strawberry
from quart import Quart, Response, request
from werkzeug.exceptions import HTTPException

from router.config import LimitsConfig

from .auth import Auth, TokenCodec
from .context import Context
from .database import Database, ensure_database
from .endpoint import GraphQLEndpoint, RequestError
from .errors import error_body, log_unexpected
from .migrations import migrate

logger = logging.getLogger("shopgraph.app")

JSON = "application/json"


@dataclass(frozen=True)
class PeriodicJob:
    """Background work (e.g. expiring reservations) run every `interval` seconds."""

    name: str
    interval: float
    run: Callable[[], Awaitable[Any]]


@dataclass
class SubgraphSpec:
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


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, content_type=JSON)


async def _run_periodically(job: PeriodicJob) -> None:
    while True:
        await asyncio.sleep(job.interval)
        try:
            await job.run()
        except Exception as exc:
            log_unexpected(logger, "periodic job %s failed", job.name, error=exc)


def create_subgraph_app(spec: SubgraphSpec, db: Database | None = None) -> Quart:
    app = Quart(spec.name)
    database = db or Database(spec.database_url)
    endpoint = GraphQLEndpoint(spec.schema, spec.limits)
    tasks: list[asyncio.Task[None]] = []
    app.config["SHOPGRAPH_DB"] = database
    app.config["SHOPGRAPH_SPEC"] = spec

    @app.before_serving
    async def start() -> None:
        await ensure_database(database.url)
        await migrate(database.engine, spec.migrations)
        tasks.extend(
            asyncio.create_task(_run_periodically(job), name=job.name)
            for job in spec.jobs
            if job.interval > 0
        )

    @app.after_serving
    async def stop() -> None:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for hook in spec.on_stop:
            await hook()
        await database.dispose()

    async def handle(payload: Any, allow_mutations: bool) -> Response:
        context = Context(
            db=database,
            auth=Auth.from_header(request.headers.get("Authorization"), spec.codec),
            services=spec.services,
            peer=request.remote_addr,
            forwarded_for=", ".join(request.headers.getlist("X-Forwarded-For")) or None,
        )
        try:
            return _json(await endpoint.run(payload, context, allow_mutations=allow_mutations))
        except RequestError as error:
            return _json(error.body, status=400)

    @app.post("/graphql")
    async def graphql_post() -> Response:
        try:
            payload = orjson.loads(await request.get_data())
        except orjson.JSONDecodeError:
            return _json(
                {"errors": [error_body("Request body is not valid JSON", "BAD_REQUEST")]}, 400
            )
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
                return _json(
                    {"errors": [error_body("`variables` is not valid JSON", "BAD_REQUEST")]}, 400
                )
        return await handle(payload, allow_mutations=False)

    @app.get("/health")
    async def health() -> Response:
        if await database.ping():
            return _json({"status": "ok", "subgraph": spec.name})
        return _json({"status": "unavailable", "subgraph": spec.name}, status=503)

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            code = error.code or 500
            return _json({"errors": [error_body(error.name, "BAD_REQUEST")]}, code)
        log_unexpected(logger, "unhandled error in %s", spec.name, error=error)
        return _json(
            {"errors": [error_body("Internal server error", "INTERNAL_SERVER_ERROR")]}, 500
        )

    return app
