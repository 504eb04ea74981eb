"""What one request may cost a subgraph once it executes: field resolutions and time.

The operation limits (`limits.py`) bound the document, not its result. A small
document can ask for an exponential one: `orders { nodes { customer { orders {
nodes { customer { ... } } } } } }` nested ten levels over a customer's three
orders has 59,049 orders at its leaves (8 s of the orders subgraph's CPU, a
3.8 MB answer); over a hundred orders three levels took 19 s and a 46 MB
answer, four a minute and 2.7 GB, and went on long after the router gave up.
So execution itself is bounded, in every subgraph:

- **Resolutions.** Each field graphql-core resolves (every field of every
  object in the result, scalars included) counts one against the request's
  budget, one that waits (its resolver returns an awaitable: a loader, the
  database, another service) WAITING_WEIGHT. Past the budget the field fails
  and the request is cancelled at once; it answers `RESULT_TOO_LARGE` and
  nothing of the partial result. SHOPGRAPH_SUBGRAPH_MAX_RESOLUTIONS, default
  100,000: an `_entities` batch of 10,000 products or stock levels (the most
  one request may carry) stays below it, the shop's own pages resolve a few
  thousand. The cycle above now stops after 3.7 s and 130 MB, the hundred
  orders after 2 s.
- **Time.** After SHOPGRAPH_SUBGRAPH_TIMEOUT_SECONDS (default 30) the request
  is cancelled wherever it waits (PostgreSQL, a loader, another service) and
  answers `OPERATION_TIMEOUT`. Work that must not be cut (a payment being
  settled, a reservation being released) is shielded where it starts, as for
  a client that hangs up.

Both answers are HTTP 200 with `data: null` and one coded error: the document
was valid, its execution was refused.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import os
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import GraphQLResolveInfo
from graphql.pyutils import is_awaitable

from router.errors import coded_error

from .errors import ApiError
from .settings import positive_int, positive_number

ENV_MAX_RESOLUTIONS = "SHOPGRAPH_SUBGRAPH_MAX_RESOLUTIONS"
ENV_TIMEOUT = "SHOPGRAPH_SUBGRAPH_TIMEOUT_SECONDS"
DEFAULT_MAX_RESOLUTIONS = 100_000
DEFAULT_TIMEOUT = 30.0
# What a resolution that waits (its resolver returns an awaitable) counts. It is a
# coroutine, usually a loader's or the database's round, and it stays pending while
# its siblings go on, so thousands are alive at once: measured at 80-200 us of CPU
# each (garbage collection included), a plain field at about 10 us. More would
# refuse the largest `_entities` batches of stock levels (a waiting `stock` each).
WAITING_WEIGHT = 5

RESULT_TOO_LARGE = "RESULT_TOO_LARGE"
OPERATION_TIMEOUT = "OPERATION_TIMEOUT"

T = TypeVar("T")


@dataclass(frozen=True)
class ExecutionBudget:
    """What one request may spend executing: field resolutions and seconds."""

    max_resolutions: int = DEFAULT_MAX_RESOLUTIONS
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ExecutionBudget:
        """The defaults, with SHOPGRAPH_SUBGRAPH_MAX_RESOLUTIONS / _TIMEOUT_SECONDS applied.

        Raises LimitsSettingError for a value that is not a positive number.
        """
        return cls(
            max_resolutions=positive_int(env, ENV_MAX_RESOLUTIONS, DEFAULT_MAX_RESOLUTIONS),
            timeout=positive_number(env, ENV_TIMEOUT, DEFAULT_TIMEOUT),
        )


class ResultTooLarge(ApiError):
    """A field resolution over the request's budget (what the field's error says)."""

    code = RESULT_TOO_LARGE


class ExecutionStopped(Exception):
    """The request was stopped by its budget; `body` is its whole answer."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code
        self.body: dict[str, Any] = {"data": None, "errors": [coded_error(message, code)]}


