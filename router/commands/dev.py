"""`shopgraph dev`: the whole stack on this machine, seeded, until Ctrl-C.

PostgreSQL is embedded (pgserver, data kept in .data/ or --data-dir) unless
DATABASE_URL is set. The four subgraphs and then the router (composing the
supergraph from the running subgraphs) each run as their own process, with
their output prefixed by their name. Every port is checked before anything
starts; a port in use or a service that fails stops the start with an error
naming it. Each service is added to `services()` and is started,
health-checked, listed and stopped like the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HELP = "run the stack locally: embedded PostgreSQL, the four seeded subgraphs and the router"

STARTUP_TIMEOUT = 60.0
ROUTER_PORT = 4000


class DevError(Exception):
    """Starting the stack failed; the message names what failed."""


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
    parser.add_argument(
        "--router-port", type=int, default=ROUTER_PORT, help=f"router port (default {ROUTER_PORT})"
    )
    parser.add_argument(
        "--subgraph-port",
        action="append",
        default=[],
        metavar="NAME=PORT",
        help="a subgraph's port (repeat; defaults 4001-4004)",
    )
    parser.add_argument(
        "--data-dir",
        help="where the embedded PostgreSQL keeps its data (default .data/, or "
        "SHOPGRAPH_DATA_DIR); ignored when DATABASE_URL is set",
    )
    parser.add_argument("--router-config", help="router.yaml for the router")
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="create, migrate and seed the databases, then exit (compose.yaml's migrate step)",
    )


def subgraph_ports(pairs: list[str]) -> dict[str, int]:
    from subgraphs.stack import DEFAULT_PORTS

    ports = dict(DEFAULT_PORTS)
    for pair in pairs:
        name, sep, port = pair.partition("=")
        if not sep or name not in ports or not port.isdigit():
            known = ", ".join(ports)
            raise DevError(
                f"--subgraph-port takes NAME=PORT with NAME one of {known}, got {pair!r}"
            )
        ports[name] = int(port)
    return ports


def services(
    host: str,
    ports: dict[str, int] | None = None,
    router_port: int = ROUTER_PORT,
    router_config: str | None = None,
) -> list[Service]:
    """The subgraphs, then the router composing them (started in this order)."""
    from subgraphs.stack import DEFAULT_PORTS, SUBGRAPHS

    ports = ports or dict(DEFAULT_PORTS)
    urls = {name: f"http://{host}:{ports[name]}/graphql" for name in SUBGRAPHS}
    links = {
        "SHOPGRAPH_INVENTORY_URL": urls["inventory"],
        "SHOPGRAPH_PRODUCTS_URL": urls["products"],
    }
    stack = [
        Service(
            name,
            ports[name],
            [sys.executable, "-m", "subgraphs", name, "--host", host, "--port", str(ports[name])],
            env=links,
        )
        for name in SUBGRAPHS
    ]
    router = [sys.executable, "-m", "router.cli", "router", "--listen", f"{host}:{router_port}"]
    for name in SUBGRAPHS:
        router += ["--subgraph", f"{name}={urls[name]}"]
    if router_config:
        router += ["--config", router_config]
    stack.append(Service("router", router_port, router, health_path="/ready"))
    return stack


def check_ports(host: str, stack: list[Service]) -> None:
    seen: dict[int, str] = {}
    for service in stack:
        if service.port in seen:
            raise DevError(
                f"{service.name} and {seen[service.port]} are both configured for port "
                f"{service.port}"
            )
        seen[service.port] = service.name
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, service.port))
            except OSError as error:
                flag = "--router-port" if service.name == "router" else "--subgraph-port"
                raise DevError(
                    f"port {service.port} for {service.name} is not available on {host} "
                    f"({error.strerror}); stop what uses it or choose another with {flag}"
                ) from error


class Progress:
    """Numbered steps with their timings, on one line each."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.step = 0

    def start(self, text: str) -> Callable[[str], None]:
        self.step += 1
        started = time.monotonic()
        print(f"[{self.step}/{self.total}] {text} ...", flush=True)

        def done(result: str = "ready") -> None:
            elapsed = time.monotonic() - started
            print(f"[{self.step}/{self.total}] {text}: {result} ({elapsed:.1f} s)", flush=True)

        return done


def _prepare_databases(seed: bool) -> str:
    from subgraphs.common.database import server_url
    from subgraphs.stack import database_urls, prepare

    url = server_url()
    asyncio.run(prepare(database_urls(url), seed=seed))
    return url


