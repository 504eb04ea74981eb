"""Test helpers for the events layer: a real nats-server on free ports, and polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from subgraphs.common.events.server import NatsServer
from tests.server.dev_stack import free_ports

T = TypeVar("T")


def free_port() -> int:
    """A TCP port nothing listens on right now (127.0.0.1)."""
    return free_ports(1)[0]


def start_nats(folder: Path) -> NatsServer:
    """A nats-server with JetStream, its data in `folder`/nats, on two distinct free ports."""
    port, monitor = free_ports(2)
    return NatsServer.start(Path(folder) / "nats", port, monitor)


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
