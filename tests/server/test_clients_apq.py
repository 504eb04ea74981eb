"""Apollo Client's persisted query link (tests/clients/apq.mjs) against the router served
over real HTTP (uvicorn) over real subgraphs: the requests the router saw, in order,
and what the clients got: hash-only GET missed, registered by POST, hit by a fresh
client; and the safelist refusing an unlisted operation through the same link."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import uvicorn

from router import Router
from router.config import parse_config
from router.server import create_app
from tests.server.trace_graph import SCENARIO, TOP, supergraph, trace_subgraphs

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (CLIENTS / "node_modules" / "@apollo" / "client").is_dir(),
    reason="node and tests/clients/node_modules are installed by `shopgraph test`",
)
# the text Apollo Client sends for `query Top { topProducts { name } }` (its cache adds
# __typename), as a persisted query manifest must list it
TOP_TEXT = "query Top {\n  topProducts {\n    name\n    __typename\n  }\n}"
NAMES = {"topProducts": [{"name": f"name-{upc}", "__typename": "Product"} for upc in TOP]}


@dataclass(frozen=True)
class Seen:
    """One request the router answered on /graphql."""

    method: str
    query: str | None  # the query text the request carried, if any
    status: int


@dataclass
class Recorder:
    """An ASGI app in front of the router's that notes each /graphql request."""

    app: Any
    seen: list[Seen] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Pass the request on; note its method, query text and status."""
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        body: list[bytes] = []
        status: list[int] = []

        async def receiving() -> Any:
            """The router's `receive`, keeping the body."""
            message = await receive()
            body.append(message.get("body", b""))
            return message

        async def sending(message: Any) -> None:
            """The router's `send`, keeping the status."""
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receiving, sending)
        self.seen.append(Seen(scope["method"], _query_of(scope, b"".join(body)), status[0]))


def _query_of(scope: Any, body: bytes) -> str | None:
    if scope["method"] == "GET":
        return parse_qs(scope["query_string"].decode()).get("query", [None])[0]
    query = json.loads(body).get("query")
    return query if isinstance(query, str) else None


@contextmanager
def serving(config: dict[str, Any]) -> Iterator[tuple[str, Recorder]]:
    """The router over the trace subgraphs, served by uvicorn in a thread: its /graphql
    URL and the recorder of what it saw."""
    with trace_subgraphs() as subgraphs, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        router = Router.from_supergraph(supergraph(subgraphs.subgraph_urls(SCENARIO)))
        recorder = Recorder(create_app(router, config=parse_config(config)))
        server = uvicorn.Server(
            uvicorn.Config(recorder, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
        thread.start()
        try:
            while not server.started:
                assert thread.is_alive(), "uvicorn stopped"
                threading.Event().wait(0.02)
            yield f"http://127.0.0.1:{port}/graphql", recorder
        finally:
            server.should_exit = True
            thread.join(15)


def _client(url: str, mode: str) -> dict[str, Any]:
    done = subprocess.run(
        ["node", "apq.mjs", url, mode], cwd=CLIENTS, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_apollo_apq_misses_registers_then_a_fresh_client_hits():
    with serving({}) as (url, recorder):
        results = _client(url, "apq")
    assert results == {
        "first": {"data": NAMES, "codes": []},
        "second": {"data": NAMES, "codes": []},
    }
    assert recorder.seen == [
        Seen("GET", None, 200),  # hash only: PERSISTED_QUERY_NOT_FOUND
        Seen("POST", TOP_TEXT, 200),  # the link's retry with the text: registered
        Seen("GET", None, 200),  # the second client, hash only: served
    ]


def test_apollo_apq_is_refused_an_unlisted_operation(tmp_path: Path):
    manifest = tmp_path / "manifest.json"
    listed = {
        "id": hashlib.sha256(TOP_TEXT.encode()).hexdigest(),
        "name": "Top",
        "type": "query",
        "body": TOP_TEXT,
    }
    manifest.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [listed]}
        )
    )
    config = {"persisted_queries": {"manifest": str(manifest), "safelist": True}}
    with serving(config) as (url, recorder):
        results = _client(url, "safelist")
    assert results == {
        "listed": {"data": NAMES, "codes": []},
        "unlisted": {"data": None, "codes": ["PERSISTED_QUERY_NOT_IN_LIST"]},
    }
    unlisted = "query Upcs {\n  topProducts {\n    upc\n    __typename\n  }\n}"
    assert recorder.seen == [
        Seen("GET", None, 200),  # the manifest id stands for the listed text
        Seen("GET", None, 200),  # an unknown hash: PERSISTED_QUERY_NOT_FOUND
        Seen("POST", unlisted, 400),  # the text: not in the list, refused
    ]
