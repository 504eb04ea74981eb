"""A small shop graph whose schema carries @authenticated, @requiresScopes and @policy,
served over real HTTP by the conformance kit's subgraph server.

`supergraph.graphql` is `catalog.graphql` + `stock.graphql` composed by
@apollo/composition (`node tests/conformance/tools/compose.mjs tests/server/auth_graph`
rewrites it); the router's subgraph URLs point at the kit's server instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conformance.kit import Resolvers, SubgraphServer

HERE = Path(__file__).parent
SCENARIO = "auth"
SUPERGRAPH = (HERE / "supergraph.graphql").read_text()

PRODUCTS = [
    {"id": "p1", "name": "Green tea", "cost": 3, "supplier": "Leafy", "margin": 0.5},
    {"id": "p2", "name": "Mug", "cost": 5, "supplier": "Clay & Co", "margin": 0.4},
]
STOCK = {
    "p1": {"stock": {"available": 10, "onHand": 12}, "reserved": 2},
    "p2": {"stock": {"available": 0, "onHand": 1}, "reserved": 1},
}
ALICE = {"id": "u1", "name": "Alice", "email": "alice@example.com"}
FEED = [
    {"__typename": "Article", "id": "a1", "title": "News", "views": 7, "code": "A-1"},
    {"__typename": "Memo", "id": "m1", "title": "Plan", "views": 3},
]


def _rename(info: Any, id: str, name: str) -> dict[str, Any] | None:
    found = next((p for p in PRODUCTS if p["id"] == id), None)
    return None if found is None else {**found, "name": name}


CATALOG = Resolvers(
    query={
        "products": lambda info: PRODUCTS,
        "me": lambda info: ALICE,
        "secret": lambda info: "42",
        "feed": lambda info: FEED,
        "search": lambda info: FEED,
    },
    mutation={"rename": _rename, "ping": lambda info: "pong"},
    entities={"Product": lambda rep: next((p for p in PRODUCTS if p["id"] == rep["id"]), None)},
)
STOCK_RESOLVERS = Resolvers(entities={"Product": lambda rep: {"id": rep["id"], **STOCK[rep["id"]]}})


def start_server() -> SubgraphServer:
    """The two subgraphs, served at /auth/catalog and /auth/stock."""
    server = SubgraphServer()
    server.mount(SCENARIO, "catalog", (HERE / "catalog.graphql").read_text(), CATALOG)
    server.mount(SCENARIO, "stock", (HERE / "stock.graphql").read_text(), STOCK_RESOLVERS)
    return server.start()
