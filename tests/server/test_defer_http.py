"""@defer over real HTTP: `shopgraph router` as a process, real subgraph servers behind it.

The stock subgraph waits on a gate the test opens: the primary payload must reach the
client while the deferred part's fetch is still held (flushed, not buffered), and a
client leaving mid-stream must stop the parts not yet started.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from router.config import parse_config
from router.core import Router
from router.server import create_app
from tests.conformance.kit import Resolvers, SubgraphServer
from tests.router.conftest import scenario
from tests.router.test_defer_execution import merged
from tests.server.router_process import router_process

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "tests" / "clients"
NAME = "defer-http"
ACCEPT = "multipart/mixed;deferSpec=20220824, application/json"
WAIT = 10.0


@dataclass
class Stack:
    url: str
    gate: threading.Event
    server: SubgraphServer
    supergraph: str


def _gated(resolvers: Resolvers, gate: threading.Event) -> Resolvers:
    """The stock subgraph's resolvers, each entity held until `gate` opens."""
    inner = resolvers.entities["Product"]

    def held(rep: dict[str, Any]) -> Any:
        gate.wait(WAIT)
        return inner(rep)

    return Resolvers(entities={"Product": held})


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    source = scenario("entity-lists-batching")
    gate = threading.Event()
    folder = tmp_path_factory.mktemp("defer")
    with SubgraphServer() as server:
        for name, resolvers in source.resolvers.items():
            if name == "stock":
                resolvers = _gated(resolvers, gate)
            server.mount(NAME, name, source.subgraph_sdls[name], resolvers)
        sdl = re.sub(
            r"http://subgraphs\.invalid/entity-lists-batching/(\w+)",
            lambda m: server.url(NAME, m.group(1)),
            source.supergraph,
        )
        with router_process(folder, sdl, {}) as router:
            yield Stack(router.url, gate, server, sdl)


def parts(body: bytes) -> list[dict[str, Any]]:
    """The JSON payloads of a deferSpec=20220824 multipart body (checking its framing)."""
    assert body.endswith(b"\r\n-----\r\n")
    chunks = body[: -len(b"\r\n-----\r\n")].split(b"\r\n---\r\n")
    assert chunks[0] == b""
    out = []
    for chunk in chunks[1:]:
        head, payload = chunk.split(b"\r\n\r\n", 1)
        assert head == b"content-type: application/json; charset=utf-8"
        out.append(json.loads(payload))
    return out


def _plain(stack: Stack, query: str) -> dict[str, Any]:
    stack.gate.set()
    response = httpx.post(stack.url + "/graphql", json={"query": query}, timeout=WAIT)
    return response.json()


QUERY = '{ catalog { id name ... @defer(label: "stock") { inStock } } }'


