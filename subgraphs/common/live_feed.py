"""One read per key and change, shared by all of the key's subscribers in the process.

A subscription follows a key (`follow`): the first subscriber of a key starts the key's
feed, one task that listens for the key's notifications (live.py) and, after each
wake-up, reads the key once with its `load` and hands that snapshot to every subscriber.
Notifications that arrive during a read coalesce into one more read; a subscriber that
was busy skips to the latest snapshot (never a backlog). The last subscriber to leave
stops the feed. So 1000 subscribers of one product cost one SELECT per change, not 1000;
each subscriber still checks the shared snapshot against its own caller's rights.

Bounded: a read that takes longer than LOAD_TIMEOUT fails the feed; its subscribers then
end with INTERNAL_SERVER_ERROR (the failure is logged once), and the key's next
subscriber starts a new feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

from .errors import INTERNAL_MESSAGE, ApiError, log_unexpected
from .live import LiveHub, subject

logger = logging.getLogger("shopgraph.live")

T = TypeVar("T")
# Seconds one read of a key may take (the subscribers' request deadline does not cover
# it: the read serves all of them, and outlives any one).
LOAD_TIMEOUT = 10.0

_FEEDS: weakref.WeakKeyDictionary[LiveHub, dict[str, _Feed[Any]]] = weakref.WeakKeyDictionary()


class LiveReadFailed(ApiError):
    """A key's shared read failed (its cause is logged once, not shown)."""

    code = "INTERNAL_SERVER_ERROR"


class _Feed(Generic[T]):
    """One key's latest snapshot, read by one task for all of its subscribers."""

    def __init__(self, hub: LiveHub, name: str, load: Callable[[], Awaitable[T]]) -> None:
        self._load = load
        self._version = 0
        self._value: T | None = None
        self._failed = False
        self._fresh = asyncio.Event()
        self.followers = 0
        self._task = asyncio.create_task(self._run(hub, name), name=f"live-feed-{name}")

    @property
    def failed(self) -> bool:
        """Whether the feed stopped on a failed read (a new subscriber needs a new feed)."""
        return self._failed

    def close(self) -> None:
        """Stop reading (its listener goes with the task)."""
        self._task.cancel()

    async def snapshots(self) -> AsyncIterator[T]:
        """The current snapshot (once read), then each newer one; LiveReadFailed when a
        read failed."""
        seen = 0
        while True:
            if self._version == seen:
                await self._fresh.wait()
                continue
            seen = self._version
            if self._failed:
                raise LiveReadFailed(INTERNAL_MESSAGE)
            yield self._value  # type: ignore[misc]  # set before the first version

    async def _run(self, hub: LiveHub, name: str) -> None:
        # Listening before reading: a change committed after a read wakes the feed again.
        with hub.listen(name) as watch:
            while True:
                try:
                    async with asyncio.timeout(LOAD_TIMEOUT):
                        value = await self._load()
                except Exception as error:  # the database down or slow: every follower ends
                    log_unexpected(logger, "live: reading %s failed", name, error=error)
                    self._failed = True
                    self._publish(None)
                    return
                self._publish(value)
                await watch.changed()

    def _publish(self, value: T | None) -> None:
        self._value = value
        self._version += 1
        fresh, self._fresh = self._fresh, asyncio.Event()
        fresh.set()


@contextlib.asynccontextmanager
async def follow(
    hub: LiveHub, topic: str, key: str, load: Callable[[], Awaitable[T]]
) -> AsyncIterator[AsyncIterator[T]]:
    """The snapshots of `topic`/`key` for the block's duration, counted as one subscriber
    of the process (TooManySubscriptions at its limit). `load` reads the key; it must
    depend on the key alone, since the key's first subscriber's `load` serves them all."""
    name = subject(topic, key)
    with hub.subscriber():
        feeds = _FEEDS.setdefault(hub, {})
        feed = feeds.get(name)
        if feed is None or feed.failed:
            feed = feeds[name] = _Feed(hub, name, load)
        feed.followers += 1
        snapshots = feed.snapshots()
        try:
            yield snapshots
        finally:
            await snapshots.aclose()  # type: ignore[attr-defined]
            feed.followers -= 1
            if feed.followers == 0:
                feed.close()
                if feeds.get(name) is feed:
                    del feeds[name]


def feeds_running(hub: LiveHub) -> int:
    """How many keys have a feed in `hub`'s process."""
    return len(_FEEDS.get(hub, {}))
