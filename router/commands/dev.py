"""`shopgraph dev`: the whole stack on this machine, seeded, until Ctrl-C.

PostgreSQL is embedded (pgserver, data kept in .data/) unless DATABASE_URL is
set. Each service runs as its own process; add one to `services()` and it is
started, health-checked, listed and stopped like the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

HELP = "run the stack locally: embedded PostgreSQL + the four seeded subgraphs"

STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    argv: list[str]
    health_path: str = "/health"
    env: dict[str, str] = field(default_factory=dict)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--no-seed", action="store_true", help="do not load the demo shop")


def services(host: str) -> list[Service]:
    from subgraphs.stack import DEFAULT_PORTS, SUBGRAPHS

    urls = {name: f"http://{host}:{port}/graphql" for name, port in DEFAULT_PORTS.items()}
    links = {
        "SHOPGRAPH_INVENTORY_URL": urls["inventory"],
        "SHOPGRAPH_PRODUCTS_URL": urls["products"],
    }
    return [
        Service(
            name,
            port,
            [sys.executable, "-m", "subgraphs", name, "--host", host, "--port", str(port)],
            env=links,
        )
        for name in SUBGRAPHS
        for port in [DEFAULT_PORTS[name]]
    ]


def _prepare_databases(seed: bool) -> str:
    from subgraphs.common.database import server_url
    from subgraphs.stack import database_urls, prepare

    url = server_url()
    print("preparing databases (migrations" + (", demo data)" if seed else ")"), flush=True)
    asyncio.run(prepare(database_urls(url), seed=seed))
    return url


def _wait_healthy(host: str, service: Service, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    url = f"http://{host}:{service.port}{service.health_path}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _banner(host: str, stack: list[Service]) -> str:
    from subgraphs.seed import DEMO_USERS

    lines = ["", "shopgraph is running:"]
    lines += [f"  {s.name:<10} http://{host}:{s.port}/graphql" for s in stack]
    lines += ["", "demo credentials (login mutation on accounts):"]
    lines += [f"  {u.role.lower():<9} {u.email} / {u.password}" for u in DEMO_USERS]
    lines += ["", "Ctrl-C stops everything."]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    url = _prepare_databases(seed=not args.no_seed)
    stack = services(args.host)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    previous = signal.signal(signal.SIGTERM, request_stop)
    try:
        for service in stack:
            env = {**os.environ, "DATABASE_URL": url, **service.env}
            processes[service.name] = subprocess.Popen(service.argv, env=env)
        for service in stack:
            if not _wait_healthy(args.host, service, processes[service.name]):
                print(
                    f"shopgraph dev: {service.name} did not become healthy on port {service.port} "
                    "(is the port in use? see its log above)",
                    file=sys.stderr,
                )
                return 1
        print(_banner(args.host, stack), flush=True)
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    code = process.returncode
                    print(f"shopgraph dev: {name} exited with {code}", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C must not abandon the children half-stopped.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("stopping...", flush=True)
        _stop(processes)
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
