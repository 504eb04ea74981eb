"""Sampling CPU profiles with py-spy, summarised as tables of where the time goes.

py-spy samples only threads that are running (not blocked in epoll), so the
shares below are shares of CPU time. `record()` attaches to a live process
(and its subprocesses, e.g. router workers); `summarise()` reads py-spy's raw
folded stacks ("frame;frame;frame count" per line).

    python -m bench.profile RAW_FILE      # print the summary of a saved profile
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


@contextlib.contextmanager
def record(pid: int, output: Path, rate: int = 250, subprocesses: bool = True) -> Iterator[None]:
    """Profile pid (and, by default, its subprocesses) for the duration of the with-block."""
    if shutil.which("py-spy") is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    process = subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), *(["--subprocesses"] if subprocesses else []),
         "--format", "raw", "--rate", str(rate), "--nonblocking", "-o", str(output)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, errors = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, errors = process.communicate()
        if not output.exists():
            raise RuntimeError(f"py-spy wrote no profile: {errors.strip()[-500:]}")


@dataclass(frozen=True, slots=True)
class Summary:
    samples: int
    self_time: list[tuple[str, float]]  # function -> share of samples spent in it
    inclusive: list[tuple[str, float]]  # function -> share of samples with it on the stack
    areas: list[tuple[str, float]]  # file area -> share of self time


def _area(file: str) -> str:
    """Group a frame's file into something readable: router/executor/shape.py, httpx, ..."""
    path = file.replace("\\", "/")
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    for marker in ("router/", "bench/"):
        if path.startswith(marker) or f"/{marker}" in path:
            return path[path.index(marker):]
    if path.startswith("<"):
        return "python internals"
    return path.split("/", 1)[0]


def summarise(raw: Path, top: int = 20) -> Summary:
    self_counts: Counter[str] = Counter()
    inclusive_counts: Counter[str] = Counter()
    area_counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        names = []
        for frame in frames:
            match = _FRAME.match(frame)
            if match:
                names.append((f"{match['function']} ({match['file']})", match["file"]))
            else:
                names.append((frame, frame))
        self_counts[names[-1][0]] += count
        area_counts[_area(names[-1][1])] += count
        for name in {n for n, _ in names}:
            inclusive_counts[name] += count
    share = (lambda c: c / total) if total else (lambda c: 0.0)
    return Summary(
        samples=total,
        self_time=[(n, share(c)) for n, c in self_counts.most_common(top)],
        inclusive=[(n, share(c)) for n, c in inclusive_counts.most_common(top)],
        areas=[(n, share(c)) for n, c in area_counts.most_common(top)],
    )


def to_markdown(summary: Summary) -> str:
    def table(title: str, rows: list[tuple[str, float]]) -> list[str]:
        lines = [f"| {title} | share |", "|---|---|"]
        lines += [f"| `{name}` | {value:.1%} |" for name, value in rows]
        return lines

    return "\n".join([
        f"{summary.samples} samples.",
        "",
        *table("where CPU time is spent (self), by file or package", summary.areas),
        "",
        *table("function (self time)", summary.self_time),
        "",
        *table("function (inclusive)", summary.inclusive),
    ])


if __name__ == "__main__":
    print(to_markdown(summarise(Path(sys.argv[1]))))
