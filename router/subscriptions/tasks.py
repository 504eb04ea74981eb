"""Ending a connection's tasks without waiting on them for ever.

A connection handler (ws.py, sse.py) cancels its subscriptions' tasks when the client
goes and waits for them to close their upstream sockets. A task that lost its
cancellation (Python 3.11's asyncio.wait_for drops one arriving in the step its inner
awaitable finishes in, CPython gh-86296) would hold that handler, a registry slot and a
subgraph socket for ever: each task still running after GRACE seconds is cancelled
again, and after ATTEMPTS rounds it is left, so the handler always ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("shopgraph.router.subscriptions")

GRACE = 5.0  # seconds: closing an upstream socket takes at most ~3 (complete + close)
ATTEMPTS = 3


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], grace: float = GRACE) -> int:
    """Cancel `tasks` and wait until they end, cancelling the ones still running again
    every `grace` seconds, at most ATTEMPTS times; the number of tasks left running."""
    pending = set(tasks)
    warned = False
    for _ in range(ATTEMPTS):
        if not pending:
            break
        for task in pending:
            task.cancel()
        done, pending = await asyncio.wait(pending, timeout=grace)
        for task in done:
            _retrieve(task)
        if pending and not warned:
            warned = True
            log.warning(
                "%d task(s) still running %g s after being cancelled; cancelling again",
                len(pending),
                grace,
            )
    for task in pending:
        task.add_done_callback(_retrieve)  # its outcome is nobody's to report any more
    return len(pending)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a finished task's exception as seen (the handler reported what mattered)."""
    if not task.cancelled():
        task.exception()
