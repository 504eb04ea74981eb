"""`shopgraph router` and `shopgraph plan` as a user runs them (subprocess, real HTTP)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _shopgraph(*args: str) -> list[str]:
    return [sys.executable, "-m", "router.cli", *args]


def _config_for(tmp_path: Path, urls: dict[str, str]) -> Path:
    config = tmp_path / "router.yaml"
    config.write_text(yaml.safe_dump({"subgraphs": {n: {"url": u} for n, u in urls.items()}}))
    return config


@contextmanager
def running_router(*args: str, timeout: float = 30.0) -> Iterator[str]:
    """`shopgraph router ARGS --listen <free port>` until healthy; yields its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        _shopgraph("router", *args, "--listen", f"127.0.0.1:{port}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, f"router did not become healthy in {timeout} s"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_router_serves_a_supergraph_file(
    tmp_path: Path, keys_single: Scenario, keys_server: SubgraphServer
):
    config = _config_for(tmp_path, keys_server.subgraph_urls(keys_single.name))
    with running_router(
        "--supergraph", str(keys_single.supergraph_path), "--config", str(config)
    ) as base:
        case = next(c for c in keys_single.cases if c.name == "jump-to-reviews")
        response = httpx.post(f"{base}/graphql", json={"query": case.query})
        assert response.json() == keys_single.expected[case.name]


def test_router_reports_a_bad_supergraph(tmp_path: Path):
    bad = tmp_path / "not-a-supergraph.graphql"
    bad.write_text("type Query { a: Int }")
    done = subprocess.run(
        _shopgraph("router", "--supergraph", str(bad)), capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "not a supergraph" in done.stderr


def test_router_reports_a_bad_config_key(tmp_path: Path, keys_single: Scenario):
    config = tmp_path / "router.yaml"
    config.write_text("traffic:\n  subgraph_timout: 3\n")
    done = subprocess.run(
        _shopgraph(
            "router", "--supergraph", str(keys_single.supergraph_path), "--config", str(config)
        ),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "traffic.subgraph_timout: unknown option" in done.stderr


def test_plan_command_prints_the_plan(tmp_path: Path, keys_single: Scenario):
    query = tmp_path / "q.graphql"
    query.write_text('{ product(upc: "p1") { name reviewCount } }')
    done = subprocess.run(
        _shopgraph("plan", "--supergraph", str(keys_single.supergraph_path), str(query)),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("QueryPlan {\n  Sequence {\n")
    assert 'Fetch(service: "products")' in done.stdout
    assert 'Flatten(path: "product")' in done.stdout


def test_router_serves_with_two_worker_processes(
    tmp_path: Path, keys_single: Scenario, keys_server: SubgraphServer
):
    config = _config_for(tmp_path, keys_server.subgraph_urls(keys_single.name))
    with running_router(
        "--supergraph",
        str(keys_single.supergraph_path),
        "--config",
        str(config),
        "--workers",
        "2",
        timeout=40,
    ) as base:
        case = next(c for c in keys_single.cases if c.name == "list-one-batch")
        with httpx.Client() as client:
            answers = [
                client.post(f"{base}/graphql", json={"query": case.query}).json() for _ in range(6)
            ]
        assert answers == [keys_single.expected[case.name]] * 6
