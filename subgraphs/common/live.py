"""Live updates for GraphQL subscriptions: post-commit notifications over NATS core.

A write that changes something a subscription watches calls `live_in(session, topic,
key)` inside its transaction. Only when that transaction commits does the process
publish an empty message on `shop.live.<topic>.<key>` (NATS core: no stream, nothing
stored). Every process of the service subscribes to `shop.live.<topic>.*` for its
topics and wakes the key's feed (live_feed.py): one task per key and process reads the
row again and hands that one snapshot to every subscriber of the key, each checking it
against its caller's rights as they are now. So a change costs one read per process, not
one per subscriber.

Bounded: at most `max_watches` subscribers per process (SHOPGRAPH_SUBGRAPH_MAX_SUBSCRIPTIONS),
a feed holds one "changed" flag (notifications coalesce into one re-read: the
subscriber gets the latest state, never a backlog), and the outgoing queue of
notifications is bounded (a full queue drops, counted in a metric). With NATS down,
nothing is published or received: subscriptions get no events, writes are unaffected.
See docs/events.md, "Live updates".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from .database import LIVE_HUB_INFO
from .errors import ApiError
from .events.broker import EventBroker
from .settings import positive_int
from .shutdown import stop_tasks, within

logger = logging.getLogger("shopgraph.live")

SUBJECT_PREFIX = "shop.live."
ENV_MAX_SUBSCRIPTIONS = "SHOPGRAPH_SUBGRAPH_MAX_SUBSCRIPTIONS"
DEFAULT_MAX_SUBSCRIPTIONS = 1000
# Notifications waiting to be sent while the connection is busy; beyond, they are dropped
# (a subscriber then misses that change, and gets the next one with the state after it).
OUTGOING_LIMIT = 10_000
# Messages nats-py may hold for our callback before it drops them as a slow consumer.
INCOMING_LIMIT = 10_000
# The keys a session's transaction marked (session.info; its hub is at LIVE_HUB_INFO).
PENDING_INFO = "shopgraph.live.pending"
# Topics and keys become subject tokens: no dots, blanks or wildcards.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")

WATCHERS = Gauge("shopgraph_live_watchers", "Live subscriptions open", ["service"])
DROPPED = Counter(
    "shopgraph_live_notifications_dropped_total",
    "Live notifications not sent: broker down or outgoing queue full",
    ["service"],
)


class TooManySubscriptions(ApiError):
    """This process already serves as many subscriptions as it is configured to."""

    code = "TOO_MANY_SUBSCRIPTIONS"


def max_subscriptions_setting(env: Mapping[str, str] = os.environ) -> int:
    """SHOPGRAPH_SUBGRAPH_MAX_SUBSCRIPTIONS as a positive integer (1000 if unset)."""
    return positive_int(env, ENV_MAX_SUBSCRIPTIONS, DEFAULT_MAX_SUBSCRIPTIONS)


def subject(topic: str, key: str) -> str:
    """The NATS subject of `key`'s notifications under `topic` (both plain tokens)."""
    if not (_TOKEN.fullmatch(topic) and _TOKEN.fullmatch(key)):
        raise ValueError(f"live topic and key must be plain tokens: {topic!r}, {key!r}")
    return f"{SUBJECT_PREFIX}{topic}.{key}"


def live_in(session: AsyncSession, topic: str, key: object) -> None:
    """Notify `topic`/`key`'s watchers (on every process) once this session's
    transaction commits; nothing is sent if it rolls back."""
    pending = session.info.setdefault(PENDING_INFO, set())
    pending.add(subject(topic, str(key)))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING_INFO, None)
    hub = session.info.get(LIVE_HUB_INFO)
    if pending and isinstance(hub, LiveHub):
        hub.publish(pending)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_INFO, None)


class Watch:
    """A key's "changed" flag, set by each notification (one per key's feed: live_feed.py)."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Mark the key changed (several notifications before a read count as one)."""
        self._changed.set()

    async def changed(self) -> None:
        """Wait until the key changed since the last call."""
        await self._changed.wait()
        self._changed.clear()


