"""Planning at scale: the synthetic supergraph (50 subgraphs, 2,000 types;
bench/synthetic/) and 10,000 distinct operations over it, planned without cache by
shopgraph's router and by Apollo's query planner.

    python -m bench.planning_scale [--operations 10000] [--no-apollo] [--collector default]

Prints one JSON object:
- load: `Router.from_supergraph(sdl)` ("load_s": `load_supergraph`, then the `Router`,
  whose subgraph client imports httpx's transport modules on first use) and a first
  plan, in fresh processes (median of --load-runs, each run's load listed; "load_cpu_s"
  its CPU time, less sensitive to a busy machine), with the time of importing the
  router apart.
- shopgraph: every operation prepared once by `Router.prepare` (parse, validate,
  normalize, plan, response shape; each operation distinct, so none comes from the
  cache) — "prepare_ms" — and within it the query planner alone (`QueryPlanner.plan`)
  — "plan_ms": median, p90, p99, max; failures counted, with samples. The process runs
  with the collector settings of `shopgraph router` (its thresholds, start-up heap
  frozen; --collector default: the interpreter's); "collector_s" is the time the
  collector ran meanwhile.
- cache_estimate: the plan cache's estimated bytes per entry (`PreparedOperation.weight`)
  against the memory the entries really hold (tracemalloc: what dropping a cache of
  them frees), for the smallest, middle and largest operations.
- apollo: the same operations through @apollo/query-planner with a warm planner
  (bench/plan_apollo_many.mjs): its supergraph load and per-operation times.
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import orjson

from bench.synthetic.generate import NODE, SUPERGRAPH
from bench.synthetic.operations import SEED, load_operations, operations_path

BENCH = SUPERGRAPH.parent.parent
# a fresh interpreter: import the router, then load the supergraph and plan once
LOAD_SCRIPT = """
import sys, time
start = time.perf_counter()
from router import Router
from router.supergraph import load_supergraph
imported = time.perf_counter()
cpu = time.process_time()
supergraph = load_supergraph(open(sys.argv[1]).read())
read = time.perf_counter()
router = Router(supergraph)
loaded = time.perf_counter()
cpu = time.process_time() - cpu
router.plan("{ __typename }")
planned = time.perf_counter()
print(imported - start, loaded - imported, planned - loaded, read - imported, loaded - read, cpu)
"""


def summary(samples: list[float]) -> dict[str, float]:
    """Median, p90, p99 and max of `samples` (ms), rounded to the microsecond."""
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"median": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": round(ordered[-1], 3)}


def measure_load(runs: int = 3) -> dict[str, Any]:
    """The supergraph's load in fresh processes: import, load, first plan (seconds)."""
    figures = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", LOAD_SCRIPT, str(SUPERGRAPH)],
            capture_output=True, text=True, check=True, cwd=BENCH.parent,
        )
        figures.append([float(x) for x in done.stdout.split()])
    loads = [f[1] for f in figures]
    return {
        "supergraph_bytes": SUPERGRAPH.stat().st_size,
        "load_s": round(statistics.median(loads), 3),
        "load_s_runs": [round(x, 3) for x in loads],
        "load_cpu_s": round(statistics.median(f[5] for f in figures), 3),
        "load_supergraph_s": round(statistics.median(f[3] for f in figures), 3),
        "router_s": round(statistics.median(f[4] for f in figures), 3),
        "first_plan_s": round(statistics.median(f[2] for f in figures), 4),
        "import_router_s": round(statistics.median(f[0] for f in figures), 3),
        "target_load_s": 2.0,
    }


def _timed(method: Callable[..., Any], samples: list[float]) -> Callable[..., Any]:
    """`method`, appending each call's duration (ms) to `samples`."""

    @functools.wraps(method)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            samples.append((time.perf_counter() - start) * 1000)

    return timed


def _set_collector(collector: str) -> None:
    """"serve": the collector as `shopgraph router` runs it (its thresholds, start-up heap
    frozen); "default": the interpreter's own settings."""
    if collector == "serve":
        from router.commands.router import GC_THRESHOLDS

        gc.set_threshold(*GC_THRESHOLDS)
        gc.collect()
        gc.freeze()


