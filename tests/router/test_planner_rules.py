"""Planner rules that matter beyond what Apollo Gateway records, on small supergraphs
composed by our composer."""

from __future__ import annotations

import random

import pytest

from router import RequestError, Router
from router.composition import SubgraphSource, compose

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
    'import: ["@key", "@shareable", "@external"])\n'
)
# A shared `node(id:)` whose subgraphs each resolve the id of only their own type:
# the other type's key field is @external there (the "corrupted node id" pattern).
PEOPLE = (
    LINK
    + """
type Query { node(id: ID!): Node @shareable person(id: ID!): Person }
interface Node { id: ID! }
type Person implements Node @key(fields: "id") { id: ID! name: String! }
type Room implements Node @key(fields: "id") { id: ID! @external owner: Person! }
"""
)
ROOMS = (
    LINK
    + """
type Query { node(id: ID!): Node @shareable room(id: ID!): Room }
interface Node { id: ID! }
type Person implements Node @key(fields: "id") { id: ID! @external rooms: [Room!]! }
type Room implements Node @key(fields: "id") { id: ID! topic: String! }
"""
)


@pytest.fixture(scope="module")
def router() -> Router:
    result = compose(
        [
            SubgraphSource("people", "http://people.invalid", PEOPLE),
            SubgraphSource("rooms", "http://rooms.invalid", ROOMS),
        ]
    )
    assert result.supergraph_sdl is not None, result.errors
    return Router.from_supergraph(result.supergraph_sdl)


@pytest.mark.parametrize(
    "query",
    [
        '{ node(id: "p1") { id } }',
        '{ node(id: "p1") { id ... on Room { id } } }',
    ],
)
def test_a_field_no_subgraph_can_resolve_for_every_type_is_a_planning_error(router, query):
    with pytest.raises(RequestError) as raised:
        router.plan(query)
    assert raised.value.errors == [
        {
            "message": "cannot plan Query.node: no subgraph resolves its selection",
            "extensions": {"code": "QUERY_PLANNING_FAILED"},
        }
    ]


def test_shared_root_field_goes_where_the_type_condition_can_be_answered(router):
    plan = router.plan_text(
        '{ a: node(id: "p1") { ... on Room { id } } b: node(id: "r1") { ... on Person { id } } }'
    )
    assert (
        plan
        == """QueryPlan {
  Parallel {
    Fetch(service: "rooms") {
      {
        a: node(id: "p1") {
          __typename
          ... on Room {
            id
          }
        }
      }
    },
    Fetch(service: "people") {
      {
        b: node(id: "r1") {
          __typename
          ... on Person {
            id
          }
        }
      }
    }
  }
}"""
    )


def test_typename_alone_stays_in_one_fetch(router):
    plan = router.plan('{ a: node(id: "p1") { __typename } b: node(id: "r1") { __typename } }')
    assert [fetch.service for fetch in plan.fetches()] == ["people"]


# Interface objects: `Node` is an interface nobody implements in "catalog" and a
# non-resolvable @interfaceObject in "bakery"; `Product` is an interface owned by
# "bakery" (with `Bread`) and an @interfaceObject in "catalog".
IO_LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
    'import: ["@key", "@interfaceObject"])\n'
)
CATALOG = (
    IO_LINK
    + """
type Query { a: Node product: Product }
interface Node { id: ID! }
type Product @key(fields: "id") @interfaceObject { id: ID! }
"""
)
BAKERY = (
    IO_LINK
    + """
type Query { b: Node }
type Node @key(fields: "id", resolvable: false) @interfaceObject { id: ID! field: String }
interface Product @key(fields: "id") { id: ID! name: String }
type Bread implements Product @key(fields: "id") { id: ID! name: String }
"""
)


@pytest.fixture(scope="module")
def io_router() -> Router:
    result = compose(
        [
            SubgraphSource("catalog", "http://catalog.invalid", CATALOG),
            SubgraphSource("bakery", "http://bakery.invalid", BAKERY),
        ]
    )
    assert result.supergraph_sdl is not None, result.errors
    return Router.from_supergraph(result.supergraph_sdl)


def _fetched(router: Router, query: str) -> list[tuple[str, str]]:
    return [(f.service, " ".join(f.operation.split())) for f in router.plan(query).fetches()]


def test_interface_object_fields_without_type_conditions_come_from_it_directly(io_router):
    assert _fetched(io_router, "{ b { id field } }") == [("bakery", "{ b { id field } }")]


def test_interface_fields_of_an_interface_nobody_implements(io_router):
    assert _fetched(io_router, "{ a { id } }") == [("catalog", "{ a { __typename id } }")]
    # only bakery has `field`, behind a non-resolvable key; but no object can ever be
    # returned here, so nothing needs it: planned without it, as the references do
    # (catalog's answer, or its error, is the response), not refused
    assert _fetched(io_router, "{ a { id field } }") == [("catalog", "{ a { __typename id } }")]
    # ... unless nothing at all can be asked there
    with pytest.raises(RequestError) as raised:
        io_router.plan("{ a { field } }")
    assert raised.value.errors[0]["extensions"]["code"] == "QUERY_PLANNING_FAILED"


def test_type_condition_on_an_interface_object_asks_the_owner_for_the_type(io_router):
    assert _fetched(io_router, "{ product { ... on Bread { id } } }") == [
        ("catalog", "{ product { id __typename } }"),
        (
            "bakery",
            "query($representations: [_Any!]!) { _entities(representations: "
            "$representations) { ... on Product { __typename } } }",
        ),
    ]


# Progressive override: `Item.stock` moves from "legacy" to "modern" under a label.
def _override_router(label: str, **options: object) -> Router:
    link = (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", '
        'import: ["@key", "@override"])\n'
    )
    legacy = (
        link + 'type Query { items: [Item!]! } type Item @key(fields: "id") { id: ID! stock: Int! }'
    )
    modern = link + (
        'type Item @key(fields: "id") { id: ID! '
        f'stock: Int! @override(from: "legacy", label: "{label}") }}'
    )
    result = compose(
        [
            SubgraphSource("legacy", "http://legacy.invalid", legacy),
            SubgraphSource("modern", "http://modern.invalid", modern),
        ]
    )
    assert result.supergraph_sdl is not None, result.errors
    return Router.from_supergraph(result.supergraph_sdl, **options)


def _services(router: Router, **kwargs: object) -> list[str]:
    return [f.service for f in router.plan("{ items { stock } }", **kwargs).fetches()]


def test_progressive_override_percentages():
    assert _services(_override_router("percent(0)")) == ["legacy"]
    assert _services(_override_router("percent(100)")) == ["legacy", "modern"]


def test_progressive_override_custom_label_is_off_unless_configured():
    assert _services(_override_router("use-modern")) == ["legacy"]
    assert _services(_override_router("use-modern", override_labels=["use-modern"])) == [
        "legacy",
        "modern",
    ]


def test_percent_label_is_rolled_per_request_and_plans_are_cached_per_label_set():
    router = _override_router("percent(50)")
    random.seed(7)
    seen = {
        tuple(f.service for f in router.prepare("{ items { stock } }").plan.fetches())
        for _ in range(200)
    }
    assert seen == {("legacy",), ("legacy", "modern")}
    assert router.cache_misses == 2  # one plan per label set, then cache hits


def test_a_literally_excluded_field_is_enough_to_ask_the_subgraph(io_router):
    # the references plan `a` (and report catalog's answer) when the selection holds a
    # field catalog could answer, even one a literal @include excludes
    assert _fetched(io_router, "{ a { field id @include(if: false) } }") == [
        ("catalog", "{ a { __typename } }")
    ]
