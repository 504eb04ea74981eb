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
from router.executor.trace import TraceRecorder
from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario
from tests.router.conftest import scenario

SCENARIOS = ("entity-lists-batching", "errors-subgraph-failures")


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
            if item["data"] is None:  # the fragment failed: nothing to merge
                continue
            target: Any = data
            for step in item["path"]:
                target = target[step]
            _deep_merge(target, item["data"])
    return data


def _deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    """As Apollo Client merges: objects key by key, lists item by item."""
    for key, value in source.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _deep_merge(current, value)
        elif isinstance(value, list) and isinstance(current, list) and len(value) == len(current):
            for index, item in enumerate(value):
                if isinstance(item, dict) and isinstance(current[index], dict):
                    _deep_merge(current[index], item)
                else:
                    current[index] = item
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


def test_the_primary_payload_leaves_the_deferred_fields_out(served: Any) -> None:
    payloads = run(_router(served, "entity-lists-batching"), "{ grid { id ... @defer { price } } }")
    assert payloads[0] == {
        "data": {
            "grid": [
                [{"id": "p01"}, {"id": "p02"}, None],
                [],
                [{"id": "p02"}, {"id": "p03"}],
                [None],
            ]
        },
        "hasNext": True,
    }
    assert payloads[1] == {
        "incremental": [
            {"data": {"price": 100}, "path": ["grid", 0, 0]},
            {"data": {"price": 200}, "path": ["grid", 0, 1]},
            {"data": {"price": 200}, "path": ["grid", 2, 0]},
            {"data": {"price": 300}, "path": ["grid", 2, 1]},
        ],
        "hasNext": False,
    }


def test_nested_parts_come_after_their_parent(served: Any) -> None:
    query = (
        '{ categories { name ... @defer(label: "outer") { products { id '
        '... @defer(label: "inner") { inStock } } } } }'
    )
    payloads = run(_router(served, "entity-lists-batching"), query)
    sequence = [[(item["label"], item["path"]) for item in p["incremental"]] for p in payloads[1:]]
    assert sequence == [
        [("outer", ["categories", 0]), ("outer", ["categories", 1]), ("outer", ["categories", 2])],
        [
            ("inner", ["categories", 0, "products", 0]),
            ("inner", ["categories", 0, "products", 1]),
            ("inner", ["categories", 0, "products", 2]),
            ("inner", ["categories", 1, "products", 0]),
            ("inner", ["categories", 1, "products", 1]),
            ("inner", ["categories", 1, "products", 2]),
        ],
    ]
    assert [p["hasNext"] for p in payloads] == [True, True, False]


def test_if_variable_decides_per_request(served: Any) -> None:
    query = "query Q($d: Boolean!) { catalog { id ... @defer(if: $d) { price } } }"
    assert len(run(_router(served, "entity-lists-batching"), query, {"d": True})) == 2
    router = _router(served, "entity-lists-batching")
    prepared = router.prepare(query)
    assert router.execute_incremental(prepared, {"d": False}) is None
    answer = asyncio.run(_answer(router, query, {"d": False}))
    assert answer["data"]["catalog"][0] == {"id": "p01", "price": 100}


