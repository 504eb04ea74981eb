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

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def start_wrk(
    url: str,
    body_file: Path,
    *,
    seconds: float,
    connections: int,
    cpus: str | None = None,
    timeout_s: int = 30,
    stamps_file: Path | None = None,
) -> subprocess.Popen:
    """Start wrk; with stamps_file, each response's monotonic time is written there."""
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout_s}s",
        "-s", str(_SCRIPT), url, "--", str(body_file),
        *([str(stamps_file)] if stamps_file else []),
    ]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_wrk(process: subprocess.Popen, timeout: float = 120) -> LoadResult:
    stdout, stderr = process.communicate(timeout=timeout)
    for line in stdout.splitlines():
        if line.startswith(_MARK):
            summary = json.loads(line[len(_MARK) :])
            break
    else:
        raise RuntimeError(f"wrk gave no summary:\n{stdout}\n{stderr}")
    latency = summary["latency_us"]
    return LoadResult(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        errors=sum(summary["errors"].values()),
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=latency["mean"] / 1000,
    )


def run_wrk(url: str, body_file: Path, *, seconds: float, connections: int,
            cpus: str | None = None, timeout_s: int = 30) -> LoadResult:
    process = start_wrk(url, body_file, seconds=seconds, connections=connections, cpus=cpus,
                        timeout_s=timeout_s)
    return finish_wrk(process, timeout=seconds + timeout_s + 30)


def completed_between(stamps_file: Path, start: float, end: float) -> int:
    """Responses wrk received between two time.monotonic() readings."""
    count = 0
    for line in stamps_file.read_text().splitlines():
        stamp = float(line.split()[0])
        if start <= stamp < end:
            count += 1
    return count
