"""`python -m subgraphs <name> [--port N]`: serve one subgraph (used by `shopgraph dev`).

It refuses to start, with a message and exit code 2 and no traceback, when the
environment gives no usable JWT key (SHOPGRAPH_JWT_SECRET, or the RS256 pair):
a subgraph must never fall back to a key anyone could know.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from subgraphs.common.auth import JwtConfigError, TokenCodec
from subgraphs.common.database import server_url
from subgraphs.common.serve import start_server
from subgraphs.stack import DEFAULT_PORTS, SUBGRAPHS, create_app, database_urls

PROG = "python -m subgraphs"


async def _serve(name: str, host: str, port: int, codec: TokenCodec) -> None:
    url = database_urls(await asyncio.to_thread(server_url))[name]
    server = await start_server(create_app(name, url, codec=codec), host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main() -> None:
    """Parse the command line, check the JWT configuration, then serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog=PROG)
    parser.add_argument("name", choices=SUBGRAPHS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    try:
        codec = TokenCodec.from_env()
    except JwtConfigError as error:
        print(f"{PROG} {args.name}: {error}", file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    port = args.port or DEFAULT_PORTS[args.name]
    try:
        asyncio.run(_serve(args.name, args.host, port, codec))
    except OSError as error:
        # A port in use or PostgreSQL unreachable: a line says which, a traceback adds nothing.
        print(f"{PROG} {args.name} on {args.host}:{port}: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
