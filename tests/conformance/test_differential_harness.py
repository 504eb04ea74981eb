"""The differential harness's own pieces (no node): generator, value pool, comparison."""

from __future__ import annotations

import random

import pytest
from graphql import build_schema

from bench.differential.compare import Verdict, load_reference_bugs, outcome, verdict
from bench.differential.generate import check, generate_operations
from bench.differential.harness import scenario_operations
from bench.differential.values import build_pool, literal
from tests.conformance.scenarios import load_scenarios

SCHEMA = build_schema(
    """
    interface Node { id: ID! }
    type Product implements Node { id: ID! name: String price(currency: Currency = EUR): Int
      related(first: Int): [Product!]! }
    type User implements Node { id: ID! name: String! friends: [User!]! }
    union Result = Product | User
    enum Currency { EUR USD }
    input Filter { name: String, ids: [ID!] }
    type Query { node(id: ID!): Node search(filter: Filter!): [Result!]!
      product(id: ID!): Product }
    """
)
CASES = [
    ('{ product(id: "p7") { name } }', None),
    ("query($f: Filter!) { search(filter: $f) { __typename } }", {"f": {"ids": ["u3"]}}),
]


def test_pool_files_values_by_coordinate_and_type() -> None:
    pool = build_pool(SCHEMA, CASES)
    assert pool.by_coordinate["Query.product(id:)"] == ["p7"]
    assert pool.by_type["ID"] == ["p7", "u3"]
    assert pool.by_type["Filter"] == [{"ids": ["u3"]}]


def test_literals() -> None:
    filter_type = SCHEMA.get_type("Filter")
    printed = literal({"name": 'a "b"', "ids": ["1"]}, filter_type)
    assert printed == '{name: "a \\"b\\"", ids: ["1"]}'
    assert literal("USD", SCHEMA.get_type("Currency")) == "USD"


def test_generated_operations_are_valid_distinct_and_repeatable() -> None:
    pool = build_pool(SCHEMA, CASES)
    first = generate_operations(SCHEMA, pool, random.Random(7), 60)
    again = generate_operations(SCHEMA, pool, random.Random(7), 60)
    assert first == again
    assert len({op.key() for op in first}) == len(first) == 60
    assert all(check(SCHEMA, op) is None for op in first)
    text = "\n".join(op.query for op in first)
    for feature in ("fragment F", "... on User", "... on Product", "@skip(", "@include(",
                    "__typename", ": $v", "a1: "):
        assert feature in text, feature
    assert any(op.variables for op in first)


@pytest.mark.parametrize("name", ["abstract-unions", "operations-aliases-fragments"])
def test_scenario_prefix_is_stable(name: str) -> None:
    scenario = load_scenarios([name])[0]
    few, _ = scenario_operations(scenario, seed=1, count=5)
    more, _ = scenario_operations(scenario, seed=1, count=20)
    assert more[:5] == few


def test_outcome_keeps_key_order_and_compares_numbers_by_value() -> None:
    assert not outcome({"data": {"a": 1, "b": 2}}).same_as(outcome({"data": {"b": 2, "a": 1}}))
    assert outcome({"data": {"a": 3.0}}).same_as(outcome({"data": {"a": 3}}))
    with_error = outcome({"data": None, "errors": [{"message": "x", "path": ["a", 0]}]})
    assert with_error.error_paths == ('["a", 0]',)
    assert outcome({"errors": [{"message": "y"}]}).error_paths == ("-",)


def test_verdicts() -> None:
    ok = {"data": {"a": 1}}
    bad = {"data": {"a": 2}}
    assert verdict(ok, ok, {"apollo": ok, "shopgraph": ok}) == (Verdict.AGREE, [])
    assert verdict(ok, ok, {"apollo": ok, "shopgraph": bad}) == (Verdict.DISAGREE, ["shopgraph"])
    assert verdict(ok, bad, {"apollo": ok, "shopgraph": ok}) == (Verdict.SPLIT, [])
    gone = {"errors": [{"message": "down"}], "differential:unavailable": True}
    assert verdict(ok, gone, {"apollo": ok, "shopgraph": ok}) == (Verdict.UNAVAILABLE, [])


def test_a_hand_checked_reference_bug_is_not_a_disagreement():
    wrong = {"data": {"recipe": None}, "errors": [
        {"message": "forBeginners needs chef { yearsCooking }", "path": ["recipe", "forBeginners"]}
    ]}
    right = {"data": {"recipe": {"forBeginners": False}}}
    known = load_reference_bugs()["pattern-requires-circular"]
    assert verdict(wrong, wrong, {"apollo": right, "shopgraph": right}, known) == (
        Verdict.REFERENCE_BUG, ["apollo", "shopgraph"]
    )
    # elsewhere, or when the references' error is another one, it stays a disagreement
    assert verdict(wrong, wrong, {"apollo": right, "shopgraph": wrong}, ()) == (
        Verdict.DISAGREE, ["apollo"]
    )
    other = {"data": {"recipe": None}, "errors": [{"message": "boom", "path": ["recipe"]}]}
    assert verdict(other, other, {"apollo": right, "shopgraph": right}, known)[0] is (
        Verdict.DISAGREE
    )


def test_every_reference_bug_names_a_hand_checked_conformance_case():
    scenarios = {s.name: s for s in load_scenarios()}
    for name, bugs in load_reference_bugs().items():
        for bug in bugs:
            case = next(c for c in scenarios[name].cases if c.name == bug.case)
            assert case.hand_expected is not None and bug.why
