"""The graphql-http server audit (GraphQL over HTTP spec) against `shopgraph router`
serving the composed shop: every MUST and SHOULD audit passes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.server.dev_stack import free_ports

HERE = Path(__file__).parent
ROOT = HERE.parents[1]

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (HERE / "node_modules" / "graphql-http").is_dir(),
    reason="node and tests/http_audit/node_modules are installed by `shopgraph test`",
)


def test_every_must_and_should_audit_passes():
    port = free_ports(1)[0]
    router = subprocess.Popen(
        [
            sys.executable, "-m", "router.cli", "router",
            "--supergraph", str(ROOT / "schema" / "supergraph.graphql"),
            "--listen", f"127.0.0.1:{port}",
            "--poll-interval", "0",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert router.poll() is None, router.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "router did not start in 30 s"
            time.sleep(0.1)
        done = subprocess.run(
            ["node", "audit.mjs", f"http://127.0.0.1:{port}/graphql"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        router.terminate()
        router.wait(timeout=10)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    required = [r for r in results if r["name"].startswith(("MUST", "SHOULD"))]
    failed = [r for r in required if r["status"] != "ok"]
    assert failed == []
    musts = sum(r["name"].startswith("MUST") for r in required)
    assert musts >= 10 and len(required) - musts >= 20  # the audit ran in full
