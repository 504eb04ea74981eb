"""The plan as JSON for the playground's diagram: every node kind in the contract's
shape, planned by the router where the planner makes the node, built by hand for
the kinds whose planners are not in yet (Defer, Subscribe)."""

from __future__ import annotations

from typing import Any

from router import Router
from router.planner.nodes import (
    Defer,
    DeferredPart,
    Fetch,
    Flatten,
    QueryPlan,
    Sequence,
    Subscribe,
)
from router.planner.plan_json import plan_json
from tests.server.trace_graph import QUERY, SDLS, supergraph

ROUTER = Router.from_supergraph(supergraph({name: f"http://127.0.0.1:9/{name}" for name in SDLS}))


def _fetch(plan: QueryPlan, index: int, entities: bool) -> dict[str, Any]:
    fetch = plan.fetches()[index]
    return {
        "kind": "Fetch",
        "id": fetch.id,
        "service": fetch.service,
        "operation": fetch.operation,
        "entities": entities,
    }


def test_sequence_parallel_flatten_and_fetch():
    plan = ROUTER.plan(QUERY)
    services = [f.service for f in plan.fetches()]
    assert services == ["products", "inventory", "reviews"]
    flatten = {"kind": "Flatten", "path": ["topProducts", "@"]}
    assert plan_json(plan) == {
        "kind": "QueryPlan",
        "node": {
            "kind": "Sequence",
            "nodes": [
                _fetch(plan, 0, False),
                {
                    "kind": "Parallel",
                    "nodes": [
                        {**flatten, "node": _fetch(plan, 1, True)},
                        {**flatten, "node": _fetch(plan, 2, True)},
                    ],
                },
            ],
        },
    }


def test_condition_with_an_include_branch_only():
    plan = ROUTER.plan("query C($b: Boolean!) { topProducts { name inStock @include(if: $b) } }")
    tree = plan_json(plan)["node"]
    assert tree["kind"] == "Sequence" and tree["nodes"][0] == _fetch(plan, 0, False)
    assert tree["nodes"][1] == {
        "kind": "Condition",
        "variable": "b",
        "if": {"kind": "Flatten", "path": ["topProducts", "@"], "node": _fetch(plan, 1, True)},
        "else": None,
    }


def test_a_plan_without_fetches():
    assert plan_json(ROUTER.plan("{ __typename }")) == {"kind": "QueryPlan", "node": None}


def _bare(id_: int, service: str, kind: str = "query") -> Fetch:
    return Fetch(id_, service, f"{kind} {{ f{id_} }}", kind, ())


def _bare_json(id_: int, service: str, entities: bool, kind: str = "query") -> dict[str, Any]:
    operation = f"{kind} {{ f{id_} }}"
    return {
        "kind": "Fetch",
        "id": id_,
        "service": service,
        "operation": operation,
        "entities": entities,
    }


def test_defer_with_parts_with_and_without_fetches():
    node = Defer(
        "{ a }",
        _bare(0, "products"),
        (
            DeferredPart(
                "late", ("topProducts", "@"), (0,), "{ b }", Flatten(("x",), _bare(1, "r"))
            ),
            DeferredPart(None, (), (0, 1), "{ c }", None),
        ),
    )
    assert plan_json(QueryPlan(node)) == {
        "kind": "QueryPlan",
        "node": {
            "kind": "Defer",
            "primary": _bare_json(0, "products", False),
            "primarySubselection": "{ a }",
            "deferred": [
                {
                    "label": "late",
                    "path": ["topProducts", "@"],
                    "depends": [0],
                    "subselection": "{ b }",
                    "node": {
                        "kind": "Flatten",
                        "path": ["x"],
                        "node": _bare_json(1, "r", True),
                    },
                },
                {
                    "label": None,
                    "path": [],
                    "depends": [0, 1],
                    "subselection": "{ c }",
                    "node": None,
                },
            ],
        },
    }


def test_defer_without_primary_fetch_and_subscription():
    empty = Defer("{ __typename }", None, ())
    assert plan_json(QueryPlan(empty))["node"] == {
        "kind": "Defer",
        "primary": None,
        "primarySubselection": "{ __typename }",
        "deferred": [],
    }
    primary = _bare(0, "orders", "subscription")
    rest = Flatten(("orderStatusChanged",), _bare(1, "products"))
    assert plan_json(QueryPlan(Subscribe(primary, rest)))["node"] == {
        "kind": "Subscription",
        "primary": _bare_json(0, "orders", False, "subscription"),
        "rest": {
            "kind": "Flatten",
            "path": ["orderStatusChanged"],
            "node": _bare_json(1, "products", True),
        },
    }
    alone = plan_json(QueryPlan(Subscribe(primary, None)))["node"]
    assert alone["rest"] is None and alone["primary"]["service"] == "orders"


def test_a_deep_plan_needs_no_recursion():
    depth = 20_000  # far deeper than Python's recursion limit
    node: Any = _bare(0, "products")
    for _ in range(depth):
        node = Sequence((node,))
    tree = plan_json(QueryPlan(node))["node"]
    levels = 0
    while tree["kind"] == "Sequence":
        tree = tree["nodes"][0]
        levels += 1
    assert (levels, tree["service"]) == (depth, "products")