async def _answer(router: Router, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    try:
        return await router.execute(query, variables)
    finally:
        await router.aclose()


def test_an_error_inside_a_deferred_fragment_stays_in_its_item(served: Any) -> None:
    """Order.paymentStatus is non-null and fails for o2: without @defer the whole answer
    is null; deferred, only o2's item is null, with the error at its path."""
    query = '{ orders { id ... @defer(label: "pay") { paymentStatus } } }'
    payloads = run(_router(served, "errors-subgraph-failures"), query)
    error = {
        "message": "payment status unavailable",
        "path": ["orders", 1, "paymentStatus"],
        "extensions": {"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "payments"},
    }
    assert payloads == [
        {"data": {"orders": [{"id": "o1"}, {"id": "o2"}, {"id": "o3"}]}, "hasNext": True},
        {
            "incremental": [
                {"data": {"paymentStatus": "CAPTURED"}, "path": ["orders", 0], "label": "pay"},
                {"data": None, "path": ["orders", 1], "label": "pay", "errors": [error]},
                {"data": {"paymentStatus": "CAPTURED"}, "path": ["orders", 2], "label": "pay"},
            ],
            "hasNext": False,
        },
    ]
    plain = asyncio.run(_plain_answer(_router(served, "errors-subgraph-failures"), _plain(query)))
    assert plain == {"errors": [error], "data": None}


def test_a_failed_deferred_fetch_reports_on_the_first_item(served: Any) -> None:
    query = "{ orders { id ... @defer { tracking } } }"
    payloads = run(_router(served, "errors-subgraph-failures"), query)
    assert payloads[1]["incremental"][0]["errors"] == [
        {
            "message": "HTTP fetch failed from 'shipping': 500: Internal Server Error",
            "extensions": {
                "code": "SUBREQUEST_HTTP_ERROR",
                "serviceName": "shipping",
                "http": {"status": 500},
            },
        }
    ]
    assert merged(payloads) == {"orders": [{"id": f"o{n}", "tracking": None} for n in (1, 2, 3)]}


def test_each_payload_carries_the_trace_of_its_own_fetches(served: Any) -> None:
    router = _router(served, "entity-lists-batching")
    query = '{ catalog { id ... @defer(label: "price") { price } } }'

    async def go() -> list[dict[str, Any]]:
        try:
            stream = router.execute_incremental(router.prepare(query), {}, None, TraceRecorder())
            assert stream is not None
            return [payload async for payload in stream]
        finally:
            await router.aclose()

    payloads = asyncio.run(go())
    traces = [p["extensions"]["trace"]["fetches"] for p in payloads]
    assert [
        [(f["service"], f["path"], f["entities"], f["deferred"]) for f in t] for t in traces
    ] == [
        [("catalog", "", None, None)],
        [("pricing", "catalog.@", 50, "price")],
    ]


def test_introspection_beside_defer_is_answered_with_the_primary(served: Any) -> None:
    query = (
        '{ __type(name: "Product") { name ... @defer { kind } } '
        "catalog { id ... @defer { price } } }"
    )
    payloads = run(_router(served, "entity-lists-batching"), query)
    assert payloads[0]["data"]["__type"] == {"name": "Product", "kind": "OBJECT"}
    assert payloads[0]["data"]["catalog"][0] == {"id": "p01"}
    assert merged(payloads)["catalog"][49] == {"id": "p50", "price": 5000}
    assert [p["hasNext"] for p in payloads] == [True, False]


async def _traced(router: Router, query: str) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """The answer to a client taking no multipart (`execute_prepared`), and the
    subgraph calls it made: (service, fetch id, path, entities, deferred)."""
    trace = TraceRecorder()
    answer = await router.execute_prepared(router.prepare(query), {}, None, trace)
    calls = [
        (f["service"], f["fetchId"], f["path"], f["entities"], f["deferred"]) for f in trace.fetches
    ]
    return answer, sorted(calls)


AT_ONCE_CASES = [
    # a same-subgraph field beside another subgraph's: deferred, a catalog refetch
    '{ catalog { id ... @defer(label: "a") { name price } } }',
    "{ catalog { id ... @defer { name } ... @defer { price } ... @defer { inStock } } }",
    '{ catalog { id ... @defer(label: "o") { price ... @defer(label: "i") { inStock } } } }',
]


@pytest.mark.parametrize("query", AT_ONCE_CASES)
def test_without_multipart_defer_is_ignored(served: Any, query: str) -> None:
    """A client taking the whole answer at once gets the plan of the operation without
    @defer: the same subgraph calls, and the same answer."""
    router = _router(served, "entity-lists-batching")

    async def go() -> tuple[Any, Any]:
        try:
            return await _traced(router, query), await _traced(router, _plain(query))
        finally:
            await router.aclose()

    (deferred, deferred_calls), (plain, plain_calls) = asyncio.run(go())
    assert deferred_calls == plain_calls
    assert deferred == plain
    assert "errors" not in plain