def test_the_primary_payload_arrives_while_the_deferred_fetch_is_held(stack: Stack) -> None:
    stack.gate.clear()
    stack.server.reset(NAME)
    received = b""
    with httpx.stream(
        "POST",
        stack.url + "/graphql",
        json={"query": QUERY},
        headers={"accept": ACCEPT},
        timeout=WAIT,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == (
            'multipart/mixed; boundary="-"; deferSpec=20220824'
        )
        chunks = response.iter_raw()
        while b'"hasNext":true' not in received:
            received += next(chunks)
        # the first part is complete while stock still holds the deferred fetch
        first = parts(received.split(b'"hasNext":true}')[0] + b'"hasNext":true}\r\n-----\r\n')
        assert first == [
            {
                "data": {
                    "catalog": [{"id": f"p{n:02d}", "name": f"Product {n}"} for n in range(1, 51)]
                },
                "hasNext": True,
            }
        ]
        assert not stack.gate.is_set()
        stack.gate.set()
        for chunk in chunks:
            received += chunk
    payloads = parts(received)
    assert len(payloads) == 2
    assert payloads[1]["hasNext"] is False
    items = payloads[1]["incremental"]
    assert [item["path"] for item in items] == [["catalog", n] for n in range(50)]
    assert {item["label"] for item in items} == {"stock"}
    assert items[2] == {"data": {"inStock": False}, "path": ["catalog", 2], "label": "stock"}
    assert merged(payloads) == _plain(stack, re.sub(r"@defer\([^)]*\)", "", QUERY))["data"]


def test_a_client_without_multipart_gets_the_whole_answer_at_once(stack: Stack) -> None:
    stack.gate.set()
    response = httpx.post(
        stack.url + "/graphql",
        json={"query": QUERY},
        headers={"accept": "application/json"},
        timeout=WAIT,
    )
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    plain = _plain(stack, "{ catalog { id name inStock } }")
    assert response.json() == plain
    assert len(plain["data"]["catalog"]) == 50


def test_get_with_defer_streams_too(stack: Stack) -> None:
    stack.gate.set()
    query = "{ categories { name ... @defer { products { id } } } }"
    response = httpx.get(
        f"{stack.url}/graphql?query={quote(query)}", headers={"accept": ACCEPT}, timeout=WAIT
    )
    assert response.status_code == 200
    payloads = parts(response.content)
    assert payloads[0] == {
        "data": {"categories": [{"name": "kitchen"}, {"name": "garden"}, {"name": "empty"}]},
        "hasNext": True,
    }
    assert payloads[1] == {
        "incremental": [
            {
                "data": {"products": [{"id": "p01"}, {"id": "p02"}, {"id": "p03"}]},
                "path": ["categories", 0],
            },
            {
                "data": {"products": [{"id": "p03"}, {"id": "p04"}, {"id": "p05"}]},
                "path": ["categories", 1],
            },
            {"data": {"products": []}, "path": ["categories", 2]},
        ],
        "hasNext": False,
    }


def test_an_operation_without_defer_is_answered_as_json_to_a_multipart_client(
    stack: Stack,
) -> None:
    stack.gate.set()
    response = httpx.post(
        stack.url + "/graphql",
        json={"query": "{ categories { name } }"},
        headers={"accept": "multipart/mixed;deferSpec=20220824"},
        timeout=WAIT,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "data": {"categories": [{"name": "kitchen"}, {"name": "garden"}, {"name": "empty"}]}
    }


def test_a_refused_defer_is_a_coded_error_not_a_stream(stack: Stack) -> None:
    response = httpx.post(
        stack.url + "/graphql",
        json={
            "query": '{ catalog { ... @defer(label: "a") { id } ... @defer(label: "a") { name } } }'
        },
        headers={"accept": ACCEPT},
        timeout=WAIT,
    )
    assert response.status_code == 200
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "label" in body["errors"][0]["message"]


def test_a_client_leaving_mid_stream_stops_the_parts_not_started(stack: Stack) -> None:
    # "late" is nested in "stock": it would start only once stock's part is delivered
    query = (
        'query Leaving { catalog { id ... @defer(label: "stock") { inStock '
        '... @defer(label: "late") { price } } } }'
    )
    stack.gate.clear()
    stack.server.reset(NAME)
    before = _requests_counted(stack, "Leaving")
    body = json.dumps({"query": query}).encode()
    port = int(stack.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"accept: {ACCEPT}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        received = b""
        while b'"hasNext":true' not in received:
            received += sock.recv(65536)
    # gone before stock answered. The request is counted only once the router has seen
    # the client go (stock's part is still held), so wait for that before opening the gate:
    # on a loaded machine the router may notice late, and that is not what is tested here
    deadline = time.monotonic() + WAIT
    while _requests_counted(stack, "Leaving") == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _requests_counted(stack, "Leaving") == before + 1
    # once stock answers, the router must not go on to pricing
    stack.gate.set()
    time.sleep(1.0)
    counts = stack.server.counts(NAME)
    assert counts.get("pricing", 0) == 0
    assert counts["catalog"] == 1


def test_a_disconnect_leaves_no_task_behind(stack: Stack) -> None:
    """In process, with the ASGI app itself: once the client is gone and the app has
    returned, none of the deferred parts' tasks is left running."""
    stack.gate.clear()
    query = '{ catalog { id ... @defer(label: "stock") { inStock } } }'

    async def go() -> tuple[list[dict[str, Any]], list[asyncio.Task[Any]]]:
        app = create_app(Router.from_supergraph(stack.supergraph), config=parse_config({}))
        gone = asyncio.Event()
        incoming = [{"type": "http.request", "body": json.dumps({"query": query}).encode()}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if incoming:
                return incoming.pop()
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if b'"hasNext":true' in message.get("body", b""):
                gone.set()  # the client leaves as soon as it has the primary payload

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/graphql",
            "query_string": b"",
            "headers": [(b"accept", ACCEPT.encode()), (b"content-type", b"application/json")],
            "client": ("127.0.0.1", 1),
        }
        await asyncio.wait_for(app(scope, receive, send), WAIT)
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await app.router.aclose()
        return sent, left

    sent, left = asyncio.run(go())
    stack.gate.set()
    assert sent[0]["status"] == 200
    assert [m.get("more_body") for m in sent[1:]] == [True]  # the primary part, then gone
    assert left == []


@pytest.mark.skipif(
    shutil.which("node") is None or not (CLIENTS / "node_modules" / "@apollo" / "client").is_dir(),
    reason="node and tests/clients/node_modules are installed by `shopgraph test`",
)
def test_apollo_client_reads_the_parts_in_order(stack: Stack) -> None:
    """Apollo Client 4 with its deferSpec=20220824 handler (tests/clients/defer.mjs): the
    primary result first (while stock is held), then the merged result, equal to the
    plain query's."""
    stack.gate.clear()
    script = subprocess.Popen(
        ["node", "defer.mjs", stack.url + "/graphql"],
        cwd=CLIENTS,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert script.stdout is not None
        primary = json.loads(script.stdout.readline())
        assert not stack.gate.is_set()  # it had the primary while the deferred fetch waited
        stack.gate.set()
        out, err = script.communicate(timeout=30)
    finally:
        stack.gate.set()
        if script.poll() is None:
            script.kill()
    assert script.returncode == 0, err
    names = [
        {"__typename": "Product", "id": f"p{n:02d}", "name": f"Product {n}"} for n in range(1, 51)
    ]
    assert primary == {"primary": {"catalog": names}}
    final = json.loads(out)
    assert [r["dataState"] for r in final["results"]] == ["streaming", "complete"]
    assert final["results"][0]["data"] == {"catalog": names}
    assert final["results"][1]["data"] == final["plain"]
    assert final["plain"]["catalog"][2] == {
        "__typename": "Product",
        "id": "p03",
        "name": "Product 3",
        "inStock": False,
    }


def _requests_counted(stack: Stack, operation: str) -> float:
    text = httpx.get(stack.url + "/metrics", timeout=WAIT).text
    line = f'shopgraph_requests_total{{operation="{operation}",status="200"}} '
    return sum(float(row[len(line) :]) for row in text.splitlines() if row.startswith(line))


def test_a_streamed_request_is_counted_once(stack: Stack) -> None:
    stack.gate.set()
    before = _requests_counted(stack, "Counted")
    response = httpx.post(
        stack.url + "/graphql",
        json={"query": "query Counted { catalog { id ... @defer { price } } }"},
        headers={"accept": ACCEPT},
        timeout=WAIT,
    )
    assert [p["hasNext"] for p in parts(response.content)] == [True, False]
    assert _requests_counted(stack, "Counted") == before + 1
