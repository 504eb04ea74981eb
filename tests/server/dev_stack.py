"""`shopgraph dev` as a user runs it: a subprocess on free ports (the router, the
subgraphs, the NATS broker and the SMTP sink) with its own data dir.

One running stack is shared by the tests that need the real thing (the dev
command test and the playground browser test): `running_stack(request)` starts
it on first use and stops it (Ctrl-C) when the session ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from subgraphs.stack import SUBGRAPHS

STARTUP_TIMEOUT = 90.0
READY_LINE = "Ctrl-C stops everything"


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass(frozen=True)
class InfraPorts:
    """The broker's client and monitoring ports and the SMTP sink's port."""

    nats: int
    nats_monitor: int
    mail: int

    def argv(self) -> list[str]:
        return [
            "--nats-port",
            str(self.nats),
            "--nats-monitor-port",
            str(self.nats_monitor),
            "--mail-port",
            str(self.mail),
        ]


@dataclass
class DevStack:
    data_dir: Path
    router_port: int
    subgraph_ports: dict[str, int]
    infra: InfraPorts
    process: subprocess.Popen[bytes] | None = None
    lines: list[str] = field(default_factory=list)
    started_in: float = 0.0
    env: dict[str, str] = field(default_factory=dict)  # on top of ours, JWT settings removed

    @property
    def router_url(self) -> str:
        return f"http://127.0.0.1:{self.router_port}"

    def subgraph_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.subgraph_ports[name]}/graphql"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.infra.nats}"

    @property
    def maildir(self) -> Path:
        return self.data_dir / "mail"

    def argv(self) -> list[str]:
        argv = [sys.executable, "-m", "router.cli", "dev", "--data-dir", str(self.data_dir)]
        argv += ["--router-port", str(self.router_port)]
        for name, port in self.subgraph_ports.items():
            argv += ["--subgraph-port", f"{name}={port}"]
        return argv + self.infra.argv()

    def output(self) -> str:
        return "\n".join(self.lines)

    def start(self) -> None:
        self.lines = []
        started = time.monotonic()
        self.process = subprocess.Popen(
            self.argv(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**clean_environment(os.environ), "PYTHONUNBUFFERED": "1", **self.env},
        )
        ready = threading.Event()

        def read(stream: Any) -> None:
            for raw in iter(stream.readline, b""):
                line = raw.decode(errors="replace").rstrip("\n")
                self.lines.append(line)
                if READY_LINE in line:
                    ready.set()
            ready.set()  # the process ended

        threading.Thread(target=read, args=(self.process.stdout,), daemon=True).start()
        if not ready.wait(STARTUP_TIMEOUT) or self.process.poll() is not None:
            self.stop()
            raise AssertionError(f"shopgraph dev did not start:\n{self.output()}")
        self.started_in = time.monotonic() - started

    def stop(self) -> tuple[int, float]:
        """Ctrl-C; returns (exit code, seconds it took to stop)."""
        assert self.process is not None
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode, time.monotonic() - started

    def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        """The router's HTTP answer to a GraphQL request, whatever its status."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.post(
            f"{self.router_url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=30,
        )

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = self.post(query, variables, token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def clean_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment without any SHOPGRAPH_* setting, as a new user's shell is: no JWT key
    (the stack signs with the secret it keeps in its data folder), no broker URL (it starts its
    own broker), no SMTP address (its own sink). The subgraph tests' session stack sets some of
    these in this process; a `shopgraph dev` started here must not inherit them."""
    return {k: v for k, v in environ.items() if not k.startswith("SHOPGRAPH_")}


def new_stack() -> DevStack:
    ports = free_ports(4 + len(SUBGRAPHS))
    data_dir = Path(tempfile.mkdtemp(prefix="sgdev-"))
    infra = InfraPorts(*ports[1:4])
    return DevStack(data_dir, ports[0], dict(zip(SUBGRAPHS, ports[4:], strict=True)), infra)


_shared: DevStack | None = None


def running_stack(request: pytest.FixtureRequest) -> DevStack:
    global _shared
    if _shared is None:
        stack = new_stack()
        stack.start()
        _shared = stack

        def finish() -> None:
            global _shared
            if stack.process is not None and stack.process.poll() is None:
                stack.stop()
            _shared = None

        request.session.addfinalizer(finish)
    elif _shared.process is None or _shared.process.poll() is not None:
        _shared.start()
    return _shared


LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token userErrors { code message } }
}
"""

MY_ORDERS = """
query MyOrders {
  me {
    email
    orders(first: 10) {
      nodes {
        id
        lines {
          quantity
          product { id name price { amount currencyCode } stock { available } }
        }
      }
    }
  }
}
"""


def login(stack: DevStack, email: str, password: str) -> str:
    body = stack.graphql(LOGIN, {"email": email, "password": password})
    assert "errors" not in body, body
    token = body["data"]["login"]["token"]
    assert token, body
    return str(token)


def product_facts(stack: DevStack, product_ids: list[str]) -> dict[str, tuple[str, int]]:
    """(name, available) per product, asked of the products and inventory subgraphs directly."""
    facts: dict[str, tuple[str, int]] = {}
    for product_id in product_ids:
        name = httpx.post(
            stack.subgraph_url("products"),
            json={
                "query": "query($id: ID) { product(id: $id) { name } }",
                "variables": {"id": product_id},
            },
        ).json()["data"]["product"]["name"]
        available = httpx.post(
            stack.subgraph_url("inventory"),
            json={
                "query": "query($r: [_Any!]!) { _entities(representations: $r) "
                "{ ... on Product { stock { available } } } }",
                "variables": {"r": [{"__typename": "Product", "id": product_id}]},
            },
        ).json()["data"]["_entities"][0]["stock"]["available"]
        facts[product_id] = (name, available)
    return facts
