"""Where each subgraph's PostgreSQL database lives, and getting it ready.

With DATABASE_URL set, that server is used; otherwise an embedded PostgreSQL
(pgserver) runs from `.data/postgres` at the repository root (override with
SHOPGRAPH_DATA_DIR) and is kept between runs. Each subgraph gets its own
database, `<prefix>_<subgraph>` (prefix from SHOPGRAPH_DB_PREFIX, default
`shopgraph`), created on first use; SHOPGRAPH_<NAME>_DATABASE_URL overrides
one subgraph's database entirely.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .errors import log_unexpected

logger = logging.getLogger("shopgraph.database")

_embedded: Any = None
# Where a session finds the process's live-updates hub (live.py), if it has one.
LIVE_HUB_INFO = "shopgraph.live.hub"
# Seven subgraphs, each with its pool (up to 30), outbox relay and consumers, are more
# than PostgreSQL's default 100 connections at peaks.
EMBEDDED_MAX_CONNECTIONS = 300


def data_dir() -> Path:
    """Where the embedded PostgreSQL and dev secrets live: $SHOPGRAPH_DATA_DIR or ./.data."""
    return Path(os.environ.get("SHOPGRAPH_DATA_DIR") or Path.cwd() / ".data").resolve()


def start_embedded_server(pgdata: Path | None = None, cleanup_mode: str | None = "stop") -> str:
    """Start (or attach to) the embedded server and return its URL.

    Blocking: call before the event loop is busy or via asyncio.to_thread.
    """
    global _embedded
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
        import pgserver

        folder = pgdata or data_dir() / "postgres"
        folder.parent.mkdir(parents=True, exist_ok=True)
        _allow_connections(pgserver, folder)
        _embedded = pgserver.get_server(folder, cleanup_mode=cleanup_mode)
        return str(_embedded.get_uri("postgres"))


def _allow_connections(pgserver: Any, folder: Path) -> None:
    """Raise the new server's max_connections to EMBEDDED_MAX_CONNECTIONS before serving."""
    settings = folder / "postgresql.auto.conf"
    if settings.exists():
        if "max_connections" not in settings.read_text():
            # read at the next start; a server running now keeps its value until restarted
            with settings.open("a") as file:
                file.write(f"max_connections = {EMBEDDED_MAX_CONNECTIONS}\n")
        return
    first = pgserver.get_server(folder, cleanup_mode="stop")  # initdb; then stop to apply
    first.psql(f"ALTER SYSTEM SET max_connections = {EMBEDDED_MAX_CONNECTIONS};")
    first.cleanup()


def release_embedded_server() -> None:
    """Release this process's handle on the embedded server; pgserver stops it when no
    user is left."""
    global _embedded
    if _embedded is not None:
        _embedded.cleanup()
        _embedded = None


def server_url() -> str:
    """The server-level URL: DATABASE_URL, or the embedded server's."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return start_embedded_server()


def database_url(server: str, subgraph: str, prefix: str | None = None) -> str:
    """The subgraph's database on `server` (or $SHOPGRAPH_<NAME>_DATABASE_URL when set)."""
    override = os.environ.get(f"SHOPGRAPH_{subgraph.upper()}_DATABASE_URL")
    if override:
        return override
    name = f"{prefix or os.environ.get('SHOPGRAPH_DB_PREFIX') or 'shopgraph'}_{subgraph}"
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> tuple[str, dict[str, str]]:
    """A libpq-style URL for asyncpg plus its query options (host=<socket dir>)."""
    parsed = make_url(url).set(drivername="postgresql")
    query = dict(parsed.query)
    dsn = parsed.set(query={}).render_as_string(hide_password=False)
    return dsn, {k: v if isinstance(v, str) else v[0] for k, v in query.items()}


async def _connect(url: str) -> asyncpg.Connection:
    dsn, options = asyncpg_dsn(url)
    return await asyncpg.connect(dsn, **options)


async def ensure_database(url: str) -> None:
    """Create the database named in `url` if it does not exist yet."""
    target = make_url(url)
    name = target.database
    assert name, "database URL names no database"
    conn = await _connect(target.set(database="postgres").render_as_string(hide_password=False))
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return
        quoted = '"' + name.replace('"', '""') + '"'
        # Another process may create it between the check and here.
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):
            await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> AsyncEngine:
    """An asyncpg engine for `url` with a bounded connection pool."""
    sa_url = make_url(url).set(drivername="postgresql+asyncpg")
    return create_async_engine(
        sa_url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        pool_recycle=1800,
        # Parameters are user data (emails, password hashes): never in error messages or logs.
        hide_parameters=True,
    )


class Database:
    """One subgraph's engine and session factory."""

    def __init__(self, url: str, engine: AsyncEngine | None = None) -> None:
        self.url = url
        self.engine = engine or create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The LiveHub its sessions notify after a commit (live.py); set by the app.
        self.live: Any = None

    def session(self) -> AsyncSession:
        """A new ORM session; callers open its transaction with `session.begin()`."""
        if self.live is None:
            return self.sessions()
        return self.sessions(info={LIVE_HUB_INFO: self.live})

    async def ping(self) -> bool:
        """Whether the database answers `SELECT 1` within 2 s (the health check)."""
        try:
            async with asyncio.timeout(2), self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
            return True
        except Exception as exc:
            log_unexpected(logger, "database health check failed", error=exc)
            return False

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    def on_statement(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call `callback(sql)` for every statement sent; returns an unsubscribe function."""

        def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            callback(statement)

        event.listen(self.engine.sync_engine, "before_cursor_execute", listener)
        return lambda: event.remove(self.engine.sync_engine, "before_cursor_execute", listener)
