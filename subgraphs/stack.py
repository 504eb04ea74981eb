"""The seven subgraphs as one unit: names, default ports, databases, apps."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from quart import Quart

from subgraphs.common.database import Database, database_url, ensure_database
from subgraphs.common.migrations import migrate, migrations_of

from .accounts.app import create_app as create_accounts
from .inventory.app import create_app as create_inventory
from .orders.app import create_app as create_orders
from .payments.app import create_app as create_payments
from .products.app import create_app as create_products
from .promotions.app import create_app as create_promotions
from .seed import SEEDERS
from .suggestions.app import create_app as create_suggestions

SUBGRAPHS: tuple[str, ...] = (
    "accounts",
    "products",
    "inventory",
    "orders",
    "promotions",
    "payments",
    "suggestions",
)
DEFAULT_PORTS: Mapping[str, int] = {
    "accounts": 4001,
    "products": 4002,
    "inventory": 4003,
    "orders": 4004,
    "promotions": 4005,
    "payments": 4006,
    "suggestions": 4007,
}


def migrations_dir(name: str) -> Path:
    """The subgraph's Alembic scripts: package data, read from a real folder by Alembic."""
    return migrations_of(f"subgraphs.{name}")


def database_urls(server_url: str, prefix: str | None = None) -> dict[str, str]:
    """Each subgraph's database URL on the server at `server_url`."""
    return {name: database_url(server_url, name, prefix) for name in SUBGRAPHS}


async def prepare(urls: Mapping[str, str], *, seed: bool) -> None:
    """Create, migrate and optionally seed each subgraph's database."""
    for name in SUBGRAPHS:
        await ensure_database(urls[name])
        db = Database(urls[name])
        try:
            await migrate(db.engine, migrations_dir(name))
            if seed:
                await SEEDERS[name](db)
        finally:
            await db.dispose()


def create_app(name: str, url: str, **options: Any) -> Quart:
    """The named subgraph's Quart app on its database `url`."""
    factories = {
        "accounts": create_accounts,
        "products": create_products,
        "inventory": create_inventory,
        "orders": create_orders,
        "promotions": create_promotions,
        "payments": create_payments,
        "suggestions": create_suggestions,
    }
    app: Quart = factories[name](url, **options)
    return app
