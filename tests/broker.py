"""Test helpers for the events layer: a real nats-server on free ports, and polling."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from subgraphs.common.events.server import NatsServer

T = TypeVar("T")


def free_port() -> int:
    """A TCP port nothing listens on right now (127.0.0.1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_nats(folder: Path) -> NatsServer:
    """A nats-server with JetStream, its data in `folder`/nats, on free ports."""
    return NatsServer.start(Path(folder) / "nats", free_port(), free_port())


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 15.0) -> T:
    """Poll `check` until it returns a truthy value (returned); AssertionError with the last
    value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        await asyncio.sleep(0.05)
