"""Running wrk against a GraphQL endpoint and reading its summary."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = Path(__file__).parent / "post.lua"
_MARK = "BENCH_JSON "


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int  # connect/read/write/timeout errors plus non-2xx answers
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    url: str,
    body_file: Path,
    *,
    seconds: float,
    connections: int,
    cpus: str | None = None,
    timeout_s: int = 30,
) -> LoadResult:
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout_s}s",
        "-s", str(_SCRIPT), url, "--", str(body_file),
    ]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + timeout_s + 30, check=False
    )
    for line in completed.stdout.splitlines():
        if line.startswith(_MARK):
            summary = json.loads(line[len(_MARK) :])
            break
    else:
        raise RuntimeError(f"wrk gave no summary:\n{completed.stdout}\n{completed.stderr}")
    latency = summary["latency_us"]
    return LoadResult(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        errors=sum(summary["errors"].values()),
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=latency["mean"] / 1000,
        max_ms=latency["max"] / 1000,
    )
