"""Loading supergraphs: the model, the API schema, renamed core features, bad input."""

from __future__ import annotations

import pytest
from graphql import parse, print_schema

from router import Router
from router.supergraph import SupergraphError, load_supergraph
from tests.router.conftest import scenario


def _inaccessible(node) -> bool:
    return any(d.name.value == "inaccessible" for d in node.directives or ())


def test_api_schema_has_no_federation_machinery_or_inaccessible_elements():
    sdl = scenario("inaccessible-members").supergraph
    api = load_supergraph(sdl).api_schema
    printed = print_schema(api)
    for machinery in ("join__", "link__", "@link", "@join", "@inaccessible", "_Entity", "_Any"):
        assert machinery not in printed
    hidden = 0
    for definition in parse(sdl).definitions:
        name = getattr(getattr(definition, "name", None), "value", None)
        if name is None or name.startswith(("join__", "link__")):
            continue
        if _inaccessible(definition):
            assert api.get_type(name) is None
            hidden += 1
            continue
        api_type = api.get_type(name)
        for f in getattr(definition, "fields", None) or ():
            if _inaccessible(f):
                assert f.name.value not in api_type.fields
                hidden += 1
            for arg in getattr(f, "arguments", None) or ():
                if _inaccessible(arg):
                    assert arg.name.value not in api_type.fields[f.name.value].args
                    hidden += 1
        for v in getattr(definition, "values", None) or ():
            if _inaccessible(v):
                assert v.name.value not in api_type.values
                hidden += 1
    assert hidden >= 4  # types, fields, arguments and enum values are all exercised


def test_renamed_join_feature_loads_and_plans_the_same():
    original = scenario("keys-single").supergraph
    renamed = original.replace("join__", "j__").replace(
        '@link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)',
        '@link(url: "https://specs.apollo.dev/join/v0.3", as: "j", for: EXECUTION)',
    )
    assert "j__type" in renamed and "join__" not in renamed
    query = '{ product(upc: "p1") { name reviewCount reviews { body } } }'
    assert Router.from_supergraph(renamed).plan_text(query) == Router.from_supergraph(
        original
    ).plan_text(query)


def test_model_knows_keys_placements_and_interface_objects():
    supergraph = load_supergraph(scenario("interface-object-media").supergraph)
    interface_objects = {name for name, t in supergraph.types.items() if t.interface_object_in}
    assert interface_objects, "the scenario has an @interfaceObject"
    for name in interface_objects:
        t = supergraph.types[name]
        assert t.kind == "interface"
        for graph in t.interface_object_in:
            assert supergraph.possible_types_in(name, graph) == frozenset()


@pytest.mark.parametrize(
    ("sdl", "message"),
    [
        ("type Query { a: Int }", "not a supergraph"),
        ("type Query {", "does not parse"),
        (
            'schema @link(url: "https://specs.apollo.dev/join/v0.3") { query: Query } '
            "type Query { a: Int }",
            "declares no subgraphs",
        ),
    ],
)
def test_bad_supergraphs_are_rejected_with_a_reason(sdl, message):
    with pytest.raises(SupergraphError, match=message):
        load_supergraph(sdl)
