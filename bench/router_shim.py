"""A stand-in HTTP front end for shopgraph's router, used only while `shopgraph router` is missing.

    python -m bench.router_shim --supergraph bench/supergraph.graphql --listen 127.0.0.1:4301

Serves POST /graphql with `Router.execute` (the router's Python API) under
uvicorn (httptools + uvloop), one process. The harness uses it, and labels the
rows as the shim, only when the router's Python API exists but its HTTP
command does not yet; the real command is always preferred. With
--client minimal it is the experiment row of `python -m bench.run --experiments`:
the same router with bench/minimal_client.py instead of httpx for subgraph
fetches.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from router.health import health_answer


class RouterApp:
    """POST /graphql through `Router.execute`; GET answers a health check."""

    def __init__(self, router: Any) -> None:
        self.router = router

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            await _respond(send, *health_answer("router"))
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        try:
            request = orjson.loads(b"".join(chunks))
            query = request["query"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            await _respond(send, 400, b'{"errors":[{"message":"bad request"}]}')
            return
        answer = await self.router.execute(
            query, request.get("variables"), request.get("operationName")
        )
        await _respond(send, 200, orjson.dumps(answer))


async def _respond(send: Callable, status: int, body: bytes) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    })
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    """Parse the arguments and serve until stopped."""
    import uvicorn

    from router import Router
    from router.supergraph import load_supergraph

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supergraph", type=Path, required=True)
    parser.add_argument("--listen", default="127.0.0.1:4301")
    parser.add_argument("--client", choices=("router", "minimal"), default="router",
                        help="minimal: bench/minimal_client.py for subgraph fetches (experiment)")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    supergraph = load_supergraph(args.supergraph.read_text())
    options: dict[str, Any] = {}
    if args.client == "minimal":
        from bench.minimal_client import MinimalSubgraphClient

        urls = {name: graph.url for name, graph in supergraph.graphs.items()}
        options["client"] = MinimalSubgraphClient(urls)
    router = Router(supergraph, **options)
    uvicorn.run(
        RouterApp(router), host=host, port=int(port), http="httptools", loop="uvloop",
        access_log=False, log_level="warning", lifespan="off", backlog=4096,
    )


if __name__ == "__main__":
    main()
