"""The benchmark's subgraphs and the router agree with the benchmark's reference answer.

bench/ measures speed only after checking answers; this keeps the pieces it
relies on honest in the normal suite: the four bench subgraphs, served over
real HTTP, composed by the committed supergraph and executed by shopgraph's
router, must give exactly (values and key order) what a monolithic schema over
the same data gives. Timing targets stay in bench/, never here.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.reference import expected_response  # noqa: E402
from router import Router  # noqa: E402

SUBGRAPHS = ("accounts", "products", "inventory", "reviews")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def subgraphs_url() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.subgraph_server", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/health", timeout=1).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"bench subgraphs did not start: {process.stderr.read()!r}")
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=10)


def _post(url: str, body: dict) -> bytes:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def test_inventory_computes_shipping_from_required_fields(subgraphs_url: str) -> None:
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) "
        "{ ... on Product { upc inStock shippingEstimate } } }"
    )
    representations = [
        {"__typename": "Product", "upc": "1", "price": 479, "weight": 63},
        {"__typename": "Product", "upc": "3", "price": 1237, "weight": 169},
    ]
    body = {"query": query, "variables": {"r": representations}}
    first = _post(f"{subgraphs_url}/inventory", body)
    assert json.loads(first) == {
        "data": {
            "_entities": [
                {"upc": "1", "inStock": True, "shippingEstimate": 31},
                {"upc": "3", "inStock": False, "shippingEstimate": 0},
            ]
        }
    }
    assert _post(f"{subgraphs_url}/inventory", body) == first  # memoised answer, same bytes


async def test_router_answers_the_heavy_query_like_the_reference(subgraphs_url: str) -> None:
    heavy = (ROOT / "bench" / "queries" / "heavy.graphql").read_text()
    sdl = (ROOT / "bench" / "supergraph.graphql").read_text()
    urls = {name: f"{subgraphs_url}/{name}" for name in SUBGRAPHS}
    async with Router.from_supergraph(sdl, subgraph_urls=urls) as router:
        answer = await router.execute(heavy)
    expected = expected_response(heavy)
    assert answer == expected
    assert json.dumps(answer) == json.dumps(expected)  # same key order too
    assert len(json.dumps(expected)) > 80_000  # the query really is the heavy one
