"""Product.suggestions latency while the suggestions subgraph recomputes its counts.

    python -m bench.suggestions_latency [--baskets 100000] [--products 2000] [--recomputes 4]

Starts an embedded PostgreSQL (pgserver, in a temporary folder) and the suggestions
app (hypercorn, in this process, one recompute worker), loads `baskets` synthetic
bought baskets (1-5 distinct products each, a 1/rank popularity tail) straight into
its tables, and sends `Product.suggestions(first: 4)` requests (`--concurrency` in
flight, keep-alive) for random products:

- idle: nothing else running;
- process pool: while `--recomputes` full recomputes run one after another in the
  app's process pool (what the app does every SHOPGRAPH_SUGGESTIONS_RECOMPUTE_SECONDS);
- event loop: the same recompute run inline on the app's event loop, for comparison
  (what the pool avoids).

Prints one row per case: requests answered, p50/p99/max latency, and the longest the
event loop was late waking a 5 ms sleeper (app and clients share the loop: a stall is
time nobody was answered). Runs in well under two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from subgraphs.common.auth import TokenCodec
from subgraphs.common.database import (
    asyncpg_dsn,
    database_url,
    ensure_database,
    release_embedded_server,
    start_embedded_server,
)
from subgraphs.common.serve import RunningServer, start_server
from subgraphs.suggestions import recompute
from subgraphs.suggestions.app import create_app
from subgraphs.suggestions.services import SuggestionsServices

QUERY = """
query ($id: ID!) {
  _entities(representations: [{__typename: "Product", id: $id}]) {
    ... on Product { suggestions(first: 4) { id } }
  }
}
"""
NOWHERE = "http://127.0.0.1:9/graphql"  # no products subgraph: co-purchases only
TICK = 0.005  # seconds the stall watcher sleeps


@dataclass(frozen=True)
class Row:
    """One measured case."""

    case: str
    latencies: list[float]  # seconds
    stall: float  # the event loop's longest lateness, seconds
    recomputes: int
    recompute_seconds: float

    def cells(self) -> list[str]:
        """The case's table cells (milliseconds)."""
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return [
            self.case,
            str(len(ordered)),
            f"{statistics.median(ordered) * 1000:.1f}",
            f"{p99 * 1000:.1f}",
            f"{ordered[-1] * 1000:.1f}",
            f"{self.stall * 1000:.1f}",
            f"{self.recompute_seconds / self.recomputes:.2f}" if self.recomputes else "-",
        ]


def synthetic_baskets(count: int, products: int, seed: int = 13) -> list[list[uuid.UUID]]:
    """`count` baskets of 1-5 distinct products out of `products`, popularity ~ 1/rank."""
    chooser = random.Random(seed)
    ids = [uuid.UUID(int=chooser.getrandbits(128)) for _ in range(products)]
    weights = [1 / rank for rank in range(1, products + 1)]
    baskets = []
    for _ in range(count):
        size = chooser.randint(1, 5)
        basket: set[uuid.UUID] = set()
        while len(basket) < size:
            basket.update(chooser.choices(ids, weights, k=size - len(basket)))
        baskets.append(sorted(basket))
    return baskets


async def load(url: str, baskets: list[list[uuid.UUID]]) -> None:
    """Write `baskets` as placed and bought, with COPY."""
    orders = [uuid.uuid4() for _ in baskets]
    lines = [(o, p, 1) for o, basket in zip(orders, baskets, strict=True) for p in basket]
    dsn, options = asyncpg_dsn(url)
    conn = await asyncpg.connect(dsn, **options)
    try:
        await conn.copy_records_to_table(
            "baskets",
            records=[(o, True, True) for o in orders],
            columns=("order_id", "placed", "bought"),
        )
        await conn.copy_records_to_table(
            "basket_lines", records=lines, columns=("order_id", "product_id", "quantity")
        )
    finally:
        await conn.close()


