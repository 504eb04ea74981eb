"""Bounded shutdown: stopping background tasks and closing resources within a time limit.

A cancelled task does not always stop. On Python 3.11, `asyncio.wait_for` returns the
awaited result instead of raising CancelledError when that result arrives in the same
loop iteration as the cancellation (fixed in 3.12), and nats-py waits with `wait_for`
for every request, fetch and flush; nats-py also catches CancelledError itself in a few
places. A consumer cancelled just as its JetStream reply came in carried on with its
loop, and `await task` never returned: the app's shutdown hook hung until hypercorn gave
up after its 60 s shutdown timeout. So a task still running after a grace period is
cancelled again, and after the time limit it is left behind (logged), never waited for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from typing import Any

logger = logging.getLogger("shopgraph.shutdown")

# How long a cancelled task may take to clean up before it is cancelled again.
GRACE_SECONDS = 0.5
STOP_TIMEOUT = 5.0


async def stop_tasks(
    tasks: Iterable[asyncio.Future[Any]], owner: str, timeout: float = STOP_TIMEOUT
) -> bool:
    """Cancel `tasks` and wait until they have ended, `timeout` seconds at most; True if
    they all did. A task still running after GRACE_SECONDS is cancelled again."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    given = list(tasks)
    pending = {task for task in given if not task.done()}
    ended = {task for task in given if task.done()}
    while pending:
        left = deadline - loop.time()
        if left <= 0:
            names = sorted(_name(task) for task in pending)
            logger.error("%s: still running after %.1f s, left behind: %s", owner, timeout, names)
            break
        for task in pending:
            task.cancel()
        done, pending = await asyncio.wait(pending, timeout=min(GRACE_SECONDS, left))
        ended |= done
    for task in ended:
        _report(task, owner)
    return not pending


async def within(step: Awaitable[object], what: str, timeout: float = STOP_TIMEOUT) -> bool:
    """Run a shutdown `step` (closing a connection, a pool) for `timeout` seconds at most;
    True if it finished (an error is logged, not raised: the next steps still run)."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if done:
        _report(task, what)
        return True
    logger.error("%s: not done after %.1f s; stopped", what, timeout)
    await stop_tasks([task], what, GRACE_SECONDS * 2)
    return False


def _name(task: asyncio.Future[Any]) -> str:
    return task.get_name() if isinstance(task, asyncio.Task) else repr(task)


def _report(task: asyncio.Future[Any], owner: str) -> None:
    """Log how an ended task failed, if it did (a cancelled one ended as asked)."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        logger.warning("%s: %r while stopping", owner, error)
