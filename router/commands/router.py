"""`shopgraph router`: serve a supergraph over HTTP, from a file or from live subgraphs."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import functools
import gc
import json
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.config import RouterConfig
    from router.reload import SupergraphSource

HELP = "run the federation router for a supergraph SDL (or live subgraphs)"

_ENV = "SHOPGRAPH_ROUTER_OPTIONS"


def configure(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("--supergraph", help="supergraph SDL file (Apollo/rover/Hive format)")
    parser.add_argument(
        "--subgraph",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="compose these live subgraphs at start-up instead of reading a file (repeat)",
    )
    parser.add_argument("--listen", help="HOST:PORT (default 127.0.0.1:4000)")
    parser.add_argument("--config", help="router.yaml")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=None,
        help="seconds between checks for a changed supergraph file (default 2) or changed "
        "subgraph SDLs (default 10); 0 disables reloading",
    )


def _split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"shopgraph router: --listen must be HOST:PORT, got {listen!r}")
    return host.strip("[]"), int(port)


def _subgraph_urls(pairs: list[str]) -> dict[str, str]:
    urls: dict[str, str] = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or not name or not url:
            raise SystemExit(f"shopgraph router: --subgraph takes NAME=URL, got {pair!r}")
        urls[name] = url
    return urls


# The planner thread prepares cold operations while the event loop serves the rest;
# handing the interpreter lock back every 0.5 ms instead of 5 ms keeps each of the
# loop's I/O steps from waiting behind a costly preparation.
SWITCH_INTERVAL = 0.0005


# A heavy request allocates tens of thousands of short-lived objects (decoded subgraph
# answers, the shaped response): with the interpreter's default of a young collection
# every 700 allocations, collections took ~20 % of the router's CPU per request
# (docs/performance.md). Young objects die with their request, so collecting them less
# often finds the same garbage at a fraction of the cost: every 20,000 allocations (as
# cheap as 50,000 for the heavy query: 4.52 vs 4.54 ms, same run). Preparing an
# operation leaves reference cycles (graphql-core's visitors): collected young and with
# the middle generation every 5 young collections (not 20), they never pile up into a
# million-object collection, which had been the p99 of cold preparations (80 -> 18 ms
# over 10,000 distinct operations).
GC_THRESHOLDS = (20_000, 5, 100)


def _tune_process() -> None:
    """Settings for a process that is a router and nothing else."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.set_threshold(*GC_THRESHOLDS)
    _return_large_buffers()


def _settle_heap() -> None:
    """After start-up: what was built so far (schemas, plans' compiled code, modules)
    lives as long as the process, so it leaves the collector's generations and full
    collections stop scanning it."""
    gc.collect()
    gc.freeze()


def _thaw_heap() -> None:
    """After a supergraph reload: the router built at start-up, frozen with the rest, is
    garbage once its last request is done, and frozen objects in reference cycles (a
    schema's types) are never collected. Unfrozen, the collector frees them (full
    collections scan the whole heap again from then on)."""
    gc.unfreeze()


