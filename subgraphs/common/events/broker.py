"""The connection to NATS JetStream, through FastStream's NatsBroker.

Connecting never blocks a service's start-up: `EventBroker.run()` keeps trying in the
background until the server answers, and nats-py reconnects forever after that.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from datetime import timedelta

from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import PubAck, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NoStreamResponseError

from ..shutdown import within
from ..urls import redacted, server_list
from .envelope import DLQ_PREFIX, SUBJECT_PREFIX

logger = logging.getLogger("shopgraph.events")

ENV_NATS_URL = "SHOPGRAPH_NATS_URL"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
EVENTS_STREAM = "SHOP_EVENTS"
DEAD_LETTER_STREAM = "SHOP_DEAD_LETTERS"
PUBLISH_TIMEOUT = 2.0
# Closing drains the subscriptions first; nats-py's default waits 30 s for that.
DRAIN_TIMEOUT = 2
CLOSE_TIMEOUT = 5.0

STREAMS = (
    StreamConfig(
        name=EVENTS_STREAM,
        subjects=[SUBJECT_PREFIX + ">"],
        storage=StorageType.FILE,
        max_age=timedelta(days=7).total_seconds(),
        duplicate_window=timedelta(minutes=2).total_seconds(),
    ),
    StreamConfig(
        name=DEAD_LETTER_STREAM,
        subjects=[DLQ_PREFIX + ">"],
        storage=StorageType.FILE,
        max_age=timedelta(days=30).total_seconds(),
        duplicate_window=timedelta(minutes=2).total_seconds(),
    ),
)


def nats_url() -> str:
    """SHOPGRAPH_NATS_URL, or the dev broker's address."""
    return os.environ.get(ENV_NATS_URL) or DEFAULT_NATS_URL


class BrokerUnavailable(RuntimeError):
    """The broker is not connected (yet, or right now)."""


class EventBroker:
    """One service's connection: streams declared, publishing with a PubAck, JetStream."""

    def __init__(self, url: str | None = None, name: str = "shopgraph") -> None:
        self.url = url or nats_url()
        # A cluster is given as "nats://n1:4222,nats://n2:4222": nats-py wants a list, and
        # takes the whole string for one (invalid) URL and never connects.
        servers = server_list(self.url)
        if not servers:
            raise ValueError(f"{ENV_NATS_URL} holds no server URL: {redacted(self.url)!r}")
        self.broker = NatsBroker(
            servers,
            name=name,
            allow_reconnect=True,
            max_reconnect_attempts=-1,  # forever
            reconnect_time_wait=0.5,
            connect_timeout=2,
            drain_timeout=DRAIN_TIMEOUT,
            logger=None,
        )
        self.ready = asyncio.Event()

    async def run(self) -> None:
        """Connect and declare the streams, retrying (capped backoff) until it works."""
        delay = 0.2
        while True:
            try:
                await self.broker.connect()
                await declare_streams(self.jetstream)
                self.ready.set()
                logger.info("events: connected to %s", redacted(self.url))
                return
            except Exception as error:  # the server may just not be up yet
                logger.warning(
                    "events: broker %s not reachable (%s); retrying", redacted(self.url), error
                )
                await self._disconnect()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    @property
    def connected(self) -> bool:
        """Whether the connection is up right now."""
        if not self.ready.is_set():
            return False
        return bool(self.broker.connection.is_connected)

    @property
    def jetstream(self) -> JetStreamContext:
        """The nats-py JetStream context of FastStream's connection."""
        return self.broker.connection.jetstream()

    async def publish(
        self, body: bytes, subject: str, msg_id: str, stream: str = EVENTS_STREAM
    ) -> PubAck:
        """Publish to a stream and wait for its PubAck; JetStream drops a second message with
        the same `msg_id` within the duplicate window."""
        # While disconnected nats-py would buffer the message and send it after a
        # reconnect even though publish timed out here: refuse instead.
        if not self.connected:
            raise BrokerUnavailable(f"not connected to {redacted(self.url)}")
        try:
            ack = await self.broker.publish(
                body,
                subject,
                headers={"Nats-Msg-Id": msg_id},
                stream=stream,
                timeout=PUBLISH_TIMEOUT,
            )
        except NoStreamResponseError:
            # A server that lost its state (a fresh cluster) has no streams: declare them
            # again so the caller's retry succeeds.
            await declare_streams(self.jetstream)
            raise
        assert ack is not None, "publishing to a stream returns its PubAck"
        return ack

    async def close(self) -> None:
        """Close the connection: drain it for CLOSE_TIMEOUT seconds at most, then close it
        without draining if that did not finish (a flush unanswered, a drain cut short)."""
        try:
            client: Client | None = self.broker.connection
        except IncorrectState:  # never connected
            client = None
        await within(self._disconnect(), "events: draining the broker connection", CLOSE_TIMEOUT)
        if client is not None and not client.is_closed:
            await within(client.close(), "events: closing the broker connection", CLOSE_TIMEOUT)

    async def _disconnect(self) -> None:
        try:
            await self.broker.stop()
        except Exception as error:  # closing a half-open connection may fail; nothing to keep
            logger.debug("events: closing the broker connection: %s", error)


async def declare_streams(js: JetStreamContext) -> None:
    """Create the streams, or bring an existing one's settings up to date (idempotent)."""
    for config in STREAMS:
        try:
            await js.add_stream(config=config)
        except BadRequestError:  # exists with other settings
            current = (await js.stream_info(config.name or "")).config
            # Operators scale a production stream's replicas; keep theirs.
            await js.update_stream(config=replace(config, num_replicas=current.num_replicas))