async def measure(
    server: RunningServer,
    products: list[str],
    concurrency: int,
    running: Callable[[], bool],
) -> tuple[list[float], float]:
    """Latencies of requests sent by `concurrency` clients for as long as `running()`, and
    the longest the event loop (the app's and the clients') was late waking a sleeper."""
    latencies: list[float] = []
    chooser = random.Random(5)
    stall = 0.0

    async def watch() -> None:
        nonlocal stall
        while running():
            started = time.perf_counter()
            await asyncio.sleep(TICK)
            stall = max(stall, time.perf_counter() - started - TICK)

    async def client(http: httpx.AsyncClient) -> None:
        while running():
            body = {"query": QUERY, "variables": {"id": chooser.choice(products)}}
            started = time.perf_counter()
            response = await http.post(server.graphql_url, json=body)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200 and "errors" not in response.json(), response.text

    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(watch(), *(client(http) for _ in range(concurrency)))
    return latencies, stall


async def during(
    server: RunningServer,
    products: list[str],
    concurrency: int,
    times: int,
    work: Callable[[], Awaitable[Any]],
) -> tuple[tuple[list[float], float], float]:
    """What `measure` measured while `work` ran `times` times in a row, and its total time."""
    done = asyncio.Event()

    async def repeat() -> float:
        started = time.perf_counter()
        try:
            for _ in range(times):
                await work()
        finally:
            done.set()
        return time.perf_counter() - started

    worker = asyncio.create_task(repeat())
    await asyncio.sleep(0)  # the work starts before the first request
    measured = await measure(server, products, concurrency, lambda: not done.is_set())
    return measured, await worker


async def fill(
    server: RunningServer, url: str, args: argparse.Namespace
) -> tuple[SuggestionsServices, list[str]]:
    """Load the baskets and count them once (which also starts the pool); the app's
    services and the product ids."""
    baskets = synthetic_baskets(args.baskets, args.products)
    await load(url, baskets)
    services: SuggestionsServices = server.app.config["SHOPGRAPH_SPEC"].services
    first = await services.recomputer.run()
    print(
        f"loaded {first.baskets} baskets, {first.pairs} product pairs, "
        f"{first.products} products; first recompute {first.seconds:.2f} s"
    )
    return services, sorted({str(p) for basket in baskets for p in basket})


async def bench(args: argparse.Namespace, folder: Path) -> list[Row]:
    """Start everything, load the baskets, measure the three cases."""
    server_url = await asyncio.to_thread(start_embedded_server, folder / "pgdata", "delete")
    url = database_url(server_url, "suggestions", prefix="bench")
    await ensure_database(url)
    secret = secrets.token_urlsafe(32)
    codec = TokenCodec("HS256", secret, secret)
    options = {"products_url": NOWHERE, "recompute_seconds": 0, "events": False, "workers": 1}
    server = await start_server(create_app(url, codec=codec, **options))
    try:
        services, products = await fill(server, url, args)
        idle_until = time.monotonic() + args.idle_seconds
        idle = await measure(
            server, products, args.concurrency, lambda: time.monotonic() < idle_until
        )
        pooled, pooled_time = await during(
            server, products, args.concurrency, args.recomputes, services.recomputer.run
        )
        inline, inline_time = await during(
            server, products, args.concurrency, 1, lambda: recompute._recompute(url)
        )
        return [
            Row("idle", *idle, 0, 0.0),
            Row("recompute in the process pool", *pooled, args.recomputes, pooled_time),
            Row("recompute on the event loop", *inline, 1, inline_time),
        ]
    finally:
        await server.stop()
        release_embedded_server()


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    head = ["case", "requests", "p50 ms", "p99 ms", "max ms", "loop stall ms", "s per recompute"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments, run the bench, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baskets", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--recomputes", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="suggestions-bench-") as folder:
        rows = asyncio.run(bench(args, Path(folder)))
    print(table(rows))
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
