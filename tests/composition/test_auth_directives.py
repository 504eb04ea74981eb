"""@authenticated, @requiresScopes and @policy compose as @apollo/composition 2.11.3 composes
them: the committed supergraphs (Apollo's output) are ours to the byte, live Apollo agrees
where node is installed, each misuse is the error Apollo reports, and the router loads what
composition prints."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from graphql import print_schema

from router.cli import main
from router.composition import SubgraphSource, compose
from router.supergraph import load_supergraph

from .cases_auth import APOLLO_WORDS_DIFFERENTLY, INVALID, STRAWBERRY_PRODUCTS, VALID, fed
from .normalize import differences
from .test_golden import TOOLS

EXPECTED = Path(__file__).parent / "auth_supergraphs"

LIVE = """
const { composeServices } = require("@apollo/composition");
const { parse } = require("graphql");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const r = composeServices(input.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
process.stdout.write(JSON.stringify(r.errors
  ? { errors: r.errors.map((e) => [e.extensions.code, e.message]) }
  : { supergraph: r.supergraphSdl, hints: r.hints.map((h) => h.definition.code) }));
"""


def _sources(subgraphs: dict[str, str]) -> list[SubgraphSource]:
    return [SubgraphSource(n, f"http://{n}.test/graphql", sdl) for n, sdl in subgraphs.items()]


def _apollo(subgraphs: dict[str, str]) -> dict:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    assert (TOOLS / "node_modules" / "@apollo" / "composition").is_dir(), "needs `npm ci`"
    payload = [{"name": s.name, "url": s.url, "sdl": s.sdl} for s in _sources(subgraphs)]
    done = subprocess.run(["node", "-e", LIVE], cwd=TOOLS, capture_output=True, text=True,
                          timeout=120, input=json.dumps(payload))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _line(sdl: str, needle: str) -> list[str]:
    return [line.strip() for line in sdl.splitlines() if needle in line]


@pytest.mark.parametrize("case", sorted(VALID))
def test_the_committed_apollo_supergraph_exactly(case):
    subgraphs, hints = VALID[case]
    result = compose(_sources(subgraphs))
    assert result.errors == ()
    assert result.supergraph_sdl == (EXPECTED / f"{case}.graphql").read_text()
    assert sorted(h.code for h in result.hints) == sorted(hints)


@pytest.mark.parametrize("case", sorted(VALID))
def test_the_same_supergraph_as_live_apollo_composition(case):
    subgraphs, _ = VALID[case]
    apollo = _apollo(subgraphs)
    assert "errors" not in apollo, apollo
    ours = compose(_sources(subgraphs))
    assert differences(apollo["supergraph"], ours.supergraph_sdl) == []
    assert (EXPECTED / f"{case}.graphql").read_text() == apollo["supergraph"] + "\n"
    assert sorted(h.code for h in ours.hints) == sorted(apollo["hints"])


@pytest.mark.parametrize(("subgraphs", "expected"),
                         [pytest.param(s, e, id=i) for i, s, e in INVALID])
def test_each_misuse_is_reported_exactly(subgraphs, expected):
    result = compose(_sources(subgraphs))
    assert result.supergraph_sdl is None
    assert [(e.code, e.coordinate, e.message) for e in result.errors] == expected
    for error in result.errors:
        assert error.subgraphs and set(error.subgraphs) <= set(subgraphs)


@pytest.mark.parametrize(("case", "subgraphs"), [pytest.param(i, s, id=i) for i, s, _ in INVALID])
def test_the_same_errors_as_live_apollo_composition(case, subgraphs):
    apollo = _apollo(subgraphs)
    ours = compose(_sources(subgraphs)).errors
    assert sorted(code for code, _ in apollo["errors"]) == sorted(e.code for e in ours)
    if case not in APOLLO_WORDS_DIFFERENTLY:
        assert sorted(message for _, message in apollo["errors"]) == sorted(
            e.message for e in ours)


def test_merged_requirements_are_the_union_in_first_seen_order():
    sdl = compose(_sources(VALID["union"][0])).supergraph_sdl
    assert _line(sdl, "x: Int") == ['x: Int @requiresScopes(scopes: [["a"], ["b", "c"], ["d"], '
                                    '["c", "b"]])']
    assert _line(sdl, "y: Int") == ['y: Int @requiresScopes(scopes: [["k"], ["k"]]) '
                                    "@authenticated"]
    assert _line(sdl, '@policy(policies: [["') == ['@policy(policies: [["p1"], ["p2"]])']


def test_a_lone_scope_merges_as_a_one_item_list_where_apollo_throws():
    """Apollo 2.11.3 fails with a TypeError (`next.filter is not a function`) here."""
    subgraphs = {
        "a": fed('type Query { v: V @shareable } type V @shareable '
                 '{ x: Int @requiresScopes(scopes: "solo") }'),
        "b": fed('type Query { w: V @shareable } type V @shareable '
                 '{ x: Int @requiresScopes(scopes: [["x"]]) }'),
    }
    result = compose(_sources(subgraphs))
    assert _line(result.supergraph_sdl, "x: Int") == [
        'x: Int @requiresScopes(scopes: ["solo", ["x"]])']
    assert [(h.code, h.coordinate, h.subgraphs) for h in result.hints] == [
        ("MERGED_NON_REPEATABLE_DIRECTIVE_ARGUMENTS", "V.x", ("a", "b"))]


def test_security_links_follow_the_subgraphs_and_their_definitions():
    sdl = compose(_sources(VALID["link-order"][0])).supergraph_sdl
    assert _line(sdl, '@link(url: "https://specs.apollo.dev/')[2:] == [
        '@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)',
        '@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)',
        '@link(url: "https://specs.apollo.dev/tag/v0.3")',
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)',
        '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)',
    ]


@pytest.mark.parametrize("case", sorted(VALID))
def test_the_router_loads_the_supergraph_and_hides_the_machinery(case):
    sdl = compose(_sources(VALID[case][0])).supergraph_sdl
    api = print_schema(load_supergraph(sdl).api_schema)
    for machinery in ("@auth", "@scopes", "@policy", "@requiresScopes", "@fed", "@pol",
                      "requiresScopes__", "policy__", "federation__"):
        assert machinery not in api, (case, machinery)
    assert "type Query" in api


def test_strawberry_prints_the_directives_as_the_shop_uses_them():
    strawberry = pytest.importorskip("strawberry")
    from strawberry.federation.schema_directives import Authenticated, Policy, RequiresScopes

    @strawberry.federation.type(keys=["id"], directives=[Policy(policies=[["catalogue"]])])
    class Product:
        id: strawberry.ID
        name: str
        cost: int = strawberry.federation.field(
            directives=[RequiresScopes(scopes=[["admin"], ["service"]])])

    @strawberry.type
    class Query:
        @strawberry.field
        def product(self, id: strawberry.ID) -> Product | None:
            return None

        @strawberry.field(directives=[Authenticated()])
        def cart(self) -> int | None:
            return None

    @strawberry.type
    class Mutation:
        @strawberry.mutation(directives=[RequiresScopes(scopes=[["admin"]])])
        def delete_product(self, id: strawberry.ID) -> bool:
            return False

    schema = strawberry.federation.Schema(query=Query, mutation=Mutation, federation_version="2.7")
    assert schema.as_str() + "\n" == STRAWBERRY_PRODUCTS


def test_shopgraph_compose_composes_strawberry_sdl(tmp_path, capsys):
    (tmp_path / "products.graphql").write_text(STRAWBERRY_PRODUCTS)
    (tmp_path / "subgraphs.yaml").write_text(
        "subgraphs:\n  - name: products\n    url: http://127.0.0.1:9/products\n")
    assert main(["compose", "--schema-dir", str(tmp_path), "--out", "-"]) == 0
    printed = capsys.readouterr().out
    assert _line(printed, "cart:") == ["cart: Int @authenticated"]
    assert _line(printed, "deleteProduct") == [
        'deleteProduct(id: ID!): Boolean! @requiresScopes(scopes: [["admin"]])']
    assert _line(printed, 'specs.apollo.dev/policy') == [
        '@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)']
