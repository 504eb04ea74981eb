"""`shopgraph router`: serve a supergraph over HTTP."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HELP = "run the federation router for a supergraph SDL"

_ENV = "SHOPGRAPH_ROUTER_OPTIONS"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--supergraph", help="supergraph SDL file (Apollo/rover/Hive format)")
    parser.add_argument("--listen", help="HOST:PORT (default 127.0.0.1:4000)")
    parser.add_argument("--config", help="router.yaml")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")


def _split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"shopgraph router: --listen must be HOST:PORT, got {listen!r}")
    return host.strip("[]"), int(port)


def build_app(options: dict[str, str | None]):  # type: ignore[no-untyped-def]
    from router.config import load_config
    from router.core import Router
    from router.server import create_app
    from router.supergraph import load_supergraph

    config = load_config(options.get("config"))
    supergraph_path = options.get("supergraph") or config.supergraph
    if not supergraph_path:
        raise SystemExit("shopgraph router: no supergraph given (--supergraph or config)")
    sdl = Path(supergraph_path).read_text()
    urls = {name: sub.url for name, sub in config.subgraphs.items() if sub.url}
    router = Router(
        load_supergraph(sdl),
        subgraph_urls=urls,
        plan_cache_size=config.plan_cache_size,
        subgraph_timeout=config.traffic.subgraph_timeout,
    )
    return create_app(router, max_body_bytes=config.traffic.max_body_bytes)


def worker_app():  # type: ignore[no-untyped-def]
    """Entry point for each uvicorn worker process (options travel in the environment)."""
    return build_app(json.loads(os.environ[_ENV]))


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from router.config import ConfigError, load_config
    from router.supergraph import SupergraphError

    options = {"supergraph": args.supergraph, "config": args.config}
    try:
        config = load_config(args.config)
        listen = args.listen or config.listen
        host, port = _split_listen(listen)
        app = build_app(options)  # validates the supergraph before serving
    except (ConfigError, SupergraphError, OSError) as error:
        print(f"shopgraph router: {error}", file=sys.stderr)
        return 1
    print(f"shopgraph router listening on http://{host}:{port}/graphql", flush=True)
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
        )
    else:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    return 0
