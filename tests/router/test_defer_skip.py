"""A deferred fragment that @skip/@include exclude is not deferred: literals take it out
of the plan; with variables the request leaves its part out (no payload item, no
subgraph call), and is answered in one payload when no deferred part is left. Run on
the entity-lists-batching scenario's real subgraphs over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from textwrap import dedent
from typing import Any

import pytest

from router.core import Router
from router.executor.incremental import deferred_node
from router.planner.defer import ShapedPart
from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario
from tests.router.conftest import scenario
from tests.router.test_defer_execution import merged

NAME = "entity-lists-batching"
IDS = [{"id": f"p{n:02d}"} for n in range(1, 51)]  # the catalog's products
# (payloads when streamed, else None; the answer when not streamed; subgraph requests)
Outcome = tuple[list[dict[str, Any]] | None, dict[str, Any] | None, dict[str, int]]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SubgraphServer, Scenario]]:
    loaded = scenario(NAME)
    with SubgraphServer() as server:
        for name, resolvers in loaded.resolvers.items():
            server.mount(loaded.name, name, loaded.subgraph_sdls[name], resolvers)
        yield server, loaded


@pytest.fixture(scope="module")
def planner() -> Router:
    return Router.from_supergraph(scenario(NAME).supergraph)


def run(served: tuple[SubgraphServer, Scenario], query: str, variables: dict[str, Any]) -> Outcome:
    """Run `query` as a client taking multipart: what it gets, and the subgraph calls."""
    server, loaded = served
    router = Router.from_supergraph(loaded.supergraph, subgraph_urls=server.subgraph_urls(NAME))

    async def go() -> Outcome:
        try:
            prepared = router.prepare(query)
            coerced = router.coerce_variables(prepared, variables)
            server.reset(NAME)
            stream = router.execute_incremental(prepared, coerced)
            if stream is None:
                answer = await router.execute_prepared(prepared, coerced)
                return None, answer, server.counts(NAME)
            payloads = [payload async for payload in stream]
            return payloads, None, server.counts(NAME)
        finally:
            await router.aclose()

    return asyncio.run(go())


def plain(served: tuple[SubgraphServer, Scenario], query: str) -> dict[str, Any]:
    """The data of a query without @defer, answered at once."""
    answer = run(served, query, {})[1]
    assert answer is not None and "errors" not in answer
    return answer["data"]


CATALOG_IDS_ONLY = dedent(
    """\
    QueryPlan {
      Fetch(service: "catalog") {
        {
          catalog {
            id
          }
        }
      }
    }"""
)


@pytest.mark.parametrize(
    "query",
    [
        "{ catalog { id ... @defer @skip(if: true) { price } } }",
        "{ catalog { id ... @include(if: false) @defer { price } } }",
        "{ catalog { id ... @skip(if: true) { ... @defer { price } } } }",
        "{ catalog { id ... @defer { price @skip(if: true) inStock @include(if: false) } } }",
        "{ catalog { id ...P @defer @skip(if: true) } } fragment P on Product { price }",
        "{ catalog { id ... @defer @skip(if: true) { price ... @defer { inStock } } } }",
    ],
)
def test_a_literal_exclusion_plans_no_defer(planner: Router, query: str) -> None:
    assert planner.plan_text(query) == CATALOG_IDS_ONLY


def test_a_literal_exclusion_beside_a_deferred_fragment(planner: Router) -> None:
    """Only the other fragment is deferred: no pricing fetch, no second part."""
    query = (
        '{ catalog { id ... @defer @skip(if: true) { price } ... @defer(label: "s") { inStock } } }'
    )
    expected = dedent(
        """\
        QueryPlan {
          Defer {
            Primary {
              {
                catalog {
                  id
                  ... @defer @skip(if: true) {
                    price
                  }
                }
              }:
              Fetch(service: "catalog") {
                {
                  catalog {
                    id
                    __typename
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "catalog.@", label: "s") {
                {
                  ... on Product {
                    inStock
                  }
                }:
                Flatten(path: "catalog.@") {
                  Fetch(service: "stock") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    query($representations: [_Any!]!) {
                      _entities(representations: $representations) {
                        ... on Product {
                          inStock
                        }
                      }
                    }
                  }
                }
              },
            ]
          }
        }"""
    )
    assert planner.plan_text(query) == expected


@pytest.mark.parametrize(
    ("query", "conditions"),
    [
        ("{ catalog { id ... @defer { price } } }", None),
        (
            "query($s: Boolean!) { catalog { id ... @defer @skip(if: $s) { price } } }",
            frozenset({(("s", False),)}),
        ),
        (
            "query($i: Boolean!) { catalog @include(if: $i) { id ... @defer { price } } }",
            frozenset({(("i", True),)}),
        ),
        (
            "query($a: Boolean!, $b: Boolean!) { catalog { id ... @defer "
            "{ price @include(if: $a) inStock @include(if: $b) } } }",
            frozenset({(("a", True),), (("b", True),)}),
        ),
        (
            "query($s: Boolean!, $t: Boolean!) { catalog { id ... @defer @skip(if: $s) "
            "{ price inStock @skip(if: $t) } } }",
            frozenset({(("s", False),)}),
        ),
        (
            "query($a: Boolean!, $b: Boolean!) { catalog { id ...F @include(if: $a) "
            "...F @include(if: $b) } } fragment F on Product { ... @defer { price } }",
            frozenset({(("a", True),), (("b", True),)}),
        ),
    ],
)
def test_each_part_carries_its_conditions(
    planner: Router, query: str, conditions: frozenset[Any] | None
) -> None:
    variables = {"s": False, "i": True, "a": True, "b": True, "t": False}
    defer = deferred_node(planner.prepare(query).plan, variables)
    assert defer is not None
    assert [p.conditions for p in defer.deferred if isinstance(p, ShapedPart)] == [conditions]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($s: Boolean!) { catalog { id ... @defer @skip(if: $s) { price } } }", {"s": True}),
        (
            "query($i: Boolean!) { catalog { id ... @defer @include(if: $i) { price } } }",
            {"i": False},
        ),
        (
            "query($s: Boolean!) { catalog { id ... @defer "
            "{ price @skip(if: $s) inStock @skip(if: $s) } } }",
            {"s": True},
        ),
        (
            'query($s: Boolean!) { catalog { id ... @defer(label: "o") @skip(if: $s) '
            '{ price ... @defer(label: "i") { inStock } } } }',
            {"s": True},
        ),
        (
            "query($i: Boolean!) { catalog { id ... @defer(if: false) @include(if: $i) "
            "{ price } } }",
            {"i": False},
        ),
        (
            "query($d: Boolean!, $i: Boolean!) { catalog { id "
            "... @defer(if: $d) @include(if: $i) { price } } }",
            {"d": True, "i": False},
        ),
        ("{ catalog { id ... @defer @skip(if: true) { price } } }", {}),
    ],
)
def test_nothing_left_deferred_is_one_payload(
    served: tuple[SubgraphServer, Scenario], query: str, variables: dict[str, Any]
) -> None:
    assert run(served, query, variables) == (None, {"data": {"catalog": IDS}}, {"catalog": 1})


def test_the_same_fragment_included_is_deferred(served: tuple[SubgraphServer, Scenario]) -> None:
    query = "query($s: Boolean!) { catalog { id ... @defer @skip(if: $s) { price } } }"
    payloads, answer, calls = run(served, query, {"s": False})
    assert answer is None and payloads is not None
    assert [p["hasNext"] for p in payloads] == [True, False]
    assert merged(payloads) == plain(served, "{ catalog { id price } }")
    assert calls == {"catalog": 1, "pricing": 1}


def test_include_decides_when_defer_is_off(served: tuple[SubgraphServer, Scenario]) -> None:
    """`@defer(if: false) @include(if: true)`: the fields, at once."""
    query = (
        "query($i: Boolean!) { catalog { id ... @defer(if: false) @include(if: $i) { price } } }"
    )
    outcome = run(served, query, {"i": True})
    assert outcome == (None, {"data": plain(served, "{ catalog { id price } }")}, outcome[2])
    assert outcome[2] == {"catalog": 1, "pricing": 1}


def test_a_skipped_part_beside_another_is_left_out(
    served: tuple[SubgraphServer, Scenario],
) -> None:
    query = (
        'query($s: Boolean!) { catalog { id ... @defer(label: "p") @skip(if: $s) { price } '
        '... @defer(label: "s") { inStock } } }'
    )
    stock = plain(served, "{ catalog { inStock } }")["catalog"]
    items = [
        {"data": item, "path": ["catalog", index], "label": "s"} for index, item in enumerate(stock)
    ]
    assert run(served, query, {"s": True}) == (
        [
            {"data": {"catalog": IDS}, "hasNext": True},
            {"incremental": items, "hasNext": False},
        ],
        None,
        {"catalog": 1, "stock": 1},
    )
    payloads, _, calls = run(served, query, {"s": False})
    assert payloads is not None
    labels = {i["label"] for p in payloads[1:] for i in p["incremental"]}
    assert (labels, calls) == ({"p", "s"}, {"catalog": 1, "pricing": 1, "stock": 1})


def test_a_skipped_part_another_needs_runs_unsent(
    served: tuple[SubgraphServer, Scenario],
) -> None:
    """Part "b" reads the pricing fetch planned with part "a" (a Category has no key:
    both ride on the primary's products): "a" skipped still fetches, and sends nothing."""
    query = (
        'query($s: Boolean!) { categories { ... @defer(label: "a") @skip(if: $s) '
        '{ products { price } } ... @defer(label: "b") { products { price inStock } } } }'
    )
    payloads, answer, calls = run(served, query, {"s": True})
    assert answer is None and payloads is not None
    assert [p["hasNext"] for p in payloads] == [True, False]
    assert [i["label"] for i in payloads[1]["incremental"]] == ["b", "b", "b"]
    assert merged(payloads) == plain(served, "{ categories { products { price inStock } } }")
    assert calls == {"catalog": 1, "pricing": 1, "stock": 1}


def test_a_fragment_spread_twice_is_selected_by_either_place(
    served: tuple[SubgraphServer, Scenario],
) -> None:
    """Its deferred fragment is one part: the place $b includes delivers it."""
    query = (
        "query($a: Boolean!, $b: Boolean!) { catalog { id ...F @include(if: $a) "
        '...F @include(if: $b) ... @defer(label: "s") { inStock } } } '
        'fragment F on Product { ... @defer(label: "p") { price } }'
    )
    payloads, answer, calls = run(served, query, {"a": False, "b": True})
    assert answer is None and payloads is not None
    labels = sorted({i["label"] for p in payloads[1:] for i in p["incremental"]})
    assert (labels, calls) == (["p", "s"], {"catalog": 1, "pricing": 1, "stock": 1})
    assert merged(payloads) == plain(served, "{ catalog { id price inStock } }")
