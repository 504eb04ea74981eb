"""Planning times of shopgraph's router for one query, through its Python API.

    python -m bench.planning SUPERGRAPH QUERY_FILE

Prints one JSON object. Run in a fresh process so "first plan in process"
really is cold (imports done, nothing planned yet).

- first_plan_in_process_ms: the first plan after building the router.
- cold_plan_ms: median over fresh routers (planner code warm, plan cache empty).
- cached_lookup_us: mean time of a repeated call for the same operation.
- planner_only_ms: the query planner alone on a normalized operation (median).

The timed call is the planner entry point when the router exposes one
(`router.plan(query)`), else `router.plan_text(query)`, whose time then
includes printing the plan; "timed_call" says which was used.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _timed_call(router: Any) -> tuple[str, Callable[[str], Any]]:
    for name in ("plan", "plan_text"):
        method = getattr(router, name, None)
        if callable(method):
            return name, method
    raise RuntimeError("the router has neither plan() nor plan_text()")


def _close(router: Any) -> None:
    close = getattr(router, "aclose", None)
    if close is not None:
        asyncio.run(close())


def measure(sdl: str, query: str, cold_rounds: int = 7, cached_calls: int = 20_000) -> dict:
    from router import Router  # imported here so the harness runs before the router exists

    router = Router.from_supergraph(sdl)
    call_name, plan = _timed_call(router)
    start = time.perf_counter()
    plan(query)
    first_ms = (time.perf_counter() - start) * 1000
    _close(router)

    cold = []
    for _ in range(cold_rounds):
        fresh = Router.from_supergraph(sdl)
        _, plan = _timed_call(fresh)
        start = time.perf_counter()
        plan(query)
        cold.append((time.perf_counter() - start) * 1000)
        _close(fresh)

    planner_only = _planner_only_ms(Router, sdl, query, cold_rounds)

    warm = Router.from_supergraph(sdl)
    _, plan = _timed_call(warm)
    plan(query)
    start = time.perf_counter()
    for _ in range(cached_calls):
        plan(query)
    cached_us = (time.perf_counter() - start) / cached_calls * 1e6
    _close(warm)
    return {
        "available": True,
        "timed_call": call_name,
        "first_plan_in_process_ms": first_ms,
        "cold_plan_ms": statistics.median(cold),
        "cold_plan_min_ms": min(cold),
        "cached_lookup_us": cached_us,
        "planner_only_ms": planner_only,
    }


def _planner_only_ms(router_class: Any, sdl: str, query: str, rounds: int) -> float | None:
    """The query planner alone (no parse/validate/normalize), on fresh routers.

    Uses `router.prepare(query).operation` and `router.planner.plan(operation)`
    when the router has them; None otherwise.
    """
    times = []
    for _ in range(rounds):
        source, fresh = router_class.from_supergraph(sdl), router_class.from_supergraph(sdl)
        prepare, planner = getattr(source, "prepare", None), getattr(fresh, "planner", None)
        if prepare is None or planner is None or not hasattr(planner, "plan"):
            return None
        operation = prepare(query).operation
        start = time.perf_counter()
        planner.plan(operation)
        times.append((time.perf_counter() - start) * 1000)
        _close(source)
        _close(fresh)
    return statistics.median(times)


def main() -> None:
    supergraph, query_file = sys.argv[1:3]
    sdl, query = Path(supergraph).read_text(), Path(query_file).read_text()
    try:
        result = measure(sdl, query)
    except ImportError as exc:
        result = {"available": False, "reason": f"router API not importable: {exc}"}
    except Exception as exc:  # the report shows why instead of aborting the whole run
        result = {"available": False, "reason": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