def _return_large_buffers() -> None:
    """Have glibc give request-sized buffers (a megabyte of query or variables) straight
    back to the system when freed. By default it raises its mmap threshold after each
    such free and serves the next one from a heap (one more per thread) that rarely
    shrinks, so memory would ratchet up under a stream of large requests."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    libc.mallopt(_M_ARENA_MAX, 2)


_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # mallopt parameters (glibc malloc.h)


def build_app(options: dict[str, Any]) -> Any:
    """The ASGI app for `options` (validated: raises on a bad config or supergraph)."""
    from router.config import load_config
    from router.reload import Reloader
    from router.server import create_app
    from router.server.assembly import RouterAssembly, pooled_http

    config = load_config(options.get("config"))
    # the lean keep-alive transport, shared by every router a reload brings: httpx's
    # default pool costs more CPU per subgraph call than planning and shaping together
    # (docs/performance.md)
    http = pooled_http(config)
    metrics_dir = options.get("metrics_dir")
    assembly = RouterAssembly(config, _tracing(config), http=http, metrics_dir=metrics_dir)
    source, sdl, default_interval = _source(options, config.supergraph, http.client)
    app = create_app(assembly.router(sdl), assembly=assembly)
    interval = options.get("poll_interval")
    interval = default_interval if interval is None else float(interval)
    if interval > 0:
        # a reload builds the new router the way the first was built, with the same
        # breakers, header rules, metrics and pool
        def reload(new_sdl: str) -> None:
            """Serve the new supergraph; the old router goes when its requests are done."""
            app.swap(assembly.router(new_sdl))
            _thaw_heap()

        reloader = Reloader(source, reload, interval)

        async def watch() -> None:
            """Poll for a changed supergraph, starting from the one served now."""
            await source.changed()  # remember what is served now
            await reloader.run()

        app.background(watch)
    app.on_shutdown(http.aclose)
    if metrics_dir is not None:
        app.on_shutdown(functools.partial(_retire_worker, metrics_dir))
    return app


async def _retire_worker(metrics_dir: str) -> None:
    """A worker stopping: its metrics files of live-process gauges go."""
    from router.server.metrics import mark_process_dead

    mark_process_dead(os.getpid(), metrics_dir)


def _tracing(config: RouterConfig) -> Any:
    """The OpenTelemetry tracing `config.telemetry.tracing` asks for, or None."""
    from router.server.tracing import Tracing, tracer_provider

    tracing = config.telemetry.tracing
    return Tracing(tracer_provider(tracing), tracing.propagate) if tracing.enabled else None


def _source(
    options: dict[str, Any], configured: str | None, client: Any
) -> tuple[SupergraphSource, str, float]:
    """Where the supergraph comes from, its SDL now, and the default poll interval."""
    from router.reload import FileSource, SubgraphsSource

    live = options.get("subgraphs") or {}
    if live:
        return SubgraphsSource(live, client), asyncio.run(_first_composition(live)), 10.0
    path = options.get("supergraph") or configured
    if not path:
        raise ValueError("no supergraph given (--supergraph, --subgraph or config)")
    return FileSource(path), Path(path).read_text(), 2.0


async def _first_composition(urls: dict[str, str]) -> str:
    import httpx

    from router.reload import SubgraphsSource

    async with httpx.AsyncClient() as client:
        sdl = await SubgraphsSource(urls, client).changed()
    assert sdl is not None
    return sdl


def worker_app() -> tuple[Any, dict[str, Any]]:
    """Entry point of each worker process (`router.server.workers`, options in the
    environment): the app, built here, and uvicorn's options for it."""
    from router.config import load_config
    from router.server.logs import configure_logging

    options = json.loads(os.environ[_ENV])
    _tune_process()
    config = load_config(options.get("config"))
    configure_logging(config.telemetry.logging)
    app = build_app(options)
    server = {**_server_options(config, len(app.router.client.urls)), **_UVICORN_FIXED}
    _settle_heap()
    return app, server


# uvicorn settings that do not come from router.yaml
_UVICORN_FIXED: dict[str, Any] = {
    "log_level": "warning",
    "access_log": False,
    # uvicorn would take the client address from X-Forwarded-For of any local peer;
    # the router decides whom to believe itself (traffic.trusted_proxies)
    "proxy_headers": False,
}


def run(args: argparse.Namespace) -> int:
    """`shopgraph router`: validate the configuration and supergraph, then serve."""
    options: dict[str, Any] = {
        "supergraph": args.supergraph,
        "subgraphs": _subgraph_urls(args.subgraph),
        "config": args.config,
        "poll_interval": args.poll_interval,
    }
    if options["supergraph"] and options["subgraphs"]:
        print("shopgraph router: give --supergraph or --subgraph, not both", file=sys.stderr)
        return 2
    try:
        config, host, port, app = _prepare(args.config, args.listen, options)
    except _start_errors() as error:
        print(f"shopgraph router: {error}", file=sys.stderr)
        return 1
    if args.workers > 1:
        del app  # each worker builds its own
        return _serve_workers(options, args.workers, config, host, port)
    _announce(config, host, port)
    import uvicorn

    server = {**_server_options(config, len(app.router.client.urls)), **_UVICORN_FIXED}
    uvicorn.run(app, host=host, port=port, **server)
    return 0


def _announce(config: RouterConfig, host: str, port: int) -> None:
    print(f"shopgraph router listening on http://{host}:{port}/graphql", flush=True)
    if config.playground.enabled:
        print(f"playground: http://{host}:{port}/playground", flush=True)


