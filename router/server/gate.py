"""How many requests execute at once while the event loop has no CPU to spare.

Fifty requests executing at once on one event loop interleave at every subgraph call,
and each finds its data gone from the CPU caches when it resumes: the benchmark's heavy
query costs 3.9 CPU ms with 50 in flight, 2.4 with 4 (docs/performance.md). When the
loop is saturated, letting only `limit` requests execute and the rest wait their turn
(first come, first served) gives the same throughput at less CPU per request. When it is
not (subgraphs slow, the loop mostly idle), waiting would only add latency: every waiter
is let in as soon as the loop's thread was less than `busy` of the last tick busy.

"Busy" counts the time the loop's thread ran *and* the time it waited for a core while
runnable (Linux schedstat). A loop sharing its core with other processes — two workers
on two cores with the load and the subgraphs among them — is as saturated when it waits
for the core as when it runs; counting only its CPU time would call it idle and let
everything in (bench.scaling: 3.67 CPU ms per request with two workers against 2.98
with one).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

TICK = 0.01  # seconds between two readings of how busy the loop's thread was
RUN_DELAY = "/proc/thread-self/schedstat"  # its 2nd number: ns runnable, waiting for a core


def run_delay() -> float | None:
    """Seconds the calling thread has waited runnable for a core (exact once it runs
    again, as it does to read it), or None where the kernel keeps no schedstat or the
    read fails (no file descriptor left)."""
    try:
        with open(RUN_DELAY, "rb", buffering=0) as stat:
            return int(stat.read(64).split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


class ExecutionGate:
    """`async with gate:` around a request's execution."""

    def __init__(self, limit: int, busy: float = 0.9) -> None:
        self.limit = limit
        self.busy = busy
        self.active = 0
        self.saturated = False
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._ticking = False
        self._mark = (0.0, 0.0)
        self._waited = 0.0  # the last run delay read: a failed read keeps it

    async def __aenter__(self) -> None:
        if not self._ticking:
            self.watch()
        if self.active < self.limit or not self.saturated:
            self.active += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await turn  # whoever settles it counts this request active
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._leave()  # let in as it was cancelled: give the place on
            else:
                self._waiting.remove(turn)
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._leave()

    def watch(self) -> None:
        """Start reading how busy the loop is (call on the loop, once)."""
        if not self._ticking:
            self._ticking = True
            self._mark = (time.perf_counter(), self.busy_seconds())
            asyncio.get_running_loop().call_later(TICK, self._tick)

    def busy_seconds(self) -> float:
        """The loop thread's CPU seconds plus its seconds waiting for a core. The CPU
        part comes from the thread clock, not schedstat, whose running total is brought
        up to date only at scheduler ticks."""
        waited = run_delay()
        if waited is not None:
            self._waited = waited
        return time.thread_time() + self._waited

    def _tick(self) -> None:
        wall, cpu = time.perf_counter(), self.busy_seconds()
        spent = wall - self._mark[0]
        self.saturated = spent > 0 and (cpu - self._mark[1]) / spent >= self.busy
        self._mark = (wall, cpu)
        if not self.saturated:
            self._admit(len(self._waiting))
        if self.active or self._waiting:
            asyncio.get_running_loop().call_later(TICK, self._tick)
        else:  # nothing executing: no reading until the next request
            self._ticking = False
            self.saturated = False

    def _leave(self) -> None:
        self.active -= 1
        self._admit(self.limit - self.active)

    def _admit(self, places: int) -> None:
        """Let in up to `places` waiters, first come first."""
        while places > 0 and self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                self.active += 1
                places -= 1
