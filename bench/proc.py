"""CPU time and peak memory of a process and all its descendants, from /proc.

A gateway may be one process (Node) or a parent with worker processes
(shopgraph --workers N), so every figure covers the whole live process tree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class TreeSample:
    pids: tuple[int, ...]
    cpu_seconds: float  # utime + stime summed over the tree
    peak_rss_kib: int  # VmHWM summed over the tree
    rss_kib: int  # VmRSS summed over the tree


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces.
    return text[text.rindex(")") + 2 :].split()


def descendants(root: int) -> list[int]:
    """root and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def sample(root: int) -> TreeSample:
    pids = descendants(root)
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            # After dropping pid and comm: utime is field 14 -> index 11, stime index 12.
            ticks += int(fields[11]) + int(fields[12])
    return TreeSample(
        pids=tuple(pids),
        cpu_seconds=ticks / _TICKS_PER_SECOND,
        peak_rss_kib=sum(_status_kib(pid, "VmHWM") for pid in pids),
        rss_kib=sum(_status_kib(pid, "VmRSS") for pid in pids),
    )


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)
