"""shopgraph's router in-process (Python API, no HTTP server in front): CPU per request
and, optionally, a profile of where the time goes.

    python -m bench.inprocess [--requests 300] [--concurrency 10] [--profile out.html]

Starts the bench subgraphs in a child process (on core 0 when taskset is
there), runs the heavy query through `Router.execute` with `concurrency`
requests in flight, and reports this process's CPU time per request — the
router's own cost without its HTTP front end. With --profile it records a
py-spy CPU profile of the measured requests (pip install py-spy) and prints
where the time goes.
Useful before the `shopgraph router` command exists and to see the profile
of the router's hot path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench import profile as bench_profile
from bench.reference import expected_response

BENCH = Path(__file__).resolve().parent
HEAVY_QUERY = (BENCH / "queries" / "heavy.graphql").read_text()


def _start_subgraphs(port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "bench.subgraph_server", "--port", str(port)]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    process = subprocess.Popen(command, cwd=BENCH.parent, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
            return process
        time.sleep(0.1)
    process.kill()
    raise SystemExit("bench subgraphs did not start")


async def _run(requests: int, concurrency: int, port: int, profile: Path | None,
               client_kind: str, deduplicate: bool) -> dict:
    from bench.minimal_client import MinimalSubgraphClient
    from router import Router
    from router.executor.fetcher import SubgraphClientSettings

    sdl = (BENCH / "supergraph.graphql").read_text()
    urls = {name: f"http://127.0.0.1:{port}/{name}"
            for name in ("accounts", "products", "inventory", "reviews")}
    # the experiment: the router minus httpx's cost
    options = (
        {"client": MinimalSubgraphClient(urls)}
        if client_kind == "minimal"
        else {"subgraph_urls": urls,
              "fetching": SubgraphClientSettings(deduplicate=deduplicate)}
    )
    async with Router.from_supergraph(sdl, **options) as router:
        answer = await router.execute(HEAVY_QUERY)
        if answer != expected_response(HEAVY_QUERY):
            raise SystemExit("the router's answer differs from the reference")
        for _ in range(20):  # warm up connections and caches
            await router.execute(HEAVY_QUERY)

        pending = iter(range(requests))

        async def client() -> None:
            """Send requests one after another until all are taken."""
            for _ in pending:
                await router.execute(HEAVY_QUERY)

        recording = (
            bench_profile.record(os.getpid(), profile, subprocesses=False)
            if profile
            else contextlib.nullcontext()
        )
        with recording:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await asyncio.gather(*(client() for _ in range(concurrency)))
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        if profile is not None:
            print(bench_profile.to_markdown(bench_profile.summarise(profile)))
    return {
        "requests": requests,
        "concurrency": concurrency,
        "cpu_ms_per_request": cpu * 1000 / requests,
        "wall_ms_per_request": wall * 1000 / requests,
        "requests_per_second": requests / wall,
        "profiled": profile is not None,
        "client": client_kind,
        "deduplicate": deduplicate,
    }


def main() -> None:
    """Start the subgraphs, measure, print the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--port", type=int, default=4210)
    parser.add_argument("--profile", type=Path, help="write py-spy raw stacks here")
    parser.add_argument("--client", choices=("router", "minimal"), default="router",
                        help="minimal: swap in bench/minimal_client.py (an experiment)")
    parser.add_argument("--no-dedup", action="store_true",
                        help="identical subgraph queries in flight are not shared")
    args = parser.parse_args()
    subgraphs = _start_subgraphs(args.port)
    try:
        with contextlib.suppress(ImportError):
            import uvloop

            uvloop.install()
        # the process settings `shopgraph router` runs with (collector thresholds)
        from router.commands.router import _tune_process

        _tune_process()
        if shutil.which("taskset") and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {1})
        result = asyncio.run(
            _run(args.requests, args.concurrency, args.port, args.profile, args.client,
                 not args.no_dedup)
        )
    finally:
        subgraphs.terminate()
        subgraphs.wait(timeout=10)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
