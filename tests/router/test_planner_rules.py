"""Planner rules that matter beyond what Apollo Gateway records, on small supergraphs
composed by our composer."""

from __future__ import annotations

import pytest

from router import RequestError, Router
from router.composition import SubgraphSource, compose

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
    'import: ["@key", "@shareable", "@external"])\n'
)
# A shared `node(id:)` whose subgraphs each resolve the id of only their own type:
# the other type's key field is @external there (the "corrupted node id" pattern).
PEOPLE = LINK + """
type Query { node(id: ID!): Node @shareable person(id: ID!): Person }
interface Node { id: ID! }
type Person implements Node @key(fields: "id") { id: ID! name: String! }
type Room implements Node @key(fields: "id") { id: ID! @external owner: Person! }
"""
ROOMS = LINK + """
type Query { node(id: ID!): Node @shareable room(id: ID!): Room }
interface Node { id: ID! }
type Person implements Node @key(fields: "id") { id: ID! @external rooms: [Room!]! }
type Room implements Node @key(fields: "id") { id: ID! topic: String! }
"""


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
    assert plan == """QueryPlan {
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


def test_typename_alone_stays_in_one_fetch(router):
    plan = router.plan('{ a: node(id: "p1") { __typename } b: node(id: "r1") { __typename } }')
    assert [fetch.service for fetch in plan.fetches()] == ["people"]
