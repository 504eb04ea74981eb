"""A refused operation leaves nothing big for the garbage collector: found by the hostile
mix of bench.attack, where `shopgraph router` (collecting rarely) grew by 311 MB. Each
refusal raised on the planner thread and awaited on the event loop formed a reference
cycle through its traceback, holding the refused document (150,000 objects for
100,000 tokens) until the collector examined the generation they had reached."""

from __future__ import annotations

import gc
from pathlib import Path

import httpx
import pytest

from router import Router
from router.server import create_app

SUPERGRAPH = (Path(__file__).parents[2] / "bench" / "supergraph.graphql").read_text()

REFUSED = {
    "too many tokens": "{ " + "__typename " * 30_000 + "}",
    "too many aliases": "{ topProducts { " + " ".join(f"a{i}: upc" for i in range(5000)) + " } }",
    "unknown field": "{ " + " ".join(f"f{i}: nope" for i in range(2000)) + " }",
}


@pytest.mark.parametrize("query", list(REFUSED.values()), ids=list(REFUSED))
async def test_a_refused_operation_leaves_no_big_cycle(query: str):
    app = create_app(Router.from_supergraph(SUPERGRAPH, subgraph_urls={}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        await client.post("/graphql", json={"query": "{ __typename }"})  # all warmed up
        gc.collect()
        enabled = gc.isenabled()
        gc.disable()
        try:
            for _ in range(3):
                response = await client.post("/graphql", json={"query": query})
            found = gc.collect()
        finally:
            if enabled:
                gc.enable()
    await app.router.aclose()
    assert response.json()["errors"][0]["extensions"]["code"]
    # a few frames of the requests' own handling, not their documents (150,000 objects
    # for three of 30,000 tokens before the fix)
    assert found < 500