def measure_shopgraph(operations: list[str], collector: str = "serve") -> dict[str, Any]:
    """Every operation prepared once (no cache hit possible): whole and planner alone."""
    from router import Router
    from router.errors import RequestError

    # one entry: each operation is distinct, so the cache could only cost memory
    router = Router.from_supergraph(SUPERGRAPH.read_text(), plan_cache_size=1)
    _set_collector(collector)
    planner_ms: list[float] = []
    router.planner.plan = _timed(router.planner.plan, planner_ms)  # measuring only
    prepare_ms: list[float] = []
    failures: list[str] = []
    collections = _CollectorClock()
    started = time.perf_counter()
    for text in operations:
        start = time.perf_counter()
        try:
            router.prepare(text)
        except RequestError as error:
            failures.append(str(error.errors[0].get("message", error))[:200])
            continue
        prepare_ms.append((time.perf_counter() - start) * 1000)
    total = time.perf_counter() - started
    collections.stop()
    return {
        "operations": len(operations),
        "collector_settings": collector if collector != "serve" else gc.get_threshold(),
        "planned": len(prepare_ms),
        "failed": len(failures),
        "failure_samples": failures[:5],
        "prepare_ms": summary(prepare_ms),
        "plan_ms": summary(planner_ms),
        "total_s": round(total, 1),
        "collector_s": round(collections.seconds, 1),
        "collections": collections.count,
        "targets_ms": {"median": 5.0, "p99": 50.0},
        "cache_estimate": measure_cache_estimate(router, operations),
    }


class _CollectorClock:
    """The time the garbage collector runs from now until `stop`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0
        self._started = 0.0
        gc.callbacks.append(self._heard)

    def _heard(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.count += 1

    def stop(self) -> None:
        """Stop listening."""
        gc.callbacks.remove(self._heard)


def measure_cache_estimate(warm: Any, operations: list[str], group: int = 100) -> dict[str, Any]:
    """Estimated against real bytes per cache entry, by operation size (the schema's lazily
    built parts already warm: `warm` prepared operations over the same supergraph)."""
    from router import Router

    ordered = sorted(operations, key=len)
    middle = len(ordered) // 2
    groups = {"smallest": ordered[:group], "middle": ordered[middle : middle + group],
              "largest": ordered[-group:]}
    out = {}
    tracemalloc.start()
    try:
        for name, texts in groups.items():
            router = Router(warm.supergraph, plan_cache_size=len(texts), plan_cache_mib=4096)
            estimated = sum(router.prepare(text).weight for text in texts)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0]
            del router
            gc.collect()
            real = held - tracemalloc.get_traced_memory()[0]
            out[name] = {"mean_chars": sum(map(len, texts)) // len(texts),
                         "estimated_bytes": estimated // len(texts),
                         "real_bytes": real // len(texts),
                         "estimated_over_real": round(estimated / real, 2)}
    finally:
        tracemalloc.stop()
    return out


def measure_apollo(path: str, warmup: int = 300) -> dict[str, Any]:
    """The operations file through Apollo's query planner (bench/plan_apollo_many.mjs)."""
    done = subprocess.run(
        [str(NODE), str(BENCH / "plan_apollo_many.mjs"), str(SUPERGRAPH), path, str(warmup)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    report = orjson.loads(done.stdout.strip().splitlines()[-1])
    for key in ("prepare_ms", "plan_ms"):
        report[key] = {k: round(v, 3) for k, v in report[key].items()}
    report["supergraph_load_ms"] = round(report["supergraph_load_ms"], 1)
    return report


def measure_planning_scale(
    operations: int = 10_000, apollo: bool = True, load_runs: int = 3, collector: str = "serve"
) -> dict[str, Any]:
    """The figures of planning at scale (see the module's docstring)."""
    texts = load_operations(operations, SEED)
    report: dict[str, Any] = {
        "supergraph": str(SUPERGRAPH.relative_to(BENCH.parent)),
        "load": measure_load(load_runs),
        "shopgraph": measure_shopgraph(texts, collector),
    }
    if apollo:
        report["apollo"] = measure_apollo(str(operations_path(operations, SEED)))
    return report


def main(argv: list[str] | None = None) -> int:
    """The command line: print the figures as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--load-runs", type=int, default=3)
    parser.add_argument("--no-apollo", action="store_true")
    parser.add_argument("--collector", choices=("serve", "default"), default="serve")
    args = parser.parse_args(argv)
    report = measure_planning_scale(
        args.operations, not args.no_apollo, args.load_runs, args.collector
    )
    sys.stdout.write(orjson.dumps(report).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
