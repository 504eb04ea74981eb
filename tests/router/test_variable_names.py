"""A client's variable may have any name, including the one entity fetches use for
their representations (found by a hostile-input probe: the subgraph refused the fetch
with "There can be only one variable named '$representations'")."""

from __future__ import annotations

from router import Router
from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario

QUERY = "query Q($%s: String!) { product(upc: $%s) { name reviewCount } }"


async def test_a_client_variable_named_like_the_representations(
    keys_single: Scenario, keys_server: SubgraphServer
):
    urls = keys_server.subgraph_urls(keys_single.name)
    async with Router.from_supergraph(keys_single.supergraph, subgraph_urls=urls) as router:
        plain = await router.execute(QUERY % ("upc", "upc"), {"upc": "p1"})
        clashing = await router.execute(
            QUERY % ("representations", "representations"), {"representations": "p1"}
        )
        plan = router.plan_text(QUERY % ("representations", "representations"))
    assert "errors" not in plain and plain["data"]["product"]["reviewCount"] >= 0
    assert clashing == plain
    assert "_entities(representations: $_representations)" in plan
