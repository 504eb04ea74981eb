"""`python -m subgraphs <name> [--port N]`: serve one subgraph (used by `shopgraph dev`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from subgraphs.common.database import server_url
from subgraphs.common.serve import start_server
from subgraphs.stack import DEFAULT_PORTS, SUBGRAPHS, create_app, database_urls


async def _serve(name: str, host: str, port: int) -> None:
    url = database_urls(await asyncio.to_thread(server_url))[name]
    server = await start_server(create_app(name, url), host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m subgraphs")
    parser.add_argument("name", choices=SUBGRAPHS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(_serve(args.name, args.host, args.port or DEFAULT_PORTS[args.name]))


if __name__ == "__main__":
    main()
