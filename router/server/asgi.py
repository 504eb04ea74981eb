"""Small ASGI helpers the router's streaming responses share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


async def disconnected(receive: Receive) -> None:
    """Return once the client has gone away (the request body was read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass
