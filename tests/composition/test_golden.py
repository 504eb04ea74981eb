"""Our supergraph for every conformance scenario matches @apollo/composition's."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from router.composition import SubgraphSource, compose

from .normalize import differences

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "conformance" / "scenarios"
TOOLS = ROOT / "tests" / "conformance" / "tools"
FOLDERS = sorted(p.parent for p in SCENARIOS.glob("*/supergraph.graphql"))

# Same URLs as tests/conformance/tools/compose.mjs uses for the committed supergraphs.
LIVE_COMPOSE = """
const { composeServices } = require("@apollo/composition");
const { parse } = require("graphql");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const r = composeServices(input.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
process.stdout.write(JSON.stringify(r.errors
  ? { errors: r.errors.map((e) => ({ code: e.extensions && e.extensions.code })) }
  : { supergraph: r.supergraphSdl, hints: r.hints.map((h) => h.definition.code) }));
"""


def sources(folder: Path) -> list[SubgraphSource]:
    return [
        SubgraphSource(p.stem, f"http://subgraphs.invalid/{folder.name}/{p.stem}", p.read_text())
        for p in sorted(folder.glob("*.graphql")) if p.name != "supergraph.graphql"
    ]


def test_there_are_scenarios():
    assert len(FOLDERS) >= 20


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_matches_committed_apollo_supergraph(folder):
    result = compose(sources(folder))
    assert result.errors == ()
    expected = (folder / "supergraph.graphql").read_text()
    assert differences(expected, result.supergraph_sdl) == []


def _node_env() -> Path | None:
    if shutil.which("node") is None:
        return None
    modules = TOOLS / "node_modules" / "@apollo" / "composition"
    return TOOLS if modules.is_dir() else None


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_matches_live_apollo_composition(folder):
    tools = _node_env()
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    assert tools is not None, "tests/conformance/tools needs `npm ci` (shopgraph test does it)"
    srcs = sources(folder)
    done = subprocess.run(
        ["node", "-e", LIVE_COMPOSE], cwd=tools, capture_output=True, text=True, timeout=120,
        input=json.dumps([{"name": s.name, "url": s.url, "sdl": s.sdl} for s in srcs]))
    assert done.returncode == 0, done.stderr
    apollo = json.loads(done.stdout)
    ours = compose(srcs)
    assert "errors" not in apollo
    assert differences(apollo["supergraph"], ours.supergraph_sdl) == []
    assert sorted(h.code for h in ours.hints) == sorted(apollo["hints"])
