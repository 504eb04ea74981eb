"""A ~50 MB subgraph answer through `shopgraph router`: peak memory, and the others served.

    python -m bench.big_response [--target-bytes 50000000] [--repeat 3]

Starts the bench subgraphs (core 0) and a fresh `shopgraph router` (core 1), then
sends `{ topProducts(first: N) { upc name price weight } }`, N chosen so the answer
is ~`target_bytes`, `repeat` times one after the other, while another client sends a
small query every 10 ms on its own connection. Prints one JSON object: the payload's
size, the router's peak RSS (VmHWM of its process tree) before and after and its
ratio to the payload, each big request's latency and router CPU, the small client's
latencies during the big requests (max, p99), and whether the big answer is right
(its SHA-256 against the expected JSON built from bench/data.py, and its first
1,000 items against bench/reference.py's graphql-core answer).

The products subgraph answers topProducts beyond its materialised catalogue from
`bench.data.product(i)` without graphql-core, memoised (bench/subgraph_server.py),
and is asked once before the router starts: what is measured is the router.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson

from bench import proc
from bench.data import PRODUCT_SCALARS, product_rows
from bench.reference import expected_response

BENCH = Path(__file__).resolve().parent
SUBGRAPH_PORT = 4520
ROUTER_PORT = 4521
SMALL_QUERY = "query Small { me { id username } }"
SMALL_INTERVAL = 0.010  # seconds between two small queries
FIELDS = " ".join(PRODUCT_SCALARS)
CHECKED_ITEMS = 1000  # the big answer's first items, checked against the reference


def big_query(first: int) -> str:
    """The big query for `first` products."""
    return f"query Big {{ topProducts(first: {first}) {{ {FIELDS} }} }}"


def products_for(target_bytes: int) -> int:
    """How many products make an answer of about `target_bytes`."""
    sample = next(product_rows(1000, PRODUCT_SCALARS, block=1000))
    per_item = (len(sample) + 1) / 1000
    return max(1, round(target_bytes / per_item))


def expected_digest(first: int) -> tuple[str, int]:
    """SHA-256 and length of the expected response, built a block at a time."""
    digest = hashlib.sha256()
    size = 0
    pieces = [b'{"data":{"topProducts":[']
    for index, block in enumerate(product_rows(first, PRODUCT_SCALARS)):
        pieces.append(block if index == 0 else b"," + block)
        for piece in pieces:
            digest.update(piece)
            size += len(piece)
        pieces = []
    for piece in [*pieces, b"]}}"]:
        digest.update(piece)
        size += len(piece)
    return digest.hexdigest(), size


def _reference_prefix() -> bytes:
    """graphql-core's answer for the first CHECKED_ITEMS products, without its closing."""
    answer = orjson.dumps(expected_response(big_query(CHECKED_ITEMS)))
    return answer[: -len(b"]}}")]


def _moved(supergraph: Path, port: int, folder: Path) -> Path:
    """The supergraph with every subgraph URL on 127.0.0.1 moved to `port`."""
    text = re.sub(r"http://127\.0\.0\.1:\d+/", f"http://127.0.0.1:{port}/", supergraph.read_text())
    moved = folder / "supergraph.graphql"
    moved.write_text(text)
    return moved


