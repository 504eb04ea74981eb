"""@defer cases against Hive Gateway's recorded payloads (`defer_expected.json`, written
by record_defer.py): for each case, our router's payloads over the scenario's real
subgraphs must give the same first payload, the same merged result and the same
(label, path) incremental items. Payload grouping and the order of independent parts are
not compared (they depend on which fetch finishes first), nor error paths inside items
(Hive repeats the field's key in them: `["orders", 1, "paymentStatus", "paymentStatus"]`);
which items carry errors is. A case with `why` and `expected` was checked by hand."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from router.core import Router
from tests.conformance.kit import SubgraphServer
from tests.conformance.record_defer import EXPECTED_FILE, defer_cases
from tests.conformance.scenarios import Scenario, load_scenarios
from tests.router.test_defer_execution import merged

SCENARIOS = [s for s in load_scenarios() if defer_cases(s)]
CASES = [(s, case) for s in SCENARIOS for case in defer_cases(s)]


@pytest.fixture(scope="module")
def server() -> Iterator[SubgraphServer]:
    with SubgraphServer() as served:
        for s in SCENARIOS:
            for name, resolvers in s.resolvers.items():
                served.mount(s.name, name, s.subgraph_sdls[name], resolvers)
        yield served


def summary(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """What is compared of a stream of payloads."""
    items = [item for p in payloads[1:] for item in p.get("incremental", ())]
    return {
        "first": {k: payloads[0].get(k) for k in ("data", "hasNext")},
        "merged": merged(payloads),
        "items": sorted((item.get("label"), item["path"]) for item in items),
        "failed": sorted(item["path"] for item in items if item.get("errors")),
        "last": payloads[-1].get("hasNext"),
    }


async def _ours(router: Router, query: str) -> list[dict[str, Any]]:
    try:
        prepared = router.prepare(query)
        stream = router.execute_incremental(prepared, {})
        if stream is None:  # nothing deferred: one ordinary answer
            return [await router.execute_prepared(prepared, {})]
        return [payload async for payload in stream]
    finally:
        await router.aclose()


@pytest.mark.parametrize(
    ("scenario", "case"), CASES, ids=[f"{s.name}/{c['name']}" for s, c in CASES]
)
def test_defer_case(server: SubgraphServer, scenario: Scenario, case: dict[str, Any]) -> None:
    router = Router.from_supergraph(
        scenario.supergraph, subgraph_urls=server.subgraph_urls(scenario.name)
    )
    ours = summary(asyncio.run(_ours(router, case["query"])))
    if "expected" in case:
        assert case.get("why"), "a hand-checked case says why"
        expected = case["expected"]
        expected["items"] = sorted((label, path) for label, path in expected["items"])
    else:
        recorded = json.loads((scenario.path / EXPECTED_FILE).read_text())
        expected = summary(recorded[case["name"]])
    ours["items"] = [tuple(i) for i in ours["items"]]
    expected["items"] = [tuple(i) for i in expected["items"]]
    assert ours == expected
