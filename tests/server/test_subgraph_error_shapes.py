"""Subgraph answers whose `errors` is malformed or huge, sent over real HTTP (and a real
subscription socket): a malformed `errors` is one coded error for that fetch, one fetch
adds at most 100 of a subgraph's errors to the response, and nothing is ever a 5xx.

Before, a string of a million characters in `errors` became a million error objects (a
response of about 100 MB), and an error whose `extensions` was a string was a 500.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from router import Router
from router.composition import SubgraphSource, compose
from router.config import parse_config
from router.executor.subgraph_errors import MAX_SUBGRAPH_ERRORS
from router.server import create_app

LINK = '@link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])'
SDLS = {
    "products": f"""extend schema {LINK}
type Query {{ products: [Product] }}
type Product @key(fields: "id") {{ id: ID! name: String }}""",
    "reviews": f"""extend schema {LINK}
type Product @key(fields: "id") {{ id: ID! rating: Int }}""",
    "live": f"""extend schema {LINK}
type Subscription {{ productAdded: Product! }}
type Product @key(fields: "id") {{ id: ID! }}""",
}
PRODUCTS = "{ products { id name } }"
RATED = "{ products { id rating } }"


class Subgraphs:
    """`products` and `reviews` over HTTP on one server, each answering with the JSON
    a test sets in `answers`; `live` is a subscription socket on another port."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.event: Any = None  # the payload of the `next` message `live` sends
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                payload = json.dumps(outer.answers[self.path.strip("/")]).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        """Where the HTTP subgraph `name` answers."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    async def live(self, connection: ServerConnection) -> None:
        """graphql-transport-ws: acknowledge, send `event` as one `next`, then complete."""
        await connection.recv()
        await connection.send(json.dumps({"type": "connection_ack"}))
        await connection.recv()
        await connection.send(json.dumps({"id": "1", "type": "next", "payload": self.event}))
        await connection.send(json.dumps({"id": "1", "type": "complete"}))
        await connection.wait_closed()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def subgraphs() -> Iterator[Subgraphs]:
    """The test subgraphs, for the whole module."""
    served = Subgraphs()
    yield served
    served.close()


@asynccontextmanager
async def routed(subgraphs: Subgraphs) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a router over the subgraphs (`live` on its own WebSocket server)."""
    async with serve(subgraphs.live, "127.0.0.1", 0, subprotocols=["graphql-transport-ws"]) as ws:
        urls = {name: subgraphs.url(name) for name in ("products", "reviews")}
        urls["live"] = f"http://127.0.0.1:{ws.sockets[0].getsockname()[1]}/live"
        result = compose([SubgraphSource(name, urls[name], SDLS[name]) for name in SDLS])
        assert result.supergraph_sdl is not None, result.errors
        app = create_app(Router.from_supergraph(result.supergraph_sdl), config=parse_config({}))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
            yield client
        await app.router.aclose()


async def _ask(subgraphs: Subgraphs, query: str) -> tuple[int, dict[str, Any]]:
    async with routed(subgraphs) as client:
        response = await client.post("/graphql", json={"query": query})
    return response.status_code, response.json()


def _invalid(service: str, problem: str) -> dict[str, Any]:
    return {
        "message": f"Subgraph '{service}' returned an invalid 'errors' value: {problem}.",
        "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": service},
    }