def _start_errors() -> tuple[type[Exception], ...]:
    """What a bad configuration, supergraph or listen address raises at start."""
    from router.config import ConfigError
    from router.reload import SourceError
    from router.server.tracing import TracingUnavailable
    from router.supergraph import SupergraphError

    return (ConfigError, SupergraphError, SourceError, OSError, ValueError, TracingUnavailable)


def _prepare(
    config_path: str | None, listen: str | None, options: dict[str, Any]
) -> tuple[RouterConfig, str, int, Any]:
    """The configuration, where to listen and the app, everything validated before serving."""
    from router.config import load_config
    from router.server.logs import configure_logging

    config = load_config(config_path)
    host, port = _split_listen(listen or config.listen)
    configure_logging(config.telemetry.logging)
    _tune_process()
    app = build_app(options)
    _settle_heap()
    return config, host, port, app


def _serve_workers(
    options: dict[str, Any], workers: int, config: RouterConfig, host: str, port: int
) -> int:
    """`workers` processes serving host:port, each building its own app, under a
    supervisor (router.server.workers). Their metrics are files in a private directory
    made here before they start and removed when they are done (prometheus_client's
    multiprocess mode), so any worker's /metrics gives the totals."""
    from router.server.metrics import MULTIPROCESS_DIR, mark_process_dead
    from router.server.workers import Supervisor, bind_sockets

    try:
        sockets = bind_sockets(host, port, workers)
    except OSError as error:
        print(f"shopgraph router: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return 1
    _announce(config, host, port)
    remove_orphan_metrics()
    metrics_dir = tempfile.mkdtemp(prefix=f"{METRICS_PREFIX}{os.getpid()}-")
    env = {
        **os.environ,
        MULTIPROCESS_DIR: metrics_dir,  # read by prometheus_client in each worker
        _ENV: json.dumps({**options, "metrics_dir": metrics_dir}),
    }
    supervisor = Supervisor(
        [sys.executable, "-m", "router.server.workers", f"{__name__}:worker_app"],
        sockets,
        grace=SHUTDOWN_GRACE,
        env=env,
        # a worker that died without stopping leaves files of live-process gauges
        on_exit=lambda pid: mark_process_dead(pid, metrics_dir),
    )
    try:
        return supervisor.run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


SHUTDOWN_GRACE = 30  # seconds running requests get to finish when the router stops
METRICS_PREFIX = "shopgraph-metrics-"  # then the parent's pid, a dash and a random part


def remove_orphan_metrics(folder: str | None = None) -> list[str]:
    """Remove the metrics directories of routers whose parent process is gone (a SIGKILL
    gives it no chance to remove its own); the names of those removed."""
    removed = []
    for entry in Path(folder or tempfile.gettempdir()).glob(f"{METRICS_PREFIX}*-*"):
        pid = entry.name[len(METRICS_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and entry.is_dir() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


def _server_options(config: RouterConfig, subgraphs: int) -> dict[str, Any]:
    """uvicorn's settings for the `server` section: the bounded httptools protocol (head
    size, head and body deadlines, connection cap) and the keep-alive timeout."""
    from router.server.http_server import BoundedHttpToolsProtocol, connection_cap

    # each subgraph origin may take max_connections_per_origin descriptors of its own
    reserve = subgraphs * config.traffic.max_connections_per_origin
    cap = connection_cap(config.server.max_connections, reserve)
    limits = replace(config.server, max_connections=cap)
    return {
        "http": functools.partial(BoundedHttpToolsProtocol, limits=limits),
        "timeout_keep_alive": config.server.keep_alive_timeout,
        # WebSocket upgrades (graphql-transport-ws): client messages bounded, and not
        # compressed (inflating costs CPU, and a small frame may inflate to a large one)
        "ws": "websockets-sansio",
        "ws_max_size": config.subscriptions.max_message_bytes,
        "ws_per_message_deflate": False,
        # at shutdown WebSockets are closed (1012) but an SSE stream only ends when its
        # client leaves: past this many seconds the requests still running are cancelled
        "timeout_graceful_shutdown": SHUTDOWN_GRACE,
    }
