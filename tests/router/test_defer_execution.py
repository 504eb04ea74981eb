"""@defer executed against real subgraphs over HTTP: the payloads in order, and their
merged result equal to the same operation's answer without @defer."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest

from router.core import Router
from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario
from tests.router.conftest import scenario

SCENARIOS = ("entity-lists-batching", "abstract-interfaces", "keys-multiple")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SubgraphServer, dict[str, Scenario]]]:
    loaded = {name: scenario(name) for name in SCENARIOS}
    with SubgraphServer() as server:
        for s in loaded.values():
            for name, resolvers in s.resolvers.items():
                server.mount(s.name, name, s.subgraph_sdls[name], resolvers)
        yield server, loaded


def _router(served: tuple[SubgraphServer, dict[str, Scenario]], name: str) -> Router:
    server, loaded = served
    return Router.from_supergraph(loaded[name].supergraph, subgraph_urls=server.subgraph_urls(name))


async def _payloads(
    router: Router, query: str, variables: dict[str, Any] | None = None
) -> list[Any]:
    prepared = router.prepare(query)
    coerced = router.coerce_variables(prepared, variables)
    stream = router.execute_incremental(prepared, coerced)
    assert stream is not None
    return [payload async for payload in stream]


def merged(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """The deferSpec=20220824 payloads merged the way a client merges them."""
    data = copy.deepcopy(payloads[0]["data"])
    for payload in payloads[1:]:
        for item in payload.get("incremental", ()):
            target: Any = data
            for step in item["path"]:
                target = target[step]
            _deep_merge(target, item["data"])
    return data


def _deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


def _plain(query: str) -> str:
    return re.sub(r"@defer(\([^)]*\))?", "", query)


def run(router: Router, query: str, variables: dict[str, Any] | None = None) -> list[Any]:
    async def go() -> list[Any]:
        try:
            return await _payloads(router, query, variables)
        finally:
            await router.aclose()

    return asyncio.run(go())


MERGE_CASES = [
    ("entity-lists-batching", "{ catalog { id ... @defer { price } } }"),
    ("entity-lists-batching", "{ catalog { id name ... @defer { inStock price } } }"),
    ("entity-lists-batching", '{ catalog { ... @defer(label: "n") { name } } }'),
    (
        "entity-lists-batching",
        '{ catalog { id ... @defer(label: "a") { price related { id '
        '... @defer(label: "b") { inStock name } } } } }',
    ),
    ("entity-lists-batching", "{ grid { id ... @defer { price inStock } } }"),
    ("entity-lists-batching", "{ categories { name products { id ... @defer { price } } } }"),
    ("entity-lists-batching", "{ bestsellers { id } ... @defer { categories { name } } }"),
    (
        "entity-lists-batching",
        '{ catalog { id ...P @defer(label: "frag") } } fragment P on Product { price inStock }',
    ),
    (
        "entity-lists-batching",
        '{ catalog { id ... @defer(label: "o") { price ... @defer(label: "i") { inStock } } } }',
    ),
]


@pytest.mark.parametrize(("name", "query"), MERGE_CASES)
def test_merged_payloads_equal_the_answer_without_defer(served: Any, name: str, query: str) -> None:
    payloads = run(_router(served, name), query)
    plain = asyncio.run(_plain_answer(_router(served, name), _plain(query)))
    assert "errors" not in plain
    assert payloads[0]["hasNext"] is (len(payloads) > 1)
    assert [p["hasNext"] for p in payloads[1:]] == [True] * (len(payloads) - 2) + [False]
    assert merged(payloads) == plain["data"]
    assert all("errors" not in p for p in payloads)


async def _plain_answer(router: Router, query: str) -> dict[str, Any]:
    try:
        return await router.execute(query)
    finally:
        await router.aclose()
