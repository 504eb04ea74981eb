"""Discovery and loading of conformance scenarios (folders under scenarios/).

A scenario folder holds one `<subgraph>.graphql` per subgraph, `subgraphs.py`
(SUBGRAPHS: dict[str, Resolvers]), the generated `supergraph.graphql`,
`cases.yaml` and the recorded `expected.json`.

`router_errors.json` (optional) lists the cases where shopgraph deliberately reports
errors in other words than Apollo Gateway:
{case: {"reason": ..., "code_reason": ..., "errors": [...]}}.
Only the `errors` entries are replaced; data must still equal the recording, and the
runner checks that each replacement error keeps the recorded path and locations and
carries `extensions.code` as the router returns it. `reason` says, for that case, what
differs; `code_reason` is required exactly when some error's code is not the recorded
one, and says why. A reason repeated across cases of a scenario fails the run.

`python -m tests.conformance.scenarios --summary` prints the case count per semantic.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from tests.conformance.kit import Resolvers

HERE = Path(__file__).resolve().parent
SCENARIOS_DIR = HERE / "scenarios"
SUPERGRAPH_FILE = "supergraph.graphql"
CASES_FILE = "cases.yaml"
EXPECTED_FILE = "expected.json"
ROUTER_ERRORS_FILE = "router_errors.json"

_CASE_KEYS = {
    "name",
    "semantic",
    "query",
    "variables",
    "operationName",
    "plan",
    "requests",
    "entity_batches",
    "headers",
    "expected",
    "why",
}


@dataclass(frozen=True)
class Case:
    scenario: str
    name: str
    semantic: str
    query: str
    variables: Mapping[str, Any] | None = None
    operation_name: str | None = None
    plan: str | None = None  # exact printed plan, when the plan's shape is the point
    requests: Mapping[str, int] | None = None  # exact HTTP requests per subgraph (unlisted: 0)
    # sorted sizes of the `representations` list of every _entities request per subgraph
    entity_batches: Mapping[str, Sequence[int]] | None = None
    headers: Mapping[str, str] | None = None  # client request headers
    # A response checked by hand, for cases Apollo Gateway answers wrongly: not
    # recorded (record.py skips the case); `why` names the gateway's bug.
    hand_expected: Mapping[str, Any] | None = None
    why: str | None = None

    @property
    def id(self) -> str:
        return f"{self.scenario}/{self.name}"


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    subgraph_sdls: Mapping[str, str]  # subgraph name -> SDL text
    cases: tuple[Case, ...]
    expected: Mapping[str, Any] = field(default_factory=dict)
    router_errors: Mapping[str, Any] = field(default_factory=dict)

    @property
    def supergraph_path(self) -> Path:
        return self.path / SUPERGRAPH_FILE

    @property
    def supergraph(self) -> str:
        if not self.supergraph_path.is_file():
            raise FileNotFoundError(
                f"{self.supergraph_path} missing:"
                f" run python -m tests.conformance.record {self.name}"
            )
        return self.supergraph_path.read_text()

    @cached_property
    def resolvers(self) -> Mapping[str, Resolvers]:
        """SUBGRAPHS from the scenario's subgraphs.py, checked against the SDL files."""
        module_name = "conformance_scenario_" + re.sub(r"\W", "_", self.name)
        spec = importlib.util.spec_from_file_location(module_name, self.path / "subgraphs.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {self.path / 'subgraphs.py'}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        subgraphs: Mapping[str, Resolvers] = module.SUBGRAPHS
        if set(subgraphs) != set(self.subgraph_sdls):
            raise ValueError(
                f"{self.name}: SUBGRAPHS {sorted(subgraphs)}"
                f" != SDL files {sorted(self.subgraph_sdls)}"
            )
        return subgraphs


def _case(scenario: str, raw: Mapping[str, Any]) -> Case:
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        raise ValueError(f"{scenario}: case {raw.get('name')!r} has unknown keys {sorted(unknown)}")
    for key in ("name", "semantic", "query"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ValueError(f"{scenario}: case {raw.get('name')!r} needs a {key!r} string")
    batches = raw.get("entity_batches")
    if ("expected" in raw) != bool(raw.get("why")):
        raise ValueError(
            f"{scenario}: case {raw.get('name')!r}: a hand-checked `expected` needs a `why`"
        )
    return Case(
        scenario=scenario,
        name=raw["name"],
        semantic=raw["semantic"],
        query=raw["query"],
        variables=raw.get("variables"),
        operation_name=raw.get("operationName"),
        plan=raw.get("plan"),
        requests=raw.get("requests"),
        entity_batches={k: sorted(v) for k, v in batches.items()} if batches else None,
        headers=raw.get("headers"),
        hand_expected=raw.get("expected"),
        why=raw.get("why"),
    )


def load_scenario(path: Path) -> Scenario:
    name = path.name
    sdls = {
        p.stem: p.read_text()
        for p in sorted(path.glob("*.graphql"))
        if p.name != SUPERGRAPH_FILE
    }
    raw_cases = yaml.safe_load((path / CASES_FILE).read_text()) or []
    cases = tuple(_case(name, raw) for raw in raw_cases)
    names = [c.name for c in cases]
    duplicates = sorted(n for n, count in Counter(names).items() if count > 1)
    if duplicates:
        raise ValueError(f"{name}: duplicate case names {duplicates}")
    expected_path = path / EXPECTED_FILE
    expected = json.loads(expected_path.read_text()) if expected_path.is_file() else {}
    expected.update({c.name: c.hand_expected for c in cases if c.hand_expected is not None})
    errors_path = path / ROUTER_ERRORS_FILE
    router_errors = json.loads(errors_path.read_text()) if errors_path.is_file() else {}
    return Scenario(
        name=name,
        path=path,
        subgraph_sdls=sdls,
        cases=cases,
        expected=expected,
        router_errors=router_errors,
    )


def scenario_dirs(root: Path = SCENARIOS_DIR) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / CASES_FILE).is_file()) if root.is_dir() else []


def load_scenarios(names: Sequence[str] = (), root: Path = SCENARIOS_DIR) -> list[Scenario]:
    """All scenarios under root (or only `names`), sorted by name."""
    dirs = scenario_dirs(root)
    if names:
        known = {d.name: d for d in dirs}
        missing = sorted(set(names) - set(known))
        if missing:
            raise ValueError(f"unknown scenarios: {missing}")
        dirs = [known[n] for n in names]
    return [load_scenario(d) for d in dirs]


def semantic_counts(scenarios: Sequence[Scenario]) -> Counter[str]:
    return Counter(case.semantic for s in scenarios for case in s.cases)


def format_summary(counts: Mapping[str, int], title: str = "cases per semantic") -> str:
    width = max((len(k) for k in counts), default=8)
    lines = [f"{title}:"]
    lines += [f"  {semantic:<{width}}  {counts[semantic]:>4}" for semantic in sorted(counts)]
    lines.append(f"  {'total':<{width}}  {sum(counts.values()):>4}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.scenarios")
    parser.add_argument("--summary", action="store_true", help="case count per semantic")
    parser.add_argument("names", nargs="*", help="scenario folder names (default: all)")
    args = parser.parse_args(argv)
    scenarios = load_scenarios(args.names)
    if args.summary:
        print(format_summary(semantic_counts(scenarios)))
        print(f"  scenarios: {len(scenarios)}")
    else:
        for scenario in scenarios:
            recorded = sum(c.name in scenario.expected for c in scenario.cases)
            print(f"{scenario.name}: {len(scenario.cases)} cases, {recorded} recorded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