class _Execution:
    """One request's execution: the resolutions it spent, and stopping it.

    Stopping cancels the request's task, as `asyncio.timeout` does, but at once
    when called from another task (a field's task under a `gather`): the request
    is suspended then, and cancelling it cancels every task it waits for before
    the thousands of sibling fields already queued can run.
    """

    __slots__ = ("cancelled", "cancelling", "limit", "open", "reason", "task", "used")

    def __init__(self, limit: int) -> None:
        task = asyncio.current_task()
        assert task is not None, "an execution runs in a task"
        self.task = task
        self.cancelling = task.cancelling()
        self.limit = limit
        self.used = 0
        self.reason: str | None = None
        self.cancelled = False
        self.open = True

    def spend(self, units: int = 1) -> None:
        """Count `units`; over the limit, stop the request and fail the field."""
        self.used += units
        if self.used > self.limit:
            self.stop(RESULT_TOO_LARGE)
            raise ResultTooLarge(_too_large(self.limit))

    def stop(self, reason: str) -> None:
        """Stop the request (the first reason is the one it answers)."""
        if self.reason is not None or not self.open:
            return
        self.reason = reason
        if asyncio.current_task() is self.task:
            # Running in the request's own task: a cancel now would also hit whatever
            # it awaits after the execution. Cancel it once it waits, if still executing.
            asyncio.get_running_loop().call_soon(self._cancel)
        else:
            self._cancel()

    def _cancel(self) -> None:
        if self.open:
            self.cancelled = True
            self.task.cancel()

    def close(self) -> None:
        """Work the request left behind (a sibling settling in the background) fails at
        its next field instead of running on unaccounted."""
        self.open = False
        self.limit = 0


_execution: contextvars.ContextVar[_Execution | None] = contextvars.ContextVar(
    "shopgraph_execution", default=None
)


class ResolutionBudget:
    """graphql-core middleware: each field resolution spends from the request's budget
    (outside `within_budget`, as for a test calling the endpoint, nothing)."""

    def resolve(
        self, next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo, **args: Any
    ) -> Any:
        """Spend one resolution, resolve the field, and spend the rest of WAITING_WEIGHT
        if it has to wait; ResultTooLarge when the budget runs out."""
        execution = _execution.get()
        if execution is None:
            return next_(root, info, **args)
        execution.spend()
        result = next_(root, info, **args)
        if is_awaitable(result):
            try:
                execution.spend(WAITING_WEIGHT - 1)
            except ResultTooLarge:
                if inspect.iscoroutine(result):
                    result.close()  # never started: nothing of it ran, nothing to await
                raise
        return result


def _too_large(limit: int) -> str:
    return (
        f"The result is too large: the operation needs more than {limit} field "
        "resolutions, the limit. Ask for fewer items or less nesting."
    )


async def within_budget(budget: ExecutionBudget, work: Callable[[], Awaitable[T]]) -> T:
    """`work()` (one request's execution) under `budget`.

    Raises ExecutionStopped when it resolved more fields than allowed or ran out
    of time; whatever it was waiting for then is cancelled.
    """
    execution = _Execution(budget.max_resolutions)
    timer = asyncio.get_running_loop().call_later(budget.timeout, execution.stop, OPERATION_TIMEOUT)
    token = _execution.set(execution)  # the tasks the execution creates copy it
    try:
        result = await work()
    except asyncio.CancelledError:
        # Ours only if we cancelled and nobody else did too (asyncio.timeout's rule).
        if not execution.cancelled or execution.task.uncancel() > execution.cancelling:
            raise
        raise _stopped(execution.reason, budget) from None
    finally:
        timer.cancel()
        execution.close()
        _execution.reset(token)
    if execution.cancelled:
        execution.task.uncancel()  # `work` swallowed our cancel: take the request back
    if execution.reason is not None:
        # over the budget in a synchronous stretch that ran to the end before the cancel
        raise _stopped(execution.reason, budget)
    return result


def quiet_dropped_field_coroutines() -> None:
    """Do not warn about the field coroutines a stopped execution drops unstarted.

    graphql-core creates a field's coroutines before the task that will await
    them runs; cancelling the execution (its deadline, its budget, a client
    hanging up) drops them without their having started, so nothing of them ran.
    Python would print "coroutine ... was never awaited" for each, at whatever
    point they are collected. Only graphql-core's and strawberry's own are quiet.
    """
    warnings.filterwarnings(
        "ignore",
        message=r"coroutine '(Executor\.|GraphQLCoreConverter\.from_resolver\.)",
        category=RuntimeWarning,
    )


def _stopped(reason: str | None, budget: ExecutionBudget) -> ExecutionStopped:
    if reason == RESULT_TOO_LARGE:
        return ExecutionStopped(_too_large(budget.max_resolutions), RESULT_TOO_LARGE)
    return ExecutionStopped(
        f"The operation did not finish within {budget.timeout:g} s and was stopped.",
        OPERATION_TIMEOUT,
    )
