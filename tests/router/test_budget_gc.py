"""The planning budget counts the preparing thread's own work, not the garbage
collector's: a full collection in a big process takes longer than any plan, and charged to
the operation it refused small queries at random (PLANNING_BUDGET_EXCEEDED for a
four-field query, seen in the test suite's own process)."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

import pytest

from router.budget import Budget, BudgetExceeded


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


@pytest.fixture
def slow_collections() -> Iterator[None]:
    """Each garbage collection takes 0.3 s of this thread's CPU (a stand-in for a full
    collection of a big heap; gc runs the callback inside the collection)."""

    def slow(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            _burn(0.3)

    gc.callbacks.append(slow)
    try:
        yield
    finally:
        gc.callbacks.remove(slow)


def test_a_collection_during_planning_is_not_charged(slow_collections: None) -> None:
    budget = Budget(0.1)
    gc.collect()
    budget.check()  # 0.3 s of collection, but the operation itself used almost nothing


def test_the_operations_own_work_still_exhausts_it(slow_collections: None) -> None:
    budget = Budget(0.1)
    gc.collect()
    _burn(0.15)
    with pytest.raises(BudgetExceeded, match=r"more than 0\.1 s of CPU time"):
        budget.check()
