"""A small HTTP/1.1 keep-alive server for the benchmark's subgraphs (asyncio + httptools).

The gateways are what the benchmark measures; on a 2-core machine the subgraphs share
the cores with them, so what a subgraph request costs is taken from the gateway being
measured (with two router workers, from the workers themselves). Under uvicorn and an
ASGI app a memoised subgraph answer still cost ~90 µs of CPU per request; here it is
the parse of the request, a dict lookup and one write.

    serve(handler, host, port)  # handler(method, path, body) -> (status, pieces)

Bounded like a benchmark fixture needs: a request body over MAX_BODY is answered 413 and
the connection closed; nothing else is exposed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import httptools

Handler = Callable[[bytes, bytes, bytes], tuple[int, Sequence[bytes]]]

MAX_BODY = 16 * 1024 * 1024
_HEAD = b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n"
_REASONS = {200: b"OK", 404: b"Not Found", 413: b"Payload Too Large", 400: b"Bad Request"}


class _Connection(asyncio.Protocol):
    """One client connection: requests parsed as they come, answered in order."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []
        self.size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._answer(400, (b"{}",), close=True)

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size <= MAX_BODY:
            self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        path = httptools.parse_url(self.url).path
        body = b"".join(self.body)
        too_big = self.size > MAX_BODY
        self.url, self.body, self.size = b"", [], 0
        if too_big:
            self._answer(413, (b"{}",), close=True)
            return
        status, pieces = self.handler(method, path, body)
        self._answer(status, pieces, close=not self.parser.should_keep_alive())

    def _answer(self, status: int, pieces: Sequence[bytes], close: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        length = sum(map(len, pieces))
        head = _HEAD % (
            status,
            _REASONS.get(status, b"OK"),
            length,
            b"connection: close\r\n" if close else b"",
        )
        if len(pieces) == 1 and length < 65536:
            transport.write(head + pieces[0])
        else:
            transport.writelines([head, *pieces])
        if close:
            transport.close()


def serve(handler: Handler, host: str, port: int) -> None:
    """Serve `handler` on host:port until the process is stopped (uvloop when there)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with the router's extras
        loop = asyncio.new_event_loop()
    else:
        loop = uvloop.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: _Connection(handler), host, port, backlog=4096)
    )
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()
