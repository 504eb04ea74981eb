"""@defer's validation rules and limits: coded errors before any planning or fetching."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.config import LimitsConfig
from router.core import Router
from router.errors import RequestError
from tests.router.conftest import scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_supergraph(scenario("entity-lists-batching").supergraph)


def refusal(router: Router, query: str) -> list[tuple[str, str]]:
    with pytest.raises(RequestError) as raised:
        router.prepare(query)
    return [(e["message"], e["extensions"]["code"]) for e in raised.value.errors]


def test_labels_must_be_unique(router: Router) -> None:
    query = '{ catalog { ... @defer(label: "a") { id } ... @defer(label: "a") { name } } }'
    assert refusal(router, query) == [
        ("Defer/Stream directive label argument must be unique.", "GRAPHQL_VALIDATION_FAILED")
    ]


def test_labels_must_be_static(router: Router) -> None:
    query = "query Q($l: String) { catalog { ... @defer(label: $l) { id } } }"
    assert refusal(router, query) == [
        (
            "Defer directive label argument must be a static string.",
            "GRAPHQL_VALIDATION_FAILED",
        )
    ]


def test_if_must_be_a_boolean(router: Router) -> None:
    query = '{ catalog { ... @defer(if: "yes") { id } } }'
    assert refusal(router, query) == [
        ('Boolean cannot represent a non boolean value: "yes"', "GRAPHQL_VALIDATION_FAILED")
    ]


def test_too_many_deferred_fragments() -> None:
    router = Router.from_supergraph(
        scenario("entity-lists-batching").supergraph, limits=LimitsConfig(max_deferred_parts=3)
    )
    query = "{ catalog { " + " ".join(f"... @defer {{ f{n}: id }}" for n in range(4)) + " } }"
    assert refusal(router, query) == [
        (
            "The operation defers more than 3 fragments: more than this router's "
            "limits.max_deferred_parts allows.",
            "MAX_DEFERRED_PARTS_LIMIT",
        )
    ]
    three = "{ catalog { " + " ".join(f"... @defer {{ f{n}: id }}" for n in range(3)) + " } }"
    assert len(router.plan(three).node.deferred) == 3  # type: ignore[union-attr]


def test_a_spread_doubling_defers_is_refused_at_the_limit(router: Router) -> None:
    # F0 defers one fragment; each Fn spreads F(n-1) twice: 2**20 deferred fragments
    fragments = ["fragment F0 on Product { ... @defer { id } }"]
    fragments += [
        f"fragment F{n} on Product {{ ...F{n - 1} a{n}: id ...F{n - 1} }}" for n in range(1, 21)
    ]
    query = "{ catalog { ...F20 } } " + " ".join(fragments)
    codes = {code for _, code in refusal(router, query)}
    assert codes <= {"MAX_DEFERRED_PARTS_LIMIT", "MAX_FIELDS_LIMIT"} and codes


def test_at_most_four_if_variables(router: Router) -> None:
    names = [f"v{n}" for n in range(5)]
    variables = ", ".join(f"${v}: Boolean!" for v in names)
    fragments = " ".join(f"... @defer(if: ${v}) {{ {v}: id }}" for v in names)
    query = f"query Q({variables}) {{ catalog {{ {fragments} }} }}"
    assert refusal(router, query) == [
        (
            "The operation's @defer depends on 5 variables; at most 4 are allowed.",
            "DEFER_TOO_MANY_CONDITIONS",
        )
    ]


def test_no_defer_on_a_mutations_root(router: Router) -> None:
    schema = router.supergraph.api_schema
    assert schema.mutation_type is None  # this scenario has none: the rule on another
    other = Router.from_supergraph(scenario("mutations-ordering").supergraph)
    mutation = other.supergraph.api_schema.mutation_type
    assert mutation is not None
    field = next(iter(mutation.fields))
    messages = refusal(other, f"mutation {{ ... @defer {{ {field}: __typename }} }}")
    assert messages == [
        (
            f"Defer directive cannot be used on root mutation type '{mutation.name}'.",
            "GRAPHQL_VALIDATION_FAILED",
        )
    ]


def test_the_api_schema_declares_defer(router: Router) -> None:
    directive = router.supergraph.api_schema.get_directive("defer")
    assert directive is not None
    assert list(directive.args) == ["label", "if"]  # as Apollo Router declares it
    assert [loc.name for loc in directive.locations] == ["FRAGMENT_SPREAD", "INLINE_FRAGMENT"]


def test_defer_if_false_is_the_plain_plan(router: Router) -> None:
    assert router.plan_text("{ catalog { id ... @defer(if: false) { price } } }") == (
        router.plan_text("{ catalog { id ... { price } } }")
    )


def test_no_defer_in_a_subscription() -> None:
    shop = Router.from_supergraph((ROOT / "schema" / "supergraph.graphql").read_text())
    query = 'subscription { stockChanged(productId: "1") { ... @defer { available } } }'
    assert refusal(shop, query) == [
        (
            "Defer directive not supported on subscription operations. "
            "Disable `@defer` by setting the `if` argument to `false`.",
            "GRAPHQL_VALIDATION_FAILED",
        )
    ]
