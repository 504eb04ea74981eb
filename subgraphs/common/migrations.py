"""Alembic, driven programmatically on an async connection.

Each subgraph's `migrations/env.py` just calls `run_env()`; `migrate()` hands
it a live connection and serialises concurrent starters with an advisory lock.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_MIGRATION_LOCK = 0x5305_6D16  # arbitrary, constant across processes


def migrations_of(package: str) -> Path:
    """The `migrations/` folder of a subgraph package: package data, which Alembic
    reads from a real folder (so the shop is installed unpacked, as pip does)."""
    return Path(str(files(package).joinpath("migrations")))


def alembic_config(script_location: Path) -> Config:
    """An Alembic configuration for the migrations in `script_location`."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    return config


async def migrate(engine: AsyncEngine, script_location: Path) -> None:
    """Upgrade the database behind `engine` to the newest revision."""
    config = alembic_config(script_location)

    def upgrade(sync_connection: Any) -> None:
        config.attributes["connection"] = sync_connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        await conn.run_sync(upgrade)


def run_env() -> None:
    """Each subgraph's migrations/env.py: migrate on the connection `migrate` hands over."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "shopgraph migrations run on start (subgraphs.common.migrations.migrate); "
            "the alembic CLI is not wired to a database"
        )
    context.configure(connection=connection, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
