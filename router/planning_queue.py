"""One thread that prepares cold operations, smallest documents first.

Preparing an operation (parse, measure, validate, normalize, plan) runs off the event
loop, so a costly one never holds back the requests whose plans are cached. Jobs
wait in a priority queue ordered by their query's length: a client's ordinary query
is not stuck behind a queue of large hostile documents. The queue is bounded, and a
job whose every waiter has gone is skipped rather than run. A full queue, or a wait
longer than the router allows, is a 503 `PLANNER_BUSY` for the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from router.errors import RequestError, coded_error

T = TypeVar("T")

_STOP = (float("inf"), 0, None)


class QueueFull(Exception):
    """More operations are waiting to be prepared than the queue holds."""


class PlanningQueue:
    """Runs `submit`ted preparations on one daemon thread, lowest priority value first."""

    def __init__(self, max_waiting: int, max_wait: float) -> None:
        """At most `max_waiting` jobs wait; a request waits `max_wait` seconds at most."""
        self.max_waiting = max_waiting
        self.max_wait = max_wait
        self._jobs: queue.PriorityQueue[tuple[float, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        # the thread knows only the job queue: once this object is gone, it is told to stop
        weakref.finalize(self, self._jobs.put, _STOP)

    def waiting(self) -> int:
        """Jobs queued and not yet started."""
        return self._jobs.qsize()

    def submit(self, priority: float, work: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """A future for `work(*args)`, run on the planner thread; QueueFull when
        `max_waiting` jobs already wait. Cancelling the future before the job starts
        skips it."""
        if self._jobs.qsize() >= self.max_waiting:
            raise QueueFull
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((priority, next(self._order), (loop, future, work, args)))
        self._ensure_thread()
        return future

    def start(self, priority: float, work: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """`submit` for a request: a full queue is a RequestError (503 PLANNER_BUSY)."""
        try:
            return self.submit(priority, work, *args)
        except QueueFull:
            raise _busy("too many operations are waiting to be planned") from None

    async def wait(self, pending: asyncio.Future[T]) -> T:
        """The outcome of a job other requests may be waiting for too (shielded: one
        giving up leaves it to them); RequestError (503 PLANNER_BUSY) after `max_wait`.
        A cancellation of the caller is always honoured, even when it lands in the loop
        step that finishes the job."""
        # not asyncio.wait_for: on Python 3.11 it returns the result and drops a cancel
        # that arrives as the awaited future completes (CPython gh-86296), so a request
        # whose client had gone would carry on as if it had not been cancelled
        try:
            async with asyncio.timeout(self.max_wait):
                return await asyncio.shield(pending)
        except TimeoutError:
            raise _busy("waited longer than the router allows for its planner") from None

    def close(self) -> None:
        """Stop the thread once every job waiting is done (the stop sorts after them all)."""
        self._jobs.put(_STOP)

    def _ensure_thread(self) -> None:
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=_serve, args=(self._jobs,), name="shopgraph-planner", daemon=True
                )
                self._thread.start()


def _busy(why: str) -> RequestError:
    """The answer to a request the planner cannot take now: 503, retry shortly."""
    return RequestError(
        [coded_error(f"The router is busy: {why}. Retry shortly.", "PLANNER_BUSY")], 503
    )


def _serve(jobs: queue.PriorityQueue[tuple[float, int, Any]]) -> None:
    while True:
        _, _, job = jobs.get()
        if job is None:
            return
        loop, future, work, args = job
        if future.cancelled():  # every waiter gave up: nobody needs the answer
            continue
        try:
            result = work(*args)
        except BaseException as error:  # handed to the waiters, whatever it is
            if isinstance(error, RequestError):
                _unwind(error)
            _deliver(loop, future, None, error)
        else:
            _deliver(loop, future, result, None)


def _unwind(error: RequestError) -> None:
    """Drop what a refusal keeps of the frames it was raised in (its parsed document,
    its validation state). Re-raised where it is awaited, it forms a reference cycle with
    the waiting future, and whatever its traceback holds would live until the collector
    examines the generation it reached: for a refused 100,000-token document, 150,000
    objects waiting for a full collection. A refusal's traceback is never shown."""
    error.__traceback__ = None
    error.__context__ = None


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    def settle() -> None:
        """Hand the outcome to the future, on its loop (unless cancelled meanwhile)."""
        if future.cancelled():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is left to answer
        loop.call_soon_threadsafe(settle)
