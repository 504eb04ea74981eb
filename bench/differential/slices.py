"""The recorded slice: a few generated operations per scenario with the references' answer.

`python -m bench.differential --record-slice` runs SLICE_COUNT operations per scenario
(seed 1) and writes, for every operation where Apollo Gateway and Hive Gateway agree
(and whose answer is not too large), the operation and their common answer (`data`
and the error paths) to tests/conformance/differential/<scenario>.json. Operations
where our router differed go to known_failures.txt there, one
`<scenario>/<op>@<source>` per line; the pytest replay
(tests/conformance/test_differential_slice.py) runs them as strict xfail, so a router
fix shows up as XPASS. Replaying needs no node.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.differential.compare import NO_PATH, Outcome, Verdict, outcome
from bench.differential.harness import ScenarioResult

ROOT = Path(__file__).resolve().parents[2]
SLICE_DIR = ROOT / "tests" / "conformance" / "differential"
KNOWN_FAILURES = SLICE_DIR / "known_failures.txt"
SLICE_COUNT = 6
SLICE_MAX_DATA = 8000  # characters of JSON; bigger answers are left out of the slice
_HEADER = """\
# Recorded differential operations our router answers differently from Apollo Gateway
# and Hive Gateway (which agree): `<scenario>/<op>@<supergraph source>`, run as strict
# xfail by test_differential_slice.py. Remove a line once the router passes it.
# Written by `python -m bench.differential --record-slice`; after a router change,
# `python -m bench.differential --update-known-failures` recomputes it (no node needed).
"""


@dataclass(frozen=True)
class SliceOperation:
    """One recorded operation and the references' common answer."""

    scenario: str
    id: str
    query: str
    variables: dict[str, Any] | None
    data: Any
    error_paths: tuple[str, ...]  # as in compare.Outcome

    @property
    def expected(self) -> Outcome:
        return Outcome(self.data, self.error_paths, bool(self.error_paths))


def _path_text(path: Any) -> str:
    return NO_PATH if path is None else json.dumps(path)


def _path_value(text: str) -> Any:
    return None if text == NO_PATH else json.loads(text)


def _dump(scenario: str, seed: int, versions: dict[str, str],
          entries: list[dict[str, Any]], splits: list[str], large: list[str]) -> str:
    """The fixture file: one key per line, each query line a string, answers on one line."""
    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    out = [
        "{",
        f'  "scenario": {one(scenario)},',
        f'  "seed": {seed},',
        f'  "references": {one(versions)},',
        f'  "left_out": {one({"reference_split": splits, "too_large": large})},',
        '  "operations": [',
    ]
    for number, entry in enumerate(entries):
        query_lines = ",\n".join(f"        {one(line)}" for line in entry["query"])
        out += [
            "    {",
            f'      "id": {one(entry["id"])},',
            f'      "query": [\n{query_lines}\n      ],',
            f'      "variables": {one(entry["variables"])},',
            f'      "data": {one(entry["data"])},',
            f'      "errorPaths": {one(entry["errorPaths"])}',
            "    }" + ("," if number < len(entries) - 1 else ""),
        ]
    out += ["  ]", "}"]
    return "\n".join(out) + "\n"


def record(results: Sequence[ScenarioResult], *, seed: int, versions: dict[str, str],
           directory: Path = SLICE_DIR) -> str:
    """Write the slice files of `results` and update the known failures; a short summary."""
    directory.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    recorded = 0
    for result in results:
        if result.error is not None:
            continue
        entries, splits, large = [], [], []
        for op in result.operations:
            if op.verdict in (Verdict.SPLIT, Verdict.UNAVAILABLE, Verdict.REFERENCE_BUG):
                splits.append(op.id)
                continue
            reference = outcome(op.responses["apollo"])
            if len(reference.data_text) > SLICE_MAX_DATA:
                large.append(op.id)
                continue
            entries.append({
                "id": op.id,
                "query": op.operation.query.rstrip("\n").split("\n"),
                "variables": op.operation.variables,
                "data": reference.data,
                "errorPaths": [_path_value(p) for p in reference.error_paths],
            })
            failures += [f"{result.name}/{op.id}@{source}" for source in op.differing]
        recorded += len(entries)
        text = _dump(result.name, seed, {k: versions[k] for k in ("apollo", "hive")},
                     entries, splits, large)
        (directory / f"{result.name}.json").write_text(text)
    ran = {result.name for result in results if result.error is None}
    kept = [line for line in known_failures(directory / KNOWN_FAILURES.name)
            if line.split("/", 1)[0] not in ran]
    lines = sorted(set(kept) | set(failures))
    write_known_failures(lines, directory / KNOWN_FAILURES.name)
    return (f"{recorded} operations in {len(ran)} files under {directory},"
            f" {len(lines)} known failures")


def known_failures(path: Path = KNOWN_FAILURES) -> list[str]:
    """The `<scenario>/<op>@<source>` lines of the known-failures file."""
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def load(directory: Path = SLICE_DIR) -> list[SliceOperation]:
    """Every recorded operation, scenario by scenario."""
    operations = []
    for path in sorted(directory.glob("*.json")):
        raw = json.loads(path.read_text())
        for entry in raw["operations"]:
            operations.append(SliceOperation(
                scenario=raw["scenario"],
                id=entry["id"],
                query="\n".join(entry["query"]) + "\n",
                variables=entry["variables"],
                data=entry["data"],
                error_paths=tuple(sorted(_path_text(p) for p in entry["errorPaths"])),
            ))
    return operations


def mismatch(response: Any, expected: Outcome) -> str | None:
    """What differs between our `response` and the recorded answer, or None."""
    got = outcome(response)
    problems = []
    if got.data_text != expected.data_text:
        problems.append(f"data {got.data_text}\n  != {expected.data_text}")
    if got.error_paths != expected.error_paths:
        problems.append(f"error paths {list(got.error_paths)} != {list(expected.error_paths)}")
    return "\n".join(problems) or None


async def replay_failures(operations: Sequence[SliceOperation]) -> list[str]:
    """`<scenario>/<op>@<source>` of every recorded operation our router gets wrong now."""
    from bench.differential import gateways
    from tests.conformance.kit import SubgraphServer
    from tests.conformance.scenarios import load_scenarios

    scenarios = load_scenarios(sorted({op.scenario for op in operations}))
    failures = []
    with SubgraphServer() as server:
        for scenario in scenarios:
            for name, resolvers in scenario.resolvers.items():
                server.mount(scenario.name, name, scenario.subgraph_sdls[name], resolvers)
        for scenario in scenarios:
            urls = server.subgraph_urls(scenario.name)
            routers = gateways.our_routers(
                scenario.name, scenario.supergraph, scenario.subgraph_sdls, urls
            )
            try:
                for op in (op for op in operations if op.scenario == scenario.name):
                    for source, router in routers.items():
                        response = await router.execute(op.query, op.variables)
                        if mismatch(response, op.expected) is not None:
                            failures.append(f"{op.scenario}/{op.id}@{source}")
            finally:
                for router in routers.values():
                    await router.aclose()
    return failures


def write_known_failures(failures: Sequence[str], path: Path = KNOWN_FAILURES) -> None:
    """Replace the known-failures file with `failures`."""
    path.write_text(_HEADER + "".join(f"{line}\n" for line in sorted(set(failures))))
