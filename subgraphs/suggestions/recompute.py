"""The full recompute: every count rebuilt from the counted baskets, in a worker process.

`recompute_counts` runs in a process of a ProcessPoolExecutor (forkserver: no copy
of the serving process's threads and sockets) with its own connection: it reads the
baskets in one REPEATABLE READ snapshot together with `counts_state.version`,
counts in Python (scoring.py), and swaps the result into `co_purchases` and
`product_sales` in one transaction (writing only the rows that differ), under the
state row's lock, only if the version is still the snapshot's (otherwise an event
changed the counts meanwhile: the incremental counts are current, and the parent
tries again). The serving process only awaits the future, so its event loop keeps
answering.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncpg

from subgraphs.common.database import asyncpg_dsn

from .scoring import bounded, co_purchase_counts, sales_counts

logger = logging.getLogger("shopgraph.suggestions")

ATTEMPTS = 3  # snapshots that went stale before giving up until the next period

_SNAPSHOT = (
    "SELECT l.order_id, l.product_id::text AS product, l.quantity FROM basket_lines l "
    "JOIN baskets b ON b.order_id = l.order_id WHERE b.counted ORDER BY l.order_id"
)


@dataclass(frozen=True)
class RecomputeResult:
    """What one recompute did: whether it swapped, and the sizes it counted."""

    swapped: bool
    baskets: int
    pairs: int
    products: int
    seconds: float


async def _snapshot(conn: asyncpg.Connection) -> tuple[int | None, list[dict[str, int]]]:
    """The counts version and the counted baskets ({product id: units}), one snapshot."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        version = await conn.fetchval("SELECT version FROM counts_state WHERE id = 1")
        baskets: dict[uuid.UUID, dict[str, int]] = {}
        for order, product, quantity in await conn.fetch(_SNAPSHOT):
            baskets.setdefault(order, {})[product] = quantity
    return version, list(baskets.values())


# (table, its key columns, its value columns)
_TABLES = (
    ("co_purchases", ("product_id", "other_id"), ("baskets",)),
    ("product_sales", ("product_id",), ("quantity", "baskets")),
)


async def _replace(
    conn: asyncpg.Connection,
    table: str,
    keys: tuple[str, ...],
    values: tuple[str, ...],
    records: list[tuple[Any, ...]],
) -> None:
    """Make `table` hold exactly `records`, writing only the rows that differ: the
    records go to a temporary table, then one UPDATE, one DELETE and one INSERT."""
    # the names are this module's constants, never input
    fresh = f"fresh_{table}"
    await conn.execute(f"CREATE TEMP TABLE {fresh} (LIKE {table}) ON COMMIT DROP")
    await conn.copy_records_to_table(fresh, records=records, columns=keys + values)
    same_key = " AND ".join(f"t.{k} = f.{k}" for k in keys)
    changed = " OR ".join(f"t.{v} <> f.{v}" for v in values)
    assignments = ", ".join(f"{v} = f.{v}" for v in values)
    await conn.execute(
        f"UPDATE {table} t SET {assignments} FROM {fresh} f WHERE {same_key} AND ({changed})"
    )
    await conn.execute(
        f"DELETE FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM {fresh} f WHERE {same_key})"
    )
    await conn.execute(
        f"INSERT INTO {table} SELECT f.* FROM {fresh} f "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {same_key})"
    )


async def _swap(
    conn: asyncpg.Connection,
    version: int | None,
    pairs: Mapping[tuple[str, str], int],
    sales: Mapping[str, tuple[int, int]],
) -> bool:
    """Make both count tables the recomputed ones in one transaction, if the version is
    unchanged. Readers see the old counts until the commit (nothing locks them out)."""
    records = (
        [(a, b, n) for (a, b), n in pairs.items()],
        [(p, units, seen) for p, (units, seen) in sales.items()],
    )
    async with conn.transaction():
        current = await conn.fetchval("SELECT version FROM counts_state WHERE id = 1 FOR UPDATE")
        if current != version:
            return False
        for (table, keys, values), rows in zip(_TABLES, records, strict=True):
            await _replace(conn, table, keys, values, rows)
        # fresh statistics: a table filled at once would otherwise be planned as a tiny one
        await conn.execute("ANALYZE co_purchases, product_sales")
    return True


async def _recompute(database_url: str) -> RecomputeResult:
    started = time.perf_counter()
    dsn, options = asyncpg_dsn(database_url)
    conn = await asyncpg.connect(dsn, **options)
    try:
        version, stored = await _snapshot(conn)
        # the incremental path's bound (baskets stored before it existed may hold more)
        baskets = [bounded(basket) for basket in stored]
        pairs = co_purchase_counts(baskets)
        sales = sales_counts(baskets)
        swapped = await _swap(conn, version, pairs, sales)
    finally:
        await conn.close()
    return RecomputeResult(
        swapped, len(baskets), len(pairs), len(sales), time.perf_counter() - started
    )


def recompute_counts(database_url: str) -> RecomputeResult:
    """Rebuild the counts of the database at `database_url` (runs in a worker process)."""
    return asyncio.run(_recompute(database_url))


class Recomputer:
    """Runs full recomputes in a process pool, one at a time per serving process."""

    def __init__(self, database_url: str, workers: int = 1) -> None:
        self.database_url = database_url
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = asyncio.Lock()
        self.last: RecomputeResult | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("forkserver")
            )
        return self._pool

    async def run(self) -> RecomputeResult:
        """Recompute in the pool (waiting for one already running), retrying a stale
        snapshot up to ATTEMPTS times; the last attempt's result."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            for _ in range(ATTEMPTS):
                result = await loop.run_in_executor(
                    self._executor(), recompute_counts, self.database_url
                )
                if result.swapped:
                    break
            self.last = result
        logger.info(
            "suggestions recompute: swapped=%s baskets=%d pairs=%d products=%d in %.2fs",
            result.swapped,
            result.baskets,
            result.pairs,
            result.products,
            result.seconds,
        )
        return result

    async def close(self) -> None:
        """Stop the pool's processes (after the recompute running, if any)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