def _start_postgres() -> str:
    from subgraphs.common.database import data_dir, server_url

    if os.environ.get("DATABASE_URL"):
        return "using DATABASE_URL"
    server_url()
    return f"embedded, data in {data_dir() / 'postgres'}"


def _relay(name: str, stream: object) -> None:
    """Print a child's output lines prefixed with its name."""
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        line = raw.decode(errors="replace").rstrip()
        print(f"{name:>9} | {line}", flush=True)


def _spawn(service: Service, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        service.argv,
        env={**env, **service.env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        # Own process group: Ctrl-C in the terminal reaches only us; we stop the children.
        start_new_session=True,
    )
    threading.Thread(
        target=_relay, args=(service.name, process.stdout), daemon=True
    ).start()
    return process


def _wait_healthy(
    host: str, service: Service, process: subprocess.Popen[bytes], stopping: Callable[[], bool]
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    url = f"http://{host}:{service.port}{service.health_path}"
    while time.monotonic() < deadline and not stopping():
        code = process.poll()
        if code is not None:
            raise DevError(f"{service.name} exited with code {code} while starting (its output "
                           "is above, prefixed with its name)")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    if not stopping():
        raise DevError(
            f"{service.name} did not become healthy at {url} within {STARTUP_TIMEOUT:.0f} s"
        )


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    ordered = list(reversed(processes.values()))  # the router first, PostgreSQL users last
    for process in ordered:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in ordered:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _banner(host: str, stack: list[Service]) -> str:
    from subgraphs.seed import DEMO_USERS

    router = next(s for s in stack if s.name == "router")
    base = f"http://{host}:{router.port}"
    lines = ["", "shopgraph is running:"]
    lines += [f"  playground: {base}/playground", f"  router:     {base}/graphql", ""]
    lines += ["  subgraphs:"]
    lines += [f"    {s.name:<10} http://{host}:{s.port}/graphql" for s in stack if s is not router]
    lines += ["", "demo credentials (the playground's Authorization pane logs in):"]
    lines += [f"  {u.role.lower():<9} {u.email} / {u.password}" for u in DEMO_USERS]
    lines += [
        "",
        "try:",
        f"  curl -s {base}/graphql -H 'content-type: application/json' \\",
        "    -d '{\"query\": \"{ products(first: 3) { nodes { name stock { available } } } }\"}'",
        "",
        "Ctrl-C stops everything (the data is kept for the next start).",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.data_dir:
        os.environ["SHOPGRAPH_DATA_DIR"] = str(Path(args.data_dir).resolve())
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    previous_term = signal.signal(signal.SIGTERM, request_stop)
    previous_int = signal.signal(signal.SIGINT, request_stop)
    progress = Progress(4)
    try:
        stack = services(
            args.host, subgraph_ports(args.subgraph_port), args.router_port, args.router_config
        )
        if not args.prepare_only:
            check_ports(args.host, stack)
        done = progress.start("PostgreSQL")
        where = _start_postgres()
        done(where)
        done = progress.start(
            "databases: migrations" + (" and demo data" if not args.no_seed else "")
        )
        url = _prepare_databases(seed=not args.no_seed)
        done("done")
        if stopping or args.prepare_only:
            return 0
        env = {**os.environ, "DATABASE_URL": url}
        subgraphs = [s for s in stack if s.name != "router"]
        done = progress.start("subgraphs: " + ", ".join(s.name for s in subgraphs))
        for service in subgraphs:
            processes[service.name] = _spawn(service, env)
        for service in subgraphs:
            _wait_healthy(args.host, service, processes[service.name], lambda: stopping)
        done("all healthy")
        if not stopping:
            router = stack[-1]
            done = progress.start("router: composing the supergraph from the subgraphs")
            processes[router.name] = _spawn(router, env)
            _wait_healthy(args.host, router, processes[router.name], lambda: stopping)
            done(f"ready on port {router.port}")
        if not stopping:
            print(_banner(args.host, stack), flush=True)
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    raise DevError(f"{name} exited with code {process.returncode}")
            time.sleep(0.3)
        return 0
    except DevError as error:
        print(f"shopgraph dev: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C must not abandon the children half-stopped.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if processes:
            print("stopping...", flush=True)
        _stop(processes)
        with contextlib.suppress(Exception):
            _stop_embedded_postgres()
        if processes:
            print("stopped.", flush=True)
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


def _stop_embedded_postgres() -> None:
    """Release our handle on the embedded server; pgserver stops it when no user is left."""
    from subgraphs.common import database

    server = database._embedded
    if server is not None:
        server.cleanup()
