"""Names read through a subgraph's @links (imports, `as:` prefixes, a spec's own directive)
compose as @apollo/composition composes them."""

import json
import shutil
import subprocess

import pytest

from router.composition import SubgraphSource, compose

from .normalize import differences
from .test_golden import LIVE_COMPOSE, TOOLS

HEAD = ('extend schema\n  @link(url: "https://specs.apollo.dev/federation/v2.3"{fed_as}, '
        'import: ["@key", "@composeDirective"])\n')

# @composeDirective order, not import order, orders the supergraph's `import:`.
COMPOSED_ORDER = HEAD.format(fed_as="") + """
  @link(url: "https://custom.dev/custom/v1.0", import: ["@hello", {name: "@bye", as: "@ciao"}])
  @composeDirective(name: "@custom__other") @composeDirective(name: "@ciao")
  @composeDirective(name: "@hello")
directive @ciao on FIELD_DEFINITION
directive @hello on FIELD_DEFINITION
directive @custom__other on FIELD_DEFINITION
type Query { a: Int @ciao @hello b: Int @custom__other }
"""
# The directive named like its spec is the spec's, unimported.
OWN_DIRECTIVE = HEAD.format(fed_as="") + """
  @link(url: "https://custom.dev/custom/v1.0") @composeDirective(name: "@custom")
directive @custom on FIELD_DEFINITION
type Query { a: Int @custom }
"""
# ... but Apollo finds no definition for it once the spec is renamed.
RENAMED_OWN_DIRECTIVE = HEAD.format(fed_as="") + """
  @link(url: "https://custom.dev/custom/v1.0", as: "cu") @composeDirective(name: "@cu")
directive @cu on FIELD_DEFINITION
type Query { a: Int @cu }
"""
# Executable directives under federation's prefix that federation does not define are
# the subgraph's own, whatever federation is called.
FEDERATION_PREFIXED = """
directive @federation__foo on QUERY
directive @fed__bar on QUERY
type Query { a: Int }
"""

VALID = {
    "composed-order": COMPOSED_ORDER,
    "own-directive": OWN_DIRECTIVE,
    "federation-prefixed": HEAD.format(fed_as="") + FEDERATION_PREFIXED,
    "federation-renamed": HEAD.format(fed_as=', as: "fed"') + FEDERATION_PREFIXED,
}


def _compose(sdl: str):
    return compose([SubgraphSource("a", "http://a", sdl)])


def _apollo(sdl: str) -> dict:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    assert (TOOLS / "node_modules" / "@apollo" / "composition").is_dir(), "needs `npm ci`"
    done = subprocess.run(
        ["node", "-e", LIVE_COMPOSE], cwd=TOOLS, capture_output=True, text=True, timeout=120,
        input=json.dumps([{"name": "a", "url": "http://a", "sdl": sdl}]))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _line(supergraph: str, needle: str) -> list[str]:
    return [line.strip() for line in supergraph.splitlines() if needle in line]


def test_composed_directives_are_imported_in_compose_directive_order():
    assert _line(_compose(COMPOSED_ORDER).supergraph_sdl, "custom.dev") == [
        '@link(url: "https://custom.dev/custom/v1.0", import: [{name: "@other", as: '
        '"@custom__other"}, {name: "@bye", as: "@ciao"}, "@hello"])']


def test_a_specs_own_directive_composes_under_the_specs_name_only():
    assert _line(_compose(OWN_DIRECTIVE).supergraph_sdl, "custom.dev") == [
        '@link(url: "https://custom.dev/custom/v1.0", import: ["@custom"])']
    result = _compose(RENAMED_OWN_DIRECTIVE)
    assert [(e.code, e.coordinate) for e in result.errors] == [
        ("DIRECTIVE_COMPOSITION_ERROR", "@cu")]


def test_unknown_federation_prefixed_directives_are_the_subgraphs():
    for name in ("federation-prefixed", "federation-renamed"):
        supergraph = _compose(VALID[name]).supergraph_sdl
        assert _line(supergraph, "on QUERY") == [
            "directive @fed__bar on QUERY", "directive @federation__foo on QUERY"], name


@pytest.mark.parametrize("name", sorted(VALID))
def test_the_same_supergraph_as_apollo_composition(name):
    apollo = _apollo(VALID[name])
    assert "errors" not in apollo, apollo
    assert differences(apollo["supergraph"], _compose(VALID[name]).supergraph_sdl) == []


def test_the_same_error_as_apollo_composition():
    apollo = _apollo(RENAMED_OWN_DIRECTIVE)
    assert [e["code"] for e in apollo["errors"]] == [
        e.code for e in _compose(RENAMED_OWN_DIRECTIVE).errors]
