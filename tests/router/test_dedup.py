"""Identical subgraph queries in flight at once share one HTTP call (queries only,
same headers only)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from router import Router
from router.composition import SubgraphSource, compose
from router.executor.fetcher import SubgraphClientSettings
from tests.conformance.kit import Resolvers, SubgraphServer

SDL = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'
    "type Query { slow: Int! }\n"
    "type Mutation { bump: Int! }\n"
)


def _slow(info: object) -> int:
    time.sleep(0.3)  # long enough for the concurrent requests to overlap
    return 7


@pytest.fixture
def server():
    calls = {"bump": 0}
    lock = threading.Lock()

    def bump(info: object) -> int:
        with lock:
            calls["bump"] += 1
            mine = calls["bump"]
        time.sleep(0.2)
        return mine

    with SubgraphServer() as srv:
        srv.mount("d", "only", SDL, Resolvers(query={"slow": _slow}, mutation={"bump": bump}))
        yield srv


def _router(server: SubgraphServer, **options: object) -> Router:
    result = compose([SubgraphSource("only", server.url("d", "only"), SDL)])
    assert result.supergraph_sdl is not None
    return Router.from_supergraph(result.supergraph_sdl, **options)


async def test_identical_concurrent_queries_share_one_subgraph_call(server):
    router = _router(server)
    answers = await asyncio.gather(*(router.execute("{ slow }") for _ in range(5)))
    assert answers == [{"data": {"slow": 7}}] * 5
    assert server.counts("d") == {"only": 1}
    assert router.client.deduplicated == 4
    await router.aclose()


async def test_request_ids_and_trace_headers_do_not_prevent_sharing(server):
    router = _router(server)
    answers = await asyncio.gather(
        *(
            router.execute("{ slow }", headers={"x-request-id": f"r{i}", "traceparent": f"t{i}"})
            for i in range(3)
        )
    )
    assert answers == [{"data": {"slow": 7}}] * 3
    assert server.counts("d") == {"only": 1}
    await router.aclose()


async def test_different_headers_are_never_shared(server):
    router = _router(server)
    answers = await asyncio.gather(
        router.execute("{ slow }", headers={"authorization": "Bearer alice"}),
        router.execute("{ slow }", headers={"authorization": "Bearer bob"}),
    )
    assert answers == [{"data": {"slow": 7}}] * 2
    assert server.counts("d") == {"only": 2}
    await router.aclose()


async def test_mutations_are_never_shared(server):
    router = _router(server)
    answers = await asyncio.gather(*(router.execute("mutation { bump }") for _ in range(3)))
    assert sorted(a["data"]["bump"] for a in answers) == [1, 2, 3]
    assert server.counts("d") == {"only": 3}
    await router.aclose()


async def test_sharing_can_be_turned_off(server):
    router = _router(server, fetching=SubgraphClientSettings(deduplicate=False))
    await asyncio.gather(*(router.execute("{ slow }") for _ in range(3)))
    assert server.counts("d") == {"only": 3}
    await router.aclose()