class LiveHub:
    """One process's live notifications: sends marked keys after commit, wakes watchers."""

    def __init__(
        self, service: str, topics: Sequence[str] = (), max_watches: int | None = None
    ) -> None:
        for topic in topics:
            subject(topic, "x")  # a bad topic fails at start, not at the first write
        self.service = service
        self.topics = tuple(topics)
        self.max_watches = max_watches or max_subscriptions_setting()
        self._watches: dict[str, set[Watch]] = {}
        self._count = 0
        self._outgoing: asyncio.Queue[str] = asyncio.Queue(OUTGOING_LIMIT)
        self._broker: EventBroker | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._subscriptions: list[Any] = []  # nats-py Subscription objects
        # Set once the topics are subscribed on the broker (the server has the interest).
        self.listening = asyncio.Event()

    @property
    def active(self) -> int:
        """How many watchers are open."""
        return self._count

    def start(self, broker: EventBroker) -> None:
        """Send and receive through `broker`'s connection once it is up (in the background)."""
        self._broker = broker
        self._tasks = [
            asyncio.create_task(self._send_forever(), name=f"{self.service}-live-send"),
            asyncio.create_task(self._subscribe(), name=f"{self.service}-live-subscribe"),
        ]

    async def stop(self) -> None:
        """Stop sending and receiving (watchers stay; they just get no more notifications)."""
        await stop_tasks(self._tasks, f"{self.service} live")
        self._tasks = []
        # Gone before the broker's close drains what is left: nothing of ours to wait for.
        for subscription in self._subscriptions:
            await within(subscription.unsubscribe(), f"{self.service} live: unsubscribing", 2)
        self._subscriptions = []

    def publish(self, subjects: set[str]) -> None:
        """Queue `subjects` for sending (called at commit: never blocks, never raises)."""
        if not self._tasks:  # not serving (or no broker): nobody would send them
            return
        for name in subjects:
            try:
                self._outgoing.put_nowait(name)
            except asyncio.QueueFull:
                DROPPED.labels(self.service).inc()

    @contextlib.contextmanager
    def subscriber(self) -> Iterator[None]:
        """One subscriber for the block's duration; TooManySubscriptions when the process
        has `max_watches` open already."""
        if self._count >= self.max_watches:
            raise TooManySubscriptions(
                f"This server has {self.max_watches} subscriptions open, its limit; retry later"
            )
        self._count += 1
        WATCHERS.labels(self.service).inc()
        try:
            yield
        finally:
            self._count -= 1
            WATCHERS.labels(self.service).dec()

    @contextlib.contextmanager
    def listen(self, name: str) -> Iterator[Watch]:
        """A flag set by each notification on subject `name`, for the block's duration
        (not counted: a key's feed listens once for all its subscribers)."""
        watch = Watch()
        self._watches.setdefault(name, set()).add(watch)
        try:
            yield watch
        finally:
            watchers = self._watches[name]
            watchers.discard(watch)
            if not watchers:
                del self._watches[name]

    def deliver(self, name: str) -> None:
        """Wake the local watchers of subject `name`."""
        for watch in self._watches.get(name, ()):
            watch.notify()

    async def _send_forever(self) -> None:
        assert self._broker is not None
        while True:
            name = await self._outgoing.get()
            if not self._broker.connected:
                # nats-py would buffer it until a reconnect: a stale wake-up, dropped instead.
                DROPPED.labels(self.service).inc()
                continue
            try:
                await self._broker.broker.connection.publish(name, b"")
            except Exception as error:  # a connection lost mid-send: this one is missed
                DROPPED.labels(self.service).inc()
                logger.warning("live: %s could not publish: %s", self.service, error)

    async def _subscribe(self) -> None:
        """Subscribe to the topics once connected; nats-py renews them after reconnects."""
        assert self._broker is not None
        if not self.topics:
            return
        await self._broker.ready.wait()
        connection = self._broker.broker.connection
        for topic in self.topics:
            subscription = await connection.subscribe(
                f"{SUBJECT_PREFIX}{topic}.*",
                cb=self._on_message,
                pending_msgs_limit=INCOMING_LIMIT,
            )
            self._subscriptions.append(subscription)
        await connection.flush()  # a round trip: the server has processed the subscriptions
        self.listening.set()

    async def _on_message(self, message: Any) -> None:
        self.deliver(message.subject)
