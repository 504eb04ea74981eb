"""Record @defer cases from Hive Gateway (Apollo Gateway has no @defer).

    python -m tests.conformance.record_defer [SCENARIO...]

For each scenario with a `defer_cases.yaml` (name, query): serve its subgraphs with the
kit, start Hive Gateway (bench/package.json's, `npm ci` in bench/ first) with
`deferStream: true` on the scenario's supergraph, send every case with
`Accept: multipart/mixed` and write the payloads it streamed to `defer_expected.json`.
test_defer_conformance.py compares ours with them: the first payload, the merged result
and the (label, path) of every incremental item.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario, load_scenarios

ROOT = Path(__file__).resolve().parents[2]
HIVE = ROOT / "bench" / "node_modules" / "@graphql-hive" / "gateway" / "dist" / "bin.js"
CASES_FILE = "defer_cases.yaml"
EXPECTED_FILE = "defer_expected.json"


def defer_cases(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario's @defer cases (none when it has no defer_cases.yaml)."""
    path = scenario.path / CASES_FILE
    return yaml.safe_load(path.read_text()) if path.is_file() else []


def multipart_payloads(body: bytes) -> list[dict[str, Any]]:
    """The JSON payloads of a multipart/mixed body with boundary "-" (part headers such
    as Content-Length are skipped)."""
    out = []
    for chunk in body.split(b"\r\n---")[1:]:
        if b"\r\n\r\n" not in chunk:
            continue  # the closing delimiter's "--"
        out.append(json.loads(chunk.split(b"\r\n\r\n", 1)[1]))
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def record(scenario: Scenario) -> dict[str, Any]:
    """Every defer case of the scenario, as Hive Gateway streams it."""
    with SubgraphServer() as server, tempfile.TemporaryDirectory() as tmp:
        for name, resolvers in scenario.resolvers.items():
            server.mount(scenario.name, name, scenario.subgraph_sdls[name], resolvers)
        pattern = rf"http://subgraphs\.invalid/{re.escape(scenario.name)}/(\w+)"
        sdl = re.sub(pattern, lambda m: server.url(scenario.name, m.group(1)), scenario.supergraph)
        work = Path(tmp)
        (work / "supergraph.graphql").write_text(sdl)
        (work / "gateway.config.mjs").write_text(
            "export const gatewayConfig = { deferStream: true };\n"
        )
        port = _free_port()
        argv = ["node", str(HIVE), "supergraph", "supergraph.graphql"]
        argv += ["--host", "127.0.0.1", "--port", str(port)]
        with (work / "hive.log").open("w") as log:
            gateway = subprocess.Popen(argv, cwd=work, stdout=log, stderr=subprocess.STDOUT)
            try:
                return _ask(f"http://127.0.0.1:{port}", defer_cases(scenario))
            finally:
                gateway.terminate()
                gateway.wait(10)


def _ask(url: str, cases: list[dict[str, Any]]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthcheck", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    out: dict[str, Any] = {}
    for case in cases:
        response = httpx.post(
            url + "/graphql",
            json={"query": case["query"]},
            headers={"accept": "multipart/mixed"},
            timeout=30,
        )
        out[case["name"]] = multipart_payloads(response.content)
    return out


def main(argv: list[str]) -> None:
    """Record the named scenarios (all with defer cases when none is named)."""
    for scenario in load_scenarios(argv or None):
        if not defer_cases(scenario):
            continue
        recorded = record(scenario)
        path = scenario.path / EXPECTED_FILE
        path.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
        print(f"{scenario.name}: {len(recorded)} cases -> {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
