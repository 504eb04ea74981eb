"""`shopgraph router`: serve a supergraph over HTTP, from a file or from live subgraphs."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import functools
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.config import RouterConfig

HELP = "run the federation router for a supergraph SDL (or live subgraphs)"

_ENV = "SHOPGRAPH_ROUTER_OPTIONS"


def configure(parser: argparse.ArgumentParser) -> None:
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


def _tune_process() -> None:
    """Settings for a process that is a router and nothing else."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    _return_large_buffers()


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
    from router.core import Router
    from router.executor.transport import new_http_client
    from router.reload import FileSource, Reloader, SubgraphsSource, SupergraphSource
    from router.server import create_app
    from router.server.tracing import Tracing, tracer_provider
    from router.supergraph import load_supergraph

    config = load_config(options.get("config"))
    # the lean keep-alive transport: httpx's default pool costs more CPU per subgraph
    # call than planning and shaping together (docs/performance.md)
    client = new_http_client(config.traffic.subgraph_timeout)
    urls = {name: sub.url for name, sub in config.subgraphs.items() if sub.url}

    def make_router(sdl: str) -> Router:
        return Router(
            load_supergraph(sdl),
            subgraph_urls=urls,
            http_client=client,
            plan_cache_size=config.plan_cache_size,
            plan_cache_mib=config.plan_cache_mib,
            override_labels=config.override_labels,
            limits=config.limits,
            subgraph_timeout=config.traffic.subgraph_timeout,
        )

    live = options.get("subgraphs") or {}
    source: SupergraphSource
    if live:
        source = SubgraphsSource(live, client)
        sdl = asyncio.run(_first_composition(live))
        default_interval = 10.0
    else:
        path = options.get("supergraph") or config.supergraph
        if not path:
            raise ValueError("no supergraph given (--supergraph, --subgraph or config)")
        source = FileSource(path)
        sdl = Path(path).read_text()
        default_interval = 2.0
    tracing_config = config.telemetry.tracing
    tracing = (
        Tracing(tracer_provider(tracing_config), tracing_config.propagate)
        if tracing_config.enabled
        else None
    )
    app = create_app(make_router(sdl), config=config, tracing=tracing)
    interval = options.get("poll_interval")
    interval = default_interval if interval is None else float(interval)
    if interval > 0:
        reloader = Reloader(source, lambda new_sdl: app.swap(make_router(new_sdl)), interval)

        async def watch() -> None:
            await source.changed()  # remember what is served now
            await reloader.run()

        app.background(watch)
    app.on_shutdown(client.aclose)
    return app


async def _first_composition(urls: dict[str, str]) -> str:
    import httpx

    from router.reload import SubgraphsSource

    async with httpx.AsyncClient() as client:
        sdl = await SubgraphsSource(urls, client).changed()
    assert sdl is not None
    return sdl


def worker_app() -> Any:
    """Entry point for each uvicorn worker process (options travel in the environment)."""
    from router.config import load_config
    from router.server.logs import configure_logging

    options = json.loads(os.environ[_ENV])
    _tune_process()
    configure_logging(load_config(options.get("config")).telemetry.logging)
    return build_app(options)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from router.config import ConfigError, load_config
    from router.reload import SourceError
    from router.server.logs import configure_logging
    from router.server.tracing import TracingUnavailable
    from router.supergraph import SupergraphError

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
        config = load_config(args.config)
        host, port = _split_listen(args.listen or config.listen)
        configure_logging(config.telemetry.logging)
        _tune_process()
        app = build_app(options)  # validates everything before serving
    except (
        ConfigError,
        SupergraphError,
        SourceError,
        OSError,
        ValueError,
        TracingUnavailable,
    ) as error:
        print(f"shopgraph router: {error}", file=sys.stderr)
        return 1
    print(f"shopgraph router listening on http://{host}:{port}/graphql", flush=True)
    if config.playground.enabled:
        print(f"playground: http://{host}:{port}/playground", flush=True)
    server = _server_options(config, len(app.router.client.urls))
    # uvicorn would take the client address from X-Forwarded-For of any local peer; the
    # router decides whom to believe itself (traffic.trusted_proxies)
    if args.workers > 1:
        os.environ[_ENV] = json.dumps(options)
        uvicorn.run(
            "router.commands.router:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            **server,
        )
    else:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            **server,
        )
    return 0


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
    }
