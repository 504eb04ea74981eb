"""Each invalid composition fails with the exact Apollo rule code at the exact coordinate."""

import pytest

from router.composition import SubgraphSource, compose

from .cases_invalid import CASES


@pytest.mark.parametrize(("subgraphs", "code", "coordinate"),
                         [pytest.param(s, c, k, id=i) for i, s, c, k in CASES])
def test_invalid_composition_reports_rule_and_coordinate(subgraphs, code, coordinate):
    result = compose([SubgraphSource(n, f"http://{n}.test/graphql", s)
                      for n, s in subgraphs.items()])
    assert result.supergraph_sdl is None
    assert (code, coordinate) in [(e.code, e.coordinate) for e in result.errors]
    error = next(e for e in result.errors if e.code == code and e.coordinate == coordinate)
    assert error.subgraphs, "an error names the subgraph(s) involved"
    assert set(error.subgraphs) <= set(subgraphs)
    assert error.message


def test_hints_are_separate_from_errors():
    a = ('extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])'
         " type Query { a(c: Color): Int } enum Color { RED GREEN }")
    b = ('extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])'
         " type Query { b(c: Color): Int } enum Color { RED }")
    result = compose([SubgraphSource("a", "http://a", a), SubgraphSource("b", "http://b", b)])
    assert result.errors == ()
    assert [(h.code, h.coordinate) for h in result.hints] == [
        ("INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM", "Color.GREEN")]
    assert "GREEN" not in result.supergraph_sdl


def test_at_least_25_invalid_cases():
    assert len({code for _, _, code, _ in CASES}) >= 25


def test_a_field_whose_requires_cannot_be_met_says_so():
    """The reason names @requires when a reachable resolver is refused for it (the flag
    was computed the other way round, so this reason was never given)."""
    from .cases_invalid import fed2

    subgraphs = {
        "a": fed2('type Query { t: T } type T @key(fields: "id") { id: ID! }'),
        "b": fed2('type T @key(fields: "id") { id: ID! w: Int @external '
                  'total: Int @requires(fields: "w") }'),
        "c": fed2('type T @key(fields: "id", resolvable: false) { id: ID! w: Int }'),
    }
    result = compose([SubgraphSource(n, f"http://{n}", s) for n, s in subgraphs.items()])
    reasons = {e.coordinate: e.message.rpartition("(")[2] for e in result.errors}
    assert reasons == {
        "T.w": 'it is resolved by "c", and no key of the type lets the query jump there).',
        "T.total": "its @requires cannot be satisfied from there).",
    }
