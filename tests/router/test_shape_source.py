"""The compiled response walk (router/executor/shape_source.py) answers exactly as the
interpreted one (shape.py) - data, value-completion problems and their order - and is
declined where it should be. The conformance suite checks it on every recorded case
(each case is answered twice); these cover the shapes the recordings do not."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import build_schema, parse

from router.executor import shape_source
from router.executor.shape import ResponseShape, abstract_names
from router.operation import normalize

SDL = """
type Query {
  node(id: ID!): Node
  nodes: [Node]
  strict: [Item!]!
  grid: [[[Item!]]]
  deep: [[[[[[[[[Int]]]]]]]]]
  deepItems: [[[[[[[[[Item]]]]]]]]]
  item: Item
  color: Color
  colors: [Color!]
}
enum Color { RED GREEN }
interface Node { id: ID! }
type Item implements Node { id: ID! name: String! color: Color tags: [String] }
type A implements Node { id: ID! a: Int }
type B implements Node { id: ID! b: Int }
type C implements Node { id: ID! c: Int }
type D implements Node { id: ID! d: Int }
type E implements Node { id: ID! e: Int }
"""
SCHEMA = build_schema(SDL)
ABSTRACT = abstract_names(SCHEMA)


def _shape(query: str, data: dict[str, Any], variables: dict[str, Any] | None = None) -> Any:
    """Both walks' answers for `data`; asserts the compiled one was made and agrees."""
    shape = ResponseShape(normalize(SCHEMA, parse(query)), ABSTRACT)
    first = shape.shape(data, variables or {})
    assert shape.compiled is None  # the first use is interpreted
    second = shape.shape(data, variables or {})
    assert shape.compiled is not None
    assert second == first
    assert _order(second[0]) == _order(first[0])
    return second


