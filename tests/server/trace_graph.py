"""A three-subgraph graph for plan diagrams and traces: products (root), reviews and
inventory (entity fetches that run in parallel, each slow enough to overlap)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from router.composition import SubgraphSource, compose
from tests.conformance.kit import Resolvers, SubgraphServer

SCENARIO = "trace"
LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'
SDLS = {
    "products": LINK
    + "type Query { topProducts: [Product!]! broken: String }\n"
    + 'type Product @key(fields: "upc") { upc: String! name: String! }\n',
    "reviews": LINK
    + 'type Product @key(fields: "upc") { upc: String! reviews: [Review!]! }\n'
    + "type Review { id: ID! body: String! }\n",
    "inventory": LINK + 'type Product @key(fields: "upc") { upc: String! inStock: Boolean! }\n',
}
# four products, one of them twice: three distinct representations per entity fetch
TOP = ["p1", "p2", "p1", "p3"]
QUERY = "query Top { topProducts { name reviews { body } inStock } }"
ENTITY_DELAY = 0.2  # seconds each entity fetch takes: long enough to see them overlap


def _broken(_info: Any) -> str:
    raise ValueError("broken on purpose")


def _slow(representation: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    time.sleep(ENTITY_DELAY / 3)  # per entity: three per batch
    return {**representation, **extra}


RESOLVERS = {
    "products": Resolvers(
        query={
            "topProducts": lambda _info: [{"upc": u, "name": f"name-{u}"} for u in TOP],
            "broken": _broken,
        }
    ),
    "reviews": Resolvers(
        entities={
            "Product": lambda r: _slow(r, {"reviews": [{"id": "1", "body": f"about {r['upc']}"}]})
        }
    ),
    "inventory": Resolvers(entities={"Product": lambda r: _slow(r, {"inStock": True})}),
}


def supergraph(urls: dict[str, str]) -> str:
    """The composed supergraph of the three subgraphs served at `urls`."""
    result = compose([SubgraphSource(name, urls[name], sdl) for name, sdl in SDLS.items()])
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


@contextmanager
def trace_subgraphs() -> Iterator[SubgraphServer]:
    """The three subgraphs over real HTTP, under scenario `SCENARIO`."""
    with SubgraphServer() as server:
        for name, sdl in SDLS.items():
            server.mount(SCENARIO, name, sdl, RESOLVERS[name])
        yield server
