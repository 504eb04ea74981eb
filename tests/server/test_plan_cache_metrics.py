"""/metrics on the plan cache: lookups by result (counter), and the gauges
shopgraph_plan_cache_entries, shopgraph_plan_cache_bytes (estimated) and
shopgraph_plan_cache_hit_ratio — of the router now serving, across workers in
multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs
from tests.server.test_ops import _samples

BOTH = "query Both { alphaHeaders betaHeaders }"
ALPHA = "query Alpha { alphaHeaders }"
ENTRIES = "shopgraph_plan_cache_entries"
BYTES = "shopgraph_plan_cache_bytes"
RATIO = "shopgraph_plan_cache_hit_ratio"


async def test_the_gauges_follow_the_cache_of_the_router_now_serving(echo: EchoSubgraphs):
    async with serve(echo) as (client, app):
        before = _samples((await client.get("/metrics")).text)
        for query in (BOTH, BOTH, ALPHA):
            await client.post("/graphql", json={"query": query})
        after = _samples((await client.get("/metrics")).text)
        weights = [app.router.prepare(q, None, frozenset()).weight for q in (BOTH, ALPHA)]
        app.swap(echo.router())
        swapped = _samples((await client.get("/metrics")).text)
        await client.post("/graphql", json={"query": ALPHA})
        again = _samples((await client.get("/metrics")).text)
    assert (before[ENTRIES], before[BYTES], before[RATIO]) == (0, 0, 0)
    assert after[ENTRIES] == 2
    assert after[BYTES] == sum(weights) > 0
    assert after[RATIO] == 1 / 3  # Both missed then hit, Alpha missed
    assert (swapped[ENTRIES], swapped[BYTES], swapped[RATIO]) == (0, 0, 0)
    assert (again[ENTRIES], again[BYTES], again[RATIO]) == (1, weights[1], 0)


WORKER = """
import sys
from router.server.metrics import RouterMetrics
metrics = RouterMetrics(sys.argv[1])
hits, misses, entries, size = map(int, sys.argv[2:])
for hit in [True] * hits + [False] * misses:
    metrics.cache_lookup(hit)
metrics.cache_changed(entries, size)
"""
SCRAPE = """
import sys
from router.server.metrics import RouterMetrics
sys.stdout.write(RouterMetrics(sys.argv[1]).render().decode())
"""


def _python(script: str, shared: Path, *args: int) -> str:
    """Run `script` in a process of its own, as a worker sharing the directory `shared`."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(shared), *map(str, args)],
        env=env, capture_output=True, text=True, check=True,
    )
    return done.stdout


def test_with_workers_the_ratio_is_of_the_totals_and_the_sizes_are_summed(tmp_path: Path):
    _python(WORKER, tmp_path, 3, 1, 1, 100)  # worker one: 3 hits, 1 miss
    _python(WORKER, tmp_path, 0, 8, 4, 300)  # worker two: 8 misses
    samples = _samples(_python(SCRAPE, tmp_path))
    assert samples['shopgraph_plan_cache_total{result="hit"}'] == 3
    assert samples['shopgraph_plan_cache_total{result="miss"}'] == 9
    # of the totals: neither the workers' mean ratio (0.375) nor their sum (0.75)
    assert samples[RATIO] == 3 / 12
    assert (samples[ENTRIES], samples[BYTES]) == (5, 400)