def _started(command: list[str], cpus: str, log: Path) -> subprocess.Popen:
    if shutil.which("taskset"):
        command = ["taskset", "-c", cpus, *command]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def _wait_health(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def _post(port: int, path: str, body: bytes, timeout: float = 120) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", path, body, {"content-type": "application/json"})
        return connection.getresponse().read()
    finally:
        connection.close()


class _SmallClient(threading.Thread):
    """Sends the small query every SMALL_INTERVAL on one keep-alive connection, noting
    (start, latency) of each answer."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.samples: list[tuple[float, float]] = []
        self.failures = 0
        self.stop = threading.Event()

    def run(self) -> None:
        """Send until stopped."""
        body = orjson.dumps({"query": SMALL_QUERY})
        headers = {"content-type": "application/json"}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        next_at = time.perf_counter()
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                connection.request("POST", "/graphql", body, headers)
                answer = connection.getresponse().read()
                if b'"errors"' in answer:
                    self.failures += 1
            except (OSError, http.client.HTTPException):
                self.failures += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.samples.append((started, time.perf_counter() - started))
            next_at += SMALL_INTERVAL
            time.sleep(max(0.0, next_at - time.perf_counter()))
        connection.close()


def _big_request(port: int, body: bytes, prefix_size: int) -> dict[str, Any]:
    """One big request, its answer hashed as it is read (the bench holds no 50 MB)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    digest = hashlib.sha256()
    head = b""
    size = 0
    started = time.perf_counter()
    try:
        connection.request("POST", "/graphql", body, {"content-type": "application/json"})
        response = connection.getresponse()
        first_byte = time.perf_counter() - started
        while piece := response.read(1 << 20):
            digest.update(piece)
            size += len(piece)
            if len(head) < prefix_size:
                head += piece[: prefix_size - len(head)]
    finally:
        connection.close()
    return {
        "status": response.status,
        "seconds": time.perf_counter() - started,
        "first_byte_seconds": first_byte,
        "bytes": size,
        "sha256": digest.hexdigest(),
        "head": head,
        "window": (started, time.perf_counter()),
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def measure_big_response(
    supergraph: Path, *, target_bytes: int = 50_000_000, repeat: int = 3
) -> dict[str, Any]:
    """Start the subgraphs and a fresh router, send the big query `repeat` times while a
    small query runs every 10 ms, and report memory, latencies and correctness."""
    first = products_for(target_bytes)
    digest, expected_size = expected_digest(first)
    prefix = _reference_prefix()
    body = orjson.dumps({"query": big_query(first)})
    executable = shutil.which("shopgraph")
    router_command = [executable] if executable else [sys.executable, "-m", "router.cli"]
    with tempfile.TemporaryDirectory(prefix="big-response-") as tmp:
        folder = Path(tmp)
        moved = _moved(supergraph, SUBGRAPH_PORT, folder)
        subgraphs = _started(
            [sys.executable, "-m", "bench.subgraph_server", "--port", str(SUBGRAPH_PORT)],
            "0",
            folder / "subgraphs.log",
        )
        router: subprocess.Popen | None = None
        try:
            health = f"http://127.0.0.1:{SUBGRAPH_PORT}/health"
            _wait_health(health, subgraphs, folder / "subgraphs.log")
            # the subgraph builds and memoises its answer now, not while measured
            _post(SUBGRAPH_PORT, "/products", orjson.dumps({"query": big_query(first)}))
            router = _started(
                [*router_command, "router", "--supergraph", str(moved),
                 "--listen", f"127.0.0.1:{ROUTER_PORT}"],
                "1",
                folder / "router.log",
            )
            _wait_health(f"http://127.0.0.1:{ROUTER_PORT}/health", router, folder / "router.log")
            small_body = orjson.dumps({"query": SMALL_QUERY})
            for _ in range(20):  # plan cached, connections open
                _post(ROUTER_PORT, "/graphql", small_body)
            return _measure(router.pid, body, first, digest, expected_size, prefix, repeat)
        finally:
            for process in (router, subgraphs):
                if process is not None:
                    process.terminate()
                    try:
                        process.wait(10)
                    except subprocess.TimeoutExpired:
                        process.kill()


def _measure(
    pid: int,
    body: bytes,
    first: int,
    digest: str,
    expected_size: int,
    prefix: bytes,
    repeat: int,
) -> dict[str, Any]:
    idle = proc.sample(pid)
    small = _SmallClient(ROUTER_PORT)
    small.start()
    time.sleep(0.5)
    runs = []
    for _ in range(repeat):
        before = proc.sample(pid)
        run = _big_request(ROUTER_PORT, body, len(prefix))
        run["cpu_seconds"] = proc.sample(pid).cpu_seconds - before.cpu_seconds
        runs.append(run)
        time.sleep(0.3)
    small.stop.set()
    small.join()
    after = proc.sample(pid)
    during = [
        latency
        for started, latency in small.samples
        if any(a <= started <= b for a, b in (run["window"] for run in runs))
    ]
    peak = after.peak_rss_kib * 1024
    return {
        "products": first,
        "payload_bytes": expected_size,
        "response_bytes": [run["bytes"] for run in runs],
        "correct": all(
            run["status"] == 200 and run["sha256"] == digest and run["head"] == prefix
            for run in runs
        ),
        "router_idle_rss_mib": round(idle.rss_kib / 1024, 1),
        "router_idle_peak_rss_mib": round(idle.peak_rss_kib / 1024, 1),
        "router_peak_rss_mib": round(peak / 2**20, 1),
        "router_peak_over_idle_mib": round((peak - idle.peak_rss_kib * 1024) / 2**20, 1),
        "peak_rss_to_payload": round(peak / expected_size, 2),
        "big_seconds": [round(run["seconds"], 3) for run in runs],
        "big_first_byte_seconds": [round(run["first_byte_seconds"], 3) for run in runs],
        "big_cpu_seconds": [round(run["cpu_seconds"], 3) for run in runs],
        "small_requests_during_big": len(during),
        "small_max_ms": round(max(during, default=0.0) * 1000, 1),
        "small_p99_ms": round(_percentile(during, 0.99) * 1000, 1),
        "small_p50_ms": round(_percentile(during, 0.50) * 1000, 1),
        "small_failures": small.failures,
        "load_average": proc.load_average(),
    }


def main() -> None:
    """CLI: print the measurement as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supergraph", type=Path, default=BENCH / "supergraph.graphql")
    parser.add_argument("--target-bytes", type=int, default=50_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    result = measure_big_response(
        args.supergraph, target_bytes=args.target_bytes, repeat=args.repeat
    )
    result["run_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
