"""The router stands alone: it imports nothing from the shop, and its wheel installed
without the `shop` extra serves, plans, composes and checks from any directory."""

from __future__ import annotations

import ast
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.paths import REPO, SCHEMA_DIR

SHOP_DISTRIBUTIONS = ("quart", "strawberry-graphql", "sqlalchemy", "asyncpg", "alembic",
                      "pgserver", "argon2-cffi", "hypercorn")
QUERY = "query TopProducts { products(first: 2) { nodes { id name } } }\n"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_router_imports_nothing_from_the_shop():
    offenders = {
        str(path.relative_to(REPO)): sorted(
            name for name in _imported_modules(path) if name.split(".")[0] == "subgraphs"
        )
        for path in sorted((REPO / "router").rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_run_time_code_finds_no_files_through_its_own_path():
    uses = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for root in ("router", "subgraphs")
        for path in sorted((REPO / root).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Name) and node.id == "__file__"
    ]
    assert uses == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def router_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv (no system packages) with the router's wheel and its dependencies."""
    work = tmp_path_factory.mktemp("standalone")
    source = work / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")
    for folder in ("router", "subgraphs"):
        shutil.copytree(REPO / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    wheels = work / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
             "-w", str(wheels), str(source)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("shopgraph-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)]
    done = subprocess.run(install, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def _outside_env() -> dict[str, str]:
    """This environment without PYTHONPATH, so the venv cannot see the checkout."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def _shopgraph(venv: Path, *args: str, cwd: Path, stdin: str | None = None):
    return subprocess.run([str(venv / "bin" / "shopgraph"), *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120, env=_outside_env())


def test_installing_the_wheel_brings_no_shop_dependency(router_venv: Path):
    listed = subprocess.run([str(router_venv / "bin" / "python"), "-m", "pip", "list",
                             "--format=freeze"], capture_output=True, text=True, check=True)
    installed = {
        line.split("==")[0].lower().replace("_", "-") for line in listed.stdout.splitlines()
    }
    assert {"graphql-core", "httpx", "orjson", "pyjwt", "pyyaml", "uvicorn",
            "prometheus-client"} <= installed
    assert installed.isdisjoint(SHOP_DISTRIBUTIONS)


def test_the_installed_router_composes_checks_and_plans_from_any_directory(
    router_venv: Path, tmp_path: Path
):
    schema = tmp_path / "elsewhere" / "schema"
    shutil.copytree(SCHEMA_DIR, schema)
    composed = _shopgraph(router_venv, "compose", "--out", "-", "--no-hints",
                          cwd=schema.parent)
    assert composed.returncode == 0, composed.stderr
    assert composed.stdout == (SCHEMA_DIR / "supergraph.graphql").read_text()

    checked = _shopgraph(router_venv, "check", "--schema-dir", str(schema), "--dir",
                         str(schema), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "orders: no change(s)" in checked.stdout

    planned = _shopgraph(router_venv, "plan", "--supergraph", str(schema / "supergraph.graphql"),
                         "-", cwd=tmp_path, stdin=QUERY)
    assert planned.returncode == 0, planned.stderr
    assert 'Fetch(service: "products")' in planned.stdout


def test_shop_commands_name_the_extra_they_need(router_venv: Path, tmp_path: Path):
    for command in ("dev", "schema"):
        done = _shopgraph(router_venv, command, cwd=tmp_path)
        assert done.returncode == 2
        assert f"shopgraph {command} needs the `shop` extra" in done.stderr
        assert "pip install 'shopgraph[shop]'" in done.stderr
        assert "Traceback" not in done.stderr
    tested = _shopgraph(router_venv, "test", cwd=tmp_path)
    assert tested.returncode == 2
    assert "shopgraph test needs the `dev` extra" in tested.stderr
    assert "pip install -e '.[dev]' inside the source checkout" in tested.stderr
    checked = _shopgraph(router_venv, "check", "--schema-dir", str(SCHEMA_DIR), cwd=tmp_path)
    assert checked.returncode == 2
    assert "cannot import subgraphs.accounts.schema (No module named" in checked.stderr
    assert "--dir" in checked.stderr and "Traceback" not in checked.stderr
    listing = _shopgraph(router_venv, "--help", cwd=tmp_path)
    assert listing.returncode == 0
    for command in ("router", "plan", "compose", "check", "dev", "schema", "test"):
        assert f"\n  {command} " in listing.stdout


def test_the_installed_router_serves_a_supergraph(router_venv: Path, tmp_path: Path):
    port = _free_port()
    server = subprocess.Popen(
        [str(router_venv / "bin" / "shopgraph"), "router", "--supergraph",
         str(SCHEMA_DIR / "supergraph.graphql"), "--listen", f"127.0.0.1:{port}"],
        cwd=tmp_path, env=_outside_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode()[-2000:]
                assert time.monotonic() < deadline, "the router did not start in 60 s"
                time.sleep(0.2)
        assert health.status_code == 200
        answer = httpx.post(f"http://127.0.0.1:{port}/graphql",
                            json={"query": "{ __typename }"}, timeout=5)
        assert answer.json() == {"data": {"__typename": "Query"}}
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert metrics.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
