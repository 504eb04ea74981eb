"""Sending a response assembled around spooled lists (router/executor/stream.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from router.executor.stream import StreamedResponse

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def send_streamed(
    send: Send,
    status: int,
    response: StreamedResponse,
    media: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send `response` with its length (known once it is assembled), a piece at a time,
    yielding to the event loop between pieces so other requests are served; the
    spools are dropped at the end, whether the client took it all or went away."""
    headers = [
        (b"content-type", f"{media}; charset=utf-8".encode()),
        (b"content-length", str(response.size).encode()),
    ]
    if extra:
        headers.extend(extra)
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for piece in response.pieces():
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b""})
    finally:
        response.close()