def _order(value: Any) -> Any:
    if isinstance(value, dict):
        return [(k, _order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_order(v) for v in value]
    return value


def test_more_concrete_types_than_the_if_chain_go_through_a_table():
    query = (
        "{ nodes { __typename id ... on A { a } ... on B { b } ... on C { c }"
        " ... on D { d } ... on E { e } ... on Item { name } } }"
    )
    data = {
        "nodes": [
            {"__typename": t, "id": str(i), k: i}
            for i, (t, k) in enumerate(
                [("A", "a"), ("B", "b"), ("C", "c"), ("D", "d"), ("E", "e"), ("Item", "name")]
            )
        ]
        + [{"__typename": "Secret", "id": "9"}, None]
    }
    data["nodes"][5]["name"] = "n"
    out, problems = _shape(query, data)
    assert out["nodes"][0] == {"__typename": "A", "id": "0", "a": 0}
    assert out["nodes"][4] == {"__typename": "E", "id": "4", "e": 4}
    assert out["nodes"][6] is None  # not a possible type
    assert [p["message"] for p in problems] == [
        "Invalid __typename found for object at array element of type Node at index 6."
    ]
    assert "_k" in shape_source.source_text(normalize(SCHEMA, parse(query)).selection, ABSTRACT)


def test_non_null_items_null_their_list_and_stop_there():
    query = "{ strict { id name } grid { id name } }"
    data = {
        "strict": [{"id": "1", "name": "x"}, {"id": "2", "name": None}],
        "grid": [
            [[{"id": "3", "name": "y"}, {"id": None, "name": "z"}]],
            [[{"id": "5", "name": "w"}]],
        ],
    }
    out, problems = _shape(query, data)
    assert out is None  # strict is [Item!]!: the null reaches the root
    # each non-null position on the way notes its own null
    assert [p["path"] for p in problems] == [["strict", 1, "name"], ["strict", 1], ["strict"]]


def test_nested_lists_bubble_to_the_nearest_nullable_list():
    query = "{ grid { id } }"
    data = {"grid": [[[{"id": "3"}, {"id": None}]], [[{"id": "5"}]], None, [None, [None]]]}
    out, problems = _shape(query, data)
    assert out == {"grid": [[None], [[{"id": "5"}]], None, [None, None]]}
    assert [p["path"] for p in problems] == [
        ["grid", 0, 0, 1, "id"],
        ["grid", 0, 0, 1],
        ["grid", 3, 1, 0],
    ]


def test_conditions_and_occurrence_order_follow_the_variables():
    query = """query ($a: Boolean!, $b: Boolean!) {
      item { id @include(if: $a) name tags ... @include(if: $b) { id color } }
    }"""
    data = {"item": {"id": "1", "name": "n", "tags": ["t"], "color": "RED"}}
    for a in (True, False):
        for b in (True, False):
            out, _ = _shape(query, data, {"a": a, "b": b})
            keys = list(out["item"])
            expected = (["id"] if a or b else []) + ["name", "tags"] + (["color"] if b else [])
            if b and not a:
                expected = ["name", "tags", "id", "color"]
            assert keys == expected, (a, b, keys)


def test_enum_values_are_checked():
    query = "{ color colors item { color } }"
    # a list where an enum value belongs was a TypeError (unhashable) in both walks
    data = {"color": "BLUE", "colors": ["RED", None], "item": {"color": ["RED"]}}
    out, problems = _shape(query, data)
    assert out == {"color": None, "colors": None, "item": {"color": None}}
    assert [(p["message"], p["path"]) for p in problems] == [
        ('Enum "Color" cannot represent value: "BLUE"', ["color"]),
        ("Cannot return null for non-nullable field Query.colors.", ["colors", 1]),
        ("Enum \"Color\" cannot represent value: ['RED']", ["item", "color"]),
    ]
    out, problems = _shape("{ item { color } }", {"item": {"color": 7}})
    assert [p["message"] for p in problems] == ['Enum "Color" cannot represent value: 7']


def test_lists_nested_deeper_than_the_limit_keep_the_interpreted_walk():
    query = "{ deepItems { id } }"
    shape = ResponseShape(normalize(SCHEMA, parse(query)), ABSTRACT)
    data = {"deepItems": [[[[[[[[[{"id": "1"}]]]]]]]]]}
    assert shape.shape(data, {}) == shape.shape(data, {})
    assert shape.compiled is None
    # a list of scalars needs no loop, however deep
    assert shape_source.compile_source(normalize(SCHEMA, parse("{ deep }")).selection)


def test_operations_over_the_field_limit_keep_the_interpreted_walk():
    many = " ".join(f"f{i}: name" for i in range(shape_source.MAX_FIELDS + 1))
    query = f"{{ item {{ {many} }} }}"
    shape = ResponseShape(normalize(SCHEMA, parse(query)), ABSTRACT)
    data = {"item": {"name": "n", "__typename": "Item"} | {f"f{i}": "v" for i in range(600)}}
    first = shape.shape(data, {})
    assert shape.shape(data, {}) == first
    assert shape.compiled is None
    assert first[0]["item"]["f0"] == "v"


@pytest.mark.parametrize("key", ["a", "x__y", "_", "Quote"])
def test_keys_are_literals_not_code(key: str):
    query = f'{{ {key}: item {{ id }} }}'
    out, _ = _shape(query, {key: {"id": "1"}})
    assert out == {key: {"id": "1"}}


def test_operations_over_the_line_limit_keep_the_interpreted_walk():
    # few fields, but each a list of lists of lists: many lines of source per field
    many = " ".join(f"g{i}: grid {{ id }}" for i in range(80))
    selection = normalize(SCHEMA, parse(f"{{ {many} }}")).selection
    assert len(selection.uniform or selection.by_type["Query"]) * 2 < shape_source.MAX_FIELDS
    assert shape_source.compile_source(selection) is None
    few = " ".join(f"g{i}: grid {{ id }}" for i in range(2))
    assert shape_source.compile_source(normalize(SCHEMA, parse(f"{{ {few} }}")).selection)


@pytest.mark.parametrize("query", [
    "{ nodes { __typename id ... on A { a } } }",  # an interface: the if-chain
    "{ nodes { id ... on A { a } ... on B { b } ... on C { c } ... on D { d } ... on E { e }"
    " ... on Item { name } } }",  # the table of types
])
def test_a_typename_no_dict_takes_is_an_invalid_object_in_both_walks(query):
    data = {"nodes": [{"__typename": ["A"], "id": "1"}, {"__typename": "A", "id": "2", "a": 1},
                      {"__typename": {"A": 1}, "id": "3"}]}
    out, problems = _shape(query, data)
    assert out["nodes"][0] is None and out["nodes"][2] is None
    assert out["nodes"][1]["a"] == 1
    assert [p["path"] for p in problems] == [["nodes", 0], ["nodes", 2]]
    assert problems[0]["message"] == (
        "Invalid __typename found for object at array element of type Node at index 0.")


def test_a_typename_no_dict_takes_at_a_concrete_field_is_an_invalid_object():
    out, problems = _shape("{ item { id name } }",
                           {"item": {"__typename": [], "id": "1", "name": "n"}})
    assert out == {"item": {"id": "1", "name": "n"}}  # an empty list counts as no name
    out, problems = _shape("{ item { id name } }",
                           {"item": {"__typename": ["Item"], "id": "1", "name": "n"}})
    assert out == {"item": None}
    assert problems == [{
        "message": "Invalid __typename found for object at field Query.item.",
        "path": ["item"], "extensions": {"code": "INVALID_GRAPHQL"},
    }]


def test_a_deferred_selection_does_not_apply_to_a_typename_no_dict_takes():
    from router.executor.shape import SelectionShape

    root = normalize(SCHEMA, parse("{ node(id: 1) { ... on A { a } } }")).selection
    deferred = SelectionShape(root.by_type["Query"][0].selection, ABSTRACT)  # node's
    assert deferred.applies({"__typename": "A"}) is True
    assert deferred.applies({"__typename": ["A"]}) is False
