"""The execution gate (router/server/gate.py): a few requests execute at once while the
event loop is saturated, the others wait their turn; when it is not, nobody waits."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from router import Router
from router.config import parse_config
from router.server import create_app
from router.server import gate as gate_module
from router.server.gate import RUN_DELAY, ExecutionGate


async def _hold(gate: ExecutionGate, entered: list[int], release: asyncio.Event, n: int) -> None:
    async with gate:
        entered.append(n)
        await release.wait()


async def test_while_saturated_a_waiter_enters_when_a_place_frees_first_come_first():
    gate = ExecutionGate(2)
    gate._ticking = True  # no ticker: saturation is set by hand
    gate.saturated = True
    entered: list[int] = []
    releases = [asyncio.Event() for _ in range(4)]
    tasks = [asyncio.create_task(_hold(gate, entered, releases[n], n)) for n in range(4)]
    await asyncio.sleep(0.01)
    assert entered == [0, 1] and gate.active == 2
    releases[1].set()
    await asyncio.sleep(0.01)
    assert entered == [0, 1, 2] and gate.active == 2
    tasks[3].cancel()  # a waiter giving up leaves no place taken
    await asyncio.sleep(0.01)
    releases[0].set()
    releases[2].set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert entered == [0, 1, 2] and gate.active == 0


async def test_a_waiter_let_in_as_it_is_cancelled_gives_its_place_on():
    gate = ExecutionGate(1)
    gate._ticking = True
    gate.saturated = True
    entered: list[int] = []
    first, third = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(gate, entered, first, 0))
    await asyncio.sleep(0)
    late = asyncio.create_task(_hold(gate, entered, asyncio.Event(), 1))
    last = asyncio.create_task(_hold(gate, entered, third, 2))
    await asyncio.sleep(0.01)
    first.set()  # lets `late` in...
    late.cancel()  # ...which is cancelled in the same step: `last` gets the place
    await asyncio.sleep(0.01)
    assert entered == [0, 2] and gate.active == 1
    third.set()
    await asyncio.gather(holder, late, last, return_exceptions=True)
    assert gate.active == 0


async def test_when_the_loop_is_idle_nobody_waits():
    gate = ExecutionGate(1)
    gate.saturated = True  # as it was a moment ago: the ticker finds the loop idle now
    entered: list[int] = []
    release = asyncio.Event()
    tasks = [asyncio.create_task(_hold(gate, entered, release, n)) for n in range(20)]
    await asyncio.sleep(0)
    assert entered == [0]  # the others wait...
    await asyncio.sleep(0.05)
    assert sorted(entered) == list(range(20))  # ...until the ticker saw an idle loop
    release.set()
    await asyncio.gather(*tasks)
    assert gate.active == 0


class _Slow:
    """A subgraph client answering every call after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        self.urls = {"products": "http://p", "accounts": "http://a", "reviews": "http://r",
                     "inventory": "http://i"}
        self.delay = delay
        self.in_flight = 0
        self.most = 0

    async def request(self, service: str, query: str, *args: Any, **kwargs: Any) -> dict:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        return {"data": {"topProducts": []}}

    async def aclose(self) -> None:
        pass


async def test_slow_subgraphs_are_not_throttled_by_the_gate():
    sdl = (Path(__file__).parents[2] / "bench" / "supergraph.graphql").read_text()
    client = _Slow(0.2)
    config = parse_config({"traffic": {"max_concurrent_executions": 2}})
    app = create_app(Router.from_supergraph(sdl, client=client), config=config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as http:
        answers = await asyncio.gather(
            *(http.post("/graphql", json={"query": "{ topProducts { upc } }"}) for _ in range(30))
        )
    await app.router.aclose()
    assert [a.json() for a in answers] == [{"data": {"topProducts": []}}] * 30
    assert client.most == 30  # the loop was idle: all executed at once, not 2 at a time


async def test_the_ticker_stops_when_nothing_executes():
    gate = ExecutionGate(2)
    async with gate:
        assert gate._ticking
        await asyncio.sleep(0.03)
    await asyncio.sleep(0.03)
    assert not gate._ticking and not gate.saturated


def test_busy_time_counts_the_time_a_thread_waits_for_its_core():
    """Two workers share their cores with the load generator and the subgraphs: a loop
    that waits for its core has as much work as one that runs."""
    assert Path(RUN_DELAY).exists()  # Linux with schedstat: the CI machines
    core = min(os.sched_getaffinity(0))
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    shares: list[float] = []
    gate = ExecutionGate(8)

    def spin_beside_it() -> None:
        os.sched_setaffinity(0, {core})  # this thread only
        wall, busy, cpu = time.perf_counter(), gate.busy_seconds(), time.thread_time()
        while time.perf_counter() - wall < 0.5:
            pass
        spent = time.perf_counter() - wall
        shares.extend([(gate.busy_seconds() - busy) / spent,
                       (time.thread_time() - cpu) / spent])

    try:
        os.sched_setaffinity(spinner.pid, {core})
        time.sleep(0.05)
        thread = threading.Thread(target=spin_beside_it)
        thread.start()
        thread.join()
    finally:
        spinner.kill()
        spinner.wait()
    busy, cpu = shares
    assert busy > 0.9  # running or waiting for the core all along
    assert cpu < 0.75  # the core was shared: its CPU time alone calls it idle


def test_a_failed_run_delay_read_keeps_the_last_one(monkeypatch):
    # found by review: a read failing (no descriptor left) counted the wait as 0, so
    # busy time fell by the whole wait so far and the next tick let every waiter in
    monkeypatch.setattr(gate_module, "RUN_DELAY", "/nonexistent/schedstat")
    assert gate_module.run_delay() is None
    gate = ExecutionGate(8)
    monkeypatch.setattr(gate_module, "run_delay", lambda: 5.0)
    assert 5.0 <= gate.busy_seconds() < 5.0 + time.thread_time() + 1
    monkeypatch.setattr(gate_module, "run_delay", lambda: None)
    assert 5.0 <= gate.busy_seconds() < 5.0 + time.thread_time() + 1
