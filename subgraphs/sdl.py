"""Each subgraph's SDL exactly as it serves it via `{ _service { sdl } }`, and the
schema/<name>.graphql snapshots of it."""

from __future__ import annotations

from pathlib import Path

import strawberry

from .accounts.schema import schema as accounts
from .inventory.schema import schema as inventory
from .orders.schema import schema as orders
from .payments.schema import schema as payments
from .products.schema import schema as products
from .promotions.schema import schema as promotions
from .suggestions.schema import schema as suggestions

SCHEMAS: dict[str, strawberry.federation.Schema] = {
    "accounts": accounts,
    "products": products,
    "inventory": inventory,
    "orders": orders,
    "promotions": promotions,
    "payments": payments,
    "suggestions": suggestions,
}
SNAPSHOT_DIR = Path("schema")  # the checkout's schema/ folder, from where the command runs
REGENERATE = "shopgraph schema"


def service_sdl(name: str) -> str:
    """The SDL the subgraph serves as `{ _service { sdl } }`."""
    result = SCHEMAS[name].execute_sync("{ _service { sdl } }")
    assert not result.errors and result.data is not None, result.errors
    sdl: str = result.data["_service"]["sdl"]
    return sdl


def snapshot_path(name: str, folder: Path = SNAPSHOT_DIR) -> Path:
    """Where the subgraph's snapshot lives in `folder`."""
    return folder / f"{name}.graphql"


def snapshot_text(sdl: str) -> str:
    """The SDL as written to a snapshot (ending in a newline)."""
    return sdl if sdl.endswith("\n") else sdl + "\n"


def stale_snapshots(folder: Path = SNAPSHOT_DIR) -> list[str]:
    """The subgraphs whose snapshot in `folder` is missing or differs from the served SDL."""
    stale = []
    for name in SCHEMAS:
        path = snapshot_path(name, folder)
        if not path.exists() or path.read_text() != snapshot_text(service_sdl(name)):
            stale.append(name)
    return stale


def write_snapshots(folder: Path = SNAPSHOT_DIR) -> list[str]:
    """Rewrite the snapshots that differ; returns their names."""
    changed = stale_snapshots(folder)
    for name in changed:
        snapshot_path(name, folder).write_text(snapshot_text(service_sdl(name)))
    return changed
