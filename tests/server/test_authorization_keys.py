"""A field authorization removed stays null even when the plan fetches it anyway: a key
the planner selects for its own entity fetch must not carry the value back to a request
that may not see it (found by a review probe: `{ products { sku stock } }` with `sku`
refused answered the real SKU)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from router import Router
from router.authorization.access import Access
from router.composition import SubgraphSource, compose
from router.supergraph import load_supergraph
from tests.conformance.kit import Resolvers, SubgraphServer

SCENARIO = "authkeys"
LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", '
    'import: ["@key", "@requiresScopes"])\n'
)
CATALOG = (
    LINK
    + """
type Query { products: [Product] }
type Product @key(fields: "sku") {
  sku: String @requiresScopes(scopes: [["staff"]])
  name: String
}
"""
)
STOCK = (
    LINK
    + """
type Product @key(fields: "sku") {
  sku: String @requiresScopes(scopes: [["staff"]])
  stock: Int
}
"""
)
PRODUCTS = [{"sku": "SECRET-SKU", "name": "Mug"}]


@pytest.fixture(scope="module")
def subgraphs() -> Iterator[SubgraphServer]:
    server = SubgraphServer()
    server.mount(SCENARIO, "catalog", CATALOG, Resolvers(query={"products": lambda info: PRODUCTS}))
    server.mount(
        SCENARIO,
        "stock",
        STOCK,
        Resolvers(entities={"Product": lambda rep: {"sku": rep["sku"], "stock": 5}}),
    )
    yield server.start()
    server.stop()


def _router(subgraphs: SubgraphServer) -> Router:
    result = compose(
        [
            SubgraphSource("catalog", "http://catalog.invalid", CATALOG),
            SubgraphSource("stock", "http://stock.invalid", STOCK),
        ]
    )
    assert result.errors == ()
    supergraph = load_supergraph(result.supergraph_sdl)
    return Router(supergraph, subgraph_urls=subgraphs.subgraph_urls(SCENARIO))


REFUSED = {
    "message": "Unauthorized field or type",
    "path": ["products", "@", "sku"],
    "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
}


async def test_a_refused_key_field_is_null_though_the_plan_fetches_it(
    subgraphs: SubgraphServer,
) -> None:
    async with _router(subgraphs) as router:
        customer = Access(True, frozenset({"customer"}))
        refused = await router.execute("{ products { sku name stock } }", access=customer)
        assert refused == {
            "errors": [REFUSED],
            "data": {"products": [{"sku": None, "name": "Mug", "stock": 5}]},
        }
        staff = Access(True, frozenset({"staff"}))
        allowed = await router.execute("{ products { sku name stock } }", access=staff)
        assert allowed == {"data": {"products": [{"sku": "SECRET-SKU", "name": "Mug", "stock": 5}]}}