def _theirs(message: str, service: str, path: list[Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if path is not None:
        error["path"] = path
    error["extensions"] = {"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": service}
    return error


LEFT_OUT = (
    "Subgraph '{}' returned more errors than the router reports for one fetch "
    f"({MAX_SUBGRAPH_ERRORS}); the rest were left out."
)


@pytest.mark.parametrize(
    ("errors", "kind"),
    [
        ("e" * 1_000_000, "a string"),
        ({"message": "not in a list"}, "an object"),
        (7, "a number"),
        (True, "a boolean"),
        ("", "a string"),
    ],
    ids=["long-string", "object", "number", "boolean", "empty-string"],
)
async def test_an_errors_value_that_is_no_list_is_one_coded_error(
    subgraphs: Subgraphs, errors: Any, kind: str
) -> None:
    subgraphs.answers["products"] = {"data": {"products": None}, "errors": errors}
    status, body = await _ask(subgraphs, PRODUCTS)
    assert status == 200
    assert body == {
        "data": {"products": None},
        "errors": [_invalid("products", f"{kind}, not a list of error objects")],
    }


async def test_items_that_are_not_error_objects_are_one_coded_error_beside_the_others(
    subgraphs: Subgraphs,
) -> None:
    errors = [
        {"message": "kept", "path": ["products", 0, "name"], "extensions": {"code": "GONE"}},
        "a string",
        3,
        None,
        {"message": {"nested": 1}},
        {"message": "extensions are no object", "extensions": "NOT_FOUND"},
        {"message": "a path that is no path", "path": [1.5]},
        {"path": ["products"]},
    ]
    product = {"id": "p1", "name": None}
    subgraphs.answers["products"] = {"data": {"products": [product]}, "errors": errors}
    status, body = await _ask(subgraphs, PRODUCTS)
    assert status == 200
    assert body == {
        "data": {"products": [product]},
        "errors": [
            {
                "message": "kept",
                "path": ["products", 0, "name"],
                "extensions": {"code": "GONE", "serviceName": "products"},
            },
            _theirs("Subgraph error", "products", ["products"]),
            _invalid("products", "6 of its 8 items are not error objects"),
        ],
    }


async def test_a_root_fetch_reports_at_most_the_cap_then_one_error(subgraphs: Subgraphs) -> None:
    errors = [{"message": f"e{i}"} for i in range(5000)]
    subgraphs.answers["products"] = {"data": {"products": None}, "errors": errors}
    status, body = await _ask(subgraphs, PRODUCTS)
    assert status == 200
    assert body["data"] == {"products": None}
    assert body["errors"] == [
        *(_theirs(f"e{i}", "products") for i in range(MAX_SUBGRAPH_ERRORS)),
        _theirs(LEFT_OUT.format("products"), "products"),
    ]


async def test_exactly_the_cap_is_reported_without_the_extra_error(
    subgraphs: Subgraphs,
) -> None:
    errors = [{"message": f"e{i}"} for i in range(MAX_SUBGRAPH_ERRORS)]
    subgraphs.answers["products"] = {"data": {"products": None}, "errors": errors}
    _, body = await _ask(subgraphs, PRODUCTS)
    assert body["errors"] == [_theirs(f"e{i}", "products") for i in range(MAX_SUBGRAPH_ERRORS)]


async def test_an_entity_error_fanned_out_to_many_positions_is_capped(
    subgraphs: Subgraphs,
) -> None:
    # 150 positions share one representation: one error of the subgraph's is 150 errors
    same = [{"__typename": "Product", "id": "p1"} for _ in range(150)]
    subgraphs.answers["products"] = {"data": {"products": same}}
    failed = {"message": "no rating", "path": ["_entities", 0, "rating"]}
    subgraphs.answers["reviews"] = {"data": {"_entities": [None]}, "errors": [failed]}
    status, body = await _ask(subgraphs, RATED)
    assert status == 200
    assert body["data"] == {"products": [{"id": "p1", "rating": None}] * 150}
    assert body["errors"] == [
        *(_theirs("no rating", "reviews", ["products", i, "rating"]) for i in range(100)),
        _theirs(LEFT_OUT.format("reviews"), "reviews"),
    ]


async def test_an_entity_answer_with_a_string_for_errors_is_one_coded_error(
    subgraphs: Subgraphs,
) -> None:
    subgraphs.answers["products"] = {"data": {"products": [{"__typename": "Product", "id": "p1"}]}}
    subgraphs.answers["reviews"] = {"data": {"_entities": [{"rating": 4}]}, "errors": "x" * 10**6}
    status, body = await _ask(subgraphs, RATED)
    assert status == 200
    assert body == {
        "data": {"products": [{"id": "p1", "rating": 4}]},
        "errors": [_invalid("reviews", "a string, not a list of error objects")],
    }


async def test_a_subscription_event_with_a_string_for_errors_is_one_coded_error(
    subgraphs: Subgraphs,
) -> None:
    subgraphs.event = {"data": None, "errors": "e" * 1_000_000}
    async with routed(subgraphs) as client:
        response = await client.post(
            "/graphql",
            json={"query": "subscription { productAdded { id } }"},
            headers={"accept": "text/event-stream"},
        )
    events = [block for block in response.text.split("\n\n") if block.startswith("event:")]
    assert response.status_code == 200
    assert events[-1] == "event: complete\ndata:"
    nexts = [json.loads(block.split("\ndata:", 1)[1]) for block in events[:-1]]
    assert nexts == [
        {"data": None, "errors": [_invalid("live", "a string, not a list of error objects")]}
    ]
