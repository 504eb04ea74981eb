"""The committed shop supergraph (schema/supergraph.graphql, with its Subscription root) is
byte for byte what @apollo/composition composes from the seven subgraph snapshots."""

import json
import shutil
import subprocess

import pytest

from router.commands.compose import read_config, sources_from_files

from .test_golden import LIVE_COMPOSE, ROOT, TOOLS

SCHEMA = ROOT / "schema"


def test_apollo_composes_the_committed_shop_supergraph():
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    modules = TOOLS / "node_modules" / "@apollo" / "composition"
    assert modules.is_dir(), "tests/conformance/tools needs `npm ci` (shopgraph test does it)"
    sources = sources_from_files(read_config(SCHEMA / "subgraphs.yaml"), SCHEMA)
    done = subprocess.run(
        ["node", "-e", LIVE_COMPOSE],
        cwd=TOOLS,
        capture_output=True,
        text=True,
        timeout=120,
        input=json.dumps([{"name": s.name, "url": s.url, "sdl": s.sdl} for s in sources]),
    )
    assert done.returncode == 0, done.stderr
    apollo = json.loads(done.stdout)
    assert "errors" not in apollo, apollo
    committed = (SCHEMA / "supergraph.graphql").read_text()
    assert "type Subscription\n" in committed
    # Apollo's text ends without a newline; the committed file ends with one.
    assert apollo["supergraph"] + "\n" == committed
