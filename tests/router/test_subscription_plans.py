"""Subscription planning: `Subscription { Primary, Rest }` (the subscribing fetch carries
what its subgraph resolves, the rest completes each event), the spec's subscription
rules as coded refusals, and one plan cached per operation."""

from __future__ import annotations

import pytest

from router.composition import SubgraphSource, compose
from router.core import Router
from router.errors import RequestError
from router.planner.nodes import Fetch, Flatten, Sequence, Subscribe

REVIEWS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { review(id: ID!): Review }
type Subscription { reviewAdded(upc: ID!): Review! }
type Review @key(fields: "id") { id: ID! body: String! author: User! product: Product! }
type Product @key(fields: "upc") { upc: ID! }
type User @key(fields: "id") { id: ID! }
"""
PRODUCTS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { product(upc: ID!): Product }
type Product @key(fields: "upc") { upc: ID! name: String! maker: User! }
type User @key(fields: "id") { id: ID! }
"""
ACCOUNTS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { me: User }
type User @key(fields: "id") { id: ID! name: String! }
"""


@pytest.fixture(scope="module")
def router() -> Router:
    sources = [
        SubgraphSource("reviews", "http://reviews/graphql", REVIEWS),
        SubgraphSource("products", "http://products/graphql", PRODUCTS),
        SubgraphSource("accounts", "http://accounts/graphql", ACCOUNTS),
    ]
    result = compose(sources)
    assert result.supergraph_sdl is not None, result.errors
    return Router.from_supergraph(result.supergraph_sdl)


def test_the_primary_is_a_subscription_and_the_rest_runs_in_layers(router: Router) -> None:
    query = (
        "subscription Watch($upc: ID!) { reviewAdded(upc: $upc) "
        "{ body author { name } product { name maker { name } } } }"
    )
    node = router.plan(query).node
    assert isinstance(node, Subscribe)
    primary = node.primary
    assert (primary.service, primary.operation_kind, primary.variable_usages) == (
        "reviews",
        "subscription",
        ("upc",),
    )
    assert primary.operation.startswith("subscription Watch__reviews__0($upc: ID!) {")
    # authors and products in parallel, then the products' makers
    assert isinstance(node.rest, Sequence)
    first, second = node.rest.nodes
    assert sorted(
        (f.path, f.node.service)
        for f in first.nodes  # type: ignore[union-attr]
    ) == [
        (("reviewAdded", "author"), "accounts"),
        (("reviewAdded", "product"), "products"),
    ]
    assert isinstance(second, Flatten) and second.path == ("reviewAdded", "product", "maker")
    assert [f.service for f in router.plan(query).fetches()] == [
        "reviews",
        "accounts",
        "products",
        "accounts",
    ]


def test_a_subscription_its_subgraph_answers_whole_has_no_rest(router: Router) -> None:
    node = router.plan('subscription { reviewAdded(upc: "1") { body product { upc } } }').node
    assert isinstance(node, Subscribe) and isinstance(node.primary, Fetch)
    assert node.rest is None
    assert str(router.plan('subscription { reviewAdded(upc: "1") { body } }')) == (
        "QueryPlan {\n"
        "  Subscription {\n"
        "    Primary: {\n"
        '      Fetch(service: "reviews") {\n'
        "        subscription {\n"
        '          reviewAdded(upc: "1") {\n'
        "            body\n"
        "          }\n"
        "        }\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "}"
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            'subscription { a: reviewAdded(upc: "1") { body } b: reviewAdded(upc: "2") { body } }',
            "Anonymous Subscription must select only one top level field.",
        ),
        (
            "subscription { __typename }",
            "Anonymous Subscription must not select an introspection top level field.",
        ),
        (
            'subscription S($s: Boolean!) { reviewAdded(upc: "1") @skip(if: $s) { body } }',
            "Subscription 'S' must not use `@skip` or `@include` directives in the top level "
            "selection.",
        ),
    ],
)
def test_the_spec_rules_refuse_with_a_code(router: Router, query: str, message: str) -> None:
    with pytest.raises(RequestError) as refused:
        router.prepare(query)
    (error,) = refused.value.errors
    assert error["message"] == message
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


def test_one_plan_per_subscription_is_cached(router: Router) -> None:
    query = 'subscription Cached { reviewAdded(upc: "9") { body product { name } } }'
    misses = router.cache_misses
    first = router.prepare(query)
    assert router.prepare(query) is first
    assert router.cache_misses == misses + 1
