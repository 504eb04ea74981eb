"""Record expected responses from Apollo Gateway, the reference implementation.

    python -m tests.conformance.record [SCENARIO...] [--no-compose] [--show]

For each scenario: compose its subgraph SDLs into supergraph.graphql
(tools/compose.mjs), serve its subgraphs with the kit, start Apollo Gateway
(tools/gateway.mjs) on that supergraph, run every case through it and write the
responses to expected.json. Request counts and _entities batch sizes the
gateway produced are compared with the case's `requests` / `entity_batches`
and differences reported (they are hand-written expectations for our router;
the gateway is only a cross-check there: it does not deduplicate representations,
so batch sizes are compared after removing duplicates within each request).
Needs node and `npm ci` in tools/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from tests.conformance.kit import SubgraphServer, entity_batches
from tests.conformance.scenarios import EXPECTED_FILE, Scenario, load_scenario, load_scenarios

TOOLS = Path(__file__).resolve().parent / "tools"


def ensure_tools() -> None:
    if not (TOOLS / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=TOOLS, check=True)


def compose(scenarios: Sequence[Scenario]) -> bool:
    done = subprocess.run(
        ["node", str(TOOLS / "compose.mjs"), *(str(s.path) for s in scenarios)], check=False
    )
    return done.returncode == 0


class Gateway:
    """Apollo Gateway in a node subprocess, for one scenario's supergraph."""

    def __init__(self, supergraph: Path, urls: dict[str, str]) -> None:
        args = ["node", str(TOOLS / "gateway.mjs"), "--supergraph", str(supergraph)]
        for name, url in urls.items():
            args += ["--subgraph", f"{name}={url}"]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening "):
            self.process.kill()
            raise RuntimeError(f"gateway did not start for {supergraph}: {line!r}")
        self.url = line.removeprefix("listening ")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def record_scenario(
    scenario: Scenario, server: SubgraphServer, show: bool, show_requests: bool = False
) -> int:
    """Record one scenario; returns the number of expectation mismatches reported."""
    gateway = Gateway(scenario.supergraph_path, server.subgraph_urls(scenario.name))
    mismatches = 0
    expected: dict[str, Any] = {}
    try:
        with httpx.Client(timeout=30) as client:
            for case in scenario.cases:
                if case.hand_expected is not None:
                    continue  # the gateway gets this one wrong; checked by hand instead
                server.reset(scenario.name)
                payload: dict[str, Any] = {"query": case.query}
                if case.variables is not None:
                    payload["variables"] = case.variables
                if case.operation_name is not None:
                    payload["operationName"] = case.operation_name
                reply = client.post(gateway.url, json=payload, headers=dict(case.headers or {}))
                body = reply.json()
                expected[case.name] = body
                received = server.requests(scenario.name)
                counts = server.counts(scenario.name)
                batches = entity_batches(received)
                # the gateway does not deduplicate; compare what a deduplicating router sends
                distinct_batches = entity_batches(received, distinct=True)
                if show:
                    print(f"--- {case.id} (HTTP {reply.status_code})")
                    print(json.dumps(body, indent=2))
                    print(f"requests: {counts}  entity batches: {batches}")
                if show_requests:
                    for name, bodies in received.items():
                        for sent in bodies:
                            print(f"  > {name}: {json.dumps(sent, ensure_ascii=False)}")
                want_counts = {k: v for k, v in (case.requests or {}).items() if v}
                if case.requests is not None and counts != want_counts:
                    mismatches += 1
                    print(f"{case.id}: gateway made requests {counts}, case says {want_counts}")
                if case.entity_batches is not None and distinct_batches != {
                    k: list(v) for k, v in case.entity_batches.items() if v
                }:
                    mismatches += 1
                    print(f"{case.id}: gateway entity batches (distinct) {distinct_batches},"
                          f" case says {dict(case.entity_batches)}")
    finally:
        gateway.close()
    text = json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    (scenario.path / EXPECTED_FILE).write_text(text)
    print(f"recorded {scenario.name}: {len(expected)} cases")
    return mismatches


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance.record")
    parser.add_argument("names", nargs="*", help="scenario folder names (default: all)")
    parser.add_argument("--no-compose", action="store_true", help="keep supergraph.graphql")
    parser.add_argument("--show", action="store_true", help="print responses and request counts")
    parser.add_argument(
        "--show-requests", action="store_true", help="print every body the subgraphs received"
    )
    args = parser.parse_args(argv)
    ensure_tools()
    scenarios = load_scenarios(args.names)
    if not args.no_compose:
        if not compose(scenarios):
            return 1
        scenarios = [load_scenario(s.path) for s in scenarios]
    mismatches = 0
    with SubgraphServer() as server:
        for scenario in scenarios:
            for name, resolvers in scenario.resolvers.items():
                server.mount(scenario.name, name, scenario.subgraph_sdls[name], resolvers)
        for scenario in scenarios:
            mismatches += record_scenario(scenario, server, args.show, args.show_requests)
    if mismatches:
        print(f"{mismatches} request-count/batch expectations differ from the gateway",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
