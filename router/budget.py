"""A CPU-time budget for preparing one operation.

It starts before validation, so validation's time counts, but only normalization and
planning check it as they go (graphql-core's validation cannot be interrupted; it
bounds its own costliest rule and the limits measured beforehand bound the rest). An
operation that exhausts it is refused with a coded error instead of holding the
planner. CPU time of the preparing thread is used, so time spent waiting for the
interpreter lock on a busy router does not count."""

from __future__ import annotations

import time


class BudgetExceeded(Exception):
    """The operation took more than its planning budget."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"more than {seconds:g} s of CPU time")
        self.seconds = seconds


class Budget:
    """`check()` raises BudgetExceeded once `seconds` of this thread's CPU time passed."""

    __slots__ = ("deadline", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.thread_time() + seconds

    def check(self) -> None:
        """Raise BudgetExceeded when the budget is spent."""
        if time.thread_time() > self.deadline:
            raise BudgetExceeded(self.seconds)


UNLIMITED = Budget(float("inf"))
