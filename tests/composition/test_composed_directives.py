"""@composeDirective links in the supergraph name each directive as the spec does, with
`as:` for a renamed import or a `prefix__name` one, as @apollo/composition prints them."""

import json
import shutil
import subprocess

import pytest

from router.composition import SubgraphSource, compose

from .normalize import differences
from .test_golden import LIVE_COMPOSE, TOOLS

SUBGRAPH = """
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@composeDirective"])
  @link(url: "https://custom.dev/custom/v1.0", import: [{name: "@bye", as: "@ciao"}, "@hello"])
  @composeDirective(name: "@ciao") @composeDirective(name: "@hello")
  @composeDirective(name: "@custom__other")
directive @ciao on FIELD_DEFINITION
directive @hello on FIELD_DEFINITION
directive @custom__other on FIELD_DEFINITION
type Query { a: Int @ciao @hello b: Int @custom__other }
"""
EXPECTED_LINK = (
    '@link(url: "https://custom.dev/custom/v1.0", import: [{name: "@bye", as: "@ciao"}, '
    '"@hello", {name: "@other", as: "@custom__other"}])'
)


def test_renamed_and_prefixed_composed_directives_keep_their_spec_names():
    result = compose([SubgraphSource("a", "http://a", SUBGRAPH)])
    assert result.errors == ()
    links = [line.strip() for line in result.supergraph_sdl.splitlines() if "custom.dev" in line]
    assert links == [EXPECTED_LINK]


def test_the_same_supergraph_as_apollo_composition():
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    assert (TOOLS / "node_modules" / "@apollo" / "composition").is_dir(), "needs `npm ci`"
    done = subprocess.run(
        ["node", "-e", LIVE_COMPOSE], cwd=TOOLS, capture_output=True, text=True, timeout=120,
        input=json.dumps([{"name": "a", "url": "http://a", "sdl": SUBGRAPH}]))
    assert done.returncode == 0, done.stderr
    apollo = json.loads(done.stdout)
    ours = compose([SubgraphSource("a", "http://a", SUBGRAPH)])
    assert differences(apollo["supergraph"], ours.supergraph_sdl) == []
