"""Every conformance scenario, its subgraphs sprinkled with @authenticated, @requiresScopes
and @policy (on types and fields, @external ones included, the same seed every run),
composes to exactly the supergraph live @apollo/composition composes, or fails with the
same error codes (and the same hints)."""

import json
import random
import shutil
import subprocess

import pytest
from graphql import parse
from graphql.language import ast

from router.composition import SubgraphSource, compose

from .test_golden import FOLDERS, TOOLS

BATCH = """
const { composeServices } = require("@apollo/composition");
const { parse } = require("graphql");
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map((input) => {
  const r = composeServices(
    input.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
  return r.errors ? { errors: r.errors.map((e) => e.extensions.code) }
    : { supergraph: r.supergraphSdl, hints: r.hints.map((h) => h.definition.code) };
})));
"""
_ANNOTATED = (ast.ObjectTypeDefinitionNode, ast.ObjectTypeExtensionNode,
              ast.InterfaceTypeDefinitionNode, ast.EnumTypeDefinitionNode,
              ast.ScalarTypeDefinitionNode)


def _directive(rng: random.Random) -> str:
    kind = rng.choice(["authenticated", "requiresScopes", "policy"])
    if kind == "authenticated":
        return " @federation__authenticated"
    value = [[rng.choice("xyz") for _ in range(rng.randint(1, 2))]
             for _ in range(rng.randint(1, 2))]
    argument = "scopes" if kind == "requiresScopes" else "policies"
    return f" @federation__{kind}({argument}: {json.dumps(value).replace(',', ', ')})"


def _sprinkled(sdl: str, rng: random.Random) -> str:
    """The subgraph on federation v2.6 (join stays 0.3) with directives after the existing
    ones of about half its types and fields."""
    sdl = sdl.replace("federation/v2.3", "federation/v2.6")
    inserts = []
    for d in parse(sdl).definitions:
        if not isinstance(d, _ANNOTATED):
            continue
        if rng.random() < 0.5:
            anchor = (d.directives or getattr(d, "interfaces", None) or [d.name])[-1]
            inserts.append((anchor.loc.end, _directive(rng)))
        for f in getattr(d, "fields", None) or ():
            if rng.random() < 0.5:
                inserts.append(((f.directives or [f.type])[-1].loc.end, _directive(rng)))
    for position, text in sorted(inserts, reverse=True):
        sdl = sdl[:position] + text + sdl[position:]
    return sdl


def _cases() -> dict[str, list[SubgraphSource]]:
    cases = {}
    for folder in FOLDERS:
        files = sorted(p for p in folder.glob("*.graphql") if p.name != "supergraph.graphql")
        if not all("federation/v2.3" in p.read_text() for p in files):
            continue  # Federation 1 or newer subgraphs: the injection assumes v2.3
        rng = random.Random(folder.name)
        cases[folder.name] = [
            SubgraphSource(p.stem, f"http://{p.stem}.test", _sprinkled(p.read_text(), rng))
            for p in files
        ]
    return cases


def test_sprinkled_scenarios_compose_exactly_as_apollo():
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    assert (TOOLS / "node_modules" / "@apollo" / "composition").is_dir(), "needs `npm ci`"
    cases = _cases()
    assert len(cases) >= 60
    payload = [[{"name": s.name, "url": s.url, "sdl": s.sdl} for s in c] for c in cases.values()]
    done = subprocess.run(["node", "-e", BATCH], cwd=TOOLS, capture_output=True, text=True,
                          timeout=600, input=json.dumps(payload))
    assert done.returncode == 0, done.stderr
    mismatches = []
    for (name, sources), apollo in zip(cases.items(), json.loads(done.stdout), strict=True):
        ours = compose(sources)
        if "errors" in apollo:
            if sorted(apollo["errors"]) != sorted(e.code for e in ours.errors):
                mismatches.append((name, apollo["errors"], [str(e) for e in ours.errors]))
        elif ours.supergraph_sdl != apollo["supergraph"] + "\n":
            mismatches.append((name, "supergraph differs", [str(e) for e in ours.errors]))
        elif sorted(h.code for h in ours.hints) != sorted(apollo["hints"]):
            mismatches.append((name, apollo["hints"], [h.code for h in ours.hints]))
    assert mismatches == []
    assert sum("errors" in a for a in json.loads(done.stdout)) < len(cases)  # most compose
