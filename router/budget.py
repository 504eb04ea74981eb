"""A CPU-time budget for preparing one operation.

It starts before validation, so validation's time counts, but only normalization and
planning check it as they go (graphql-core's validation cannot be interrupted; it
bounds its own costliest rule and the limits measured beforehand bound the rest). An
operation that exhausts it is refused with a coded error instead of holding the
planner. CPU time of the preparing thread is used, so time spent waiting for the
interpreter lock on a busy router does not count.

Nor does the garbage collector's: a full collection runs in whichever thread happens to
allocate when it is due and scans the whole heap, which in a big process takes longer
than any plan. Charged to the operation, it refused small queries at random (seen as
PLANNING_BUDGET_EXCEEDED for a four-field query in a 3,000-test process), so the time
of every collection is recorded per thread and left out.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any


class BudgetExceeded(Exception):
    """The operation took more than its planning budget."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"more than {seconds:g} s of CPU time")
        self.seconds = seconds


class _CollectorTime(threading.local):
    """This thread's CPU time spent in the garbage collector so far."""

    spent = 0.0
    started = 0.0


_collector = _CollectorTime()


def _on_collection(phase: str, _info: dict[str, Any]) -> None:
    """gc callback: runs in the collecting thread, at the start and end of a collection."""
    if phase == "start":
        _collector.started = time.thread_time()
    elif _collector.started:
        _collector.spent += time.thread_time() - _collector.started
        _collector.started = 0.0


gc.callbacks.append(_on_collection)


def _working_time() -> float:
    """This thread's CPU time, less what the garbage collector took of it."""
    return time.thread_time() - _collector.spent


class Budget:
    """`check()` raises BudgetExceeded once `seconds` of this thread's CPU time passed
    (garbage collection excluded)."""

    __slots__ = ("deadline", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = _working_time() + seconds

    def check(self) -> None:
        """Raise BudgetExceeded when the budget is spent."""
        if _working_time() > self.deadline:
            raise BudgetExceeded(self.seconds)


UNLIMITED = Budget(float("inf"))
