"""A minimal HTTP/1.1 keep-alive client on asyncio protocols — an experiment, not product code.

It answers one question from the router's profile: how much of the router's
CPU per request is the HTTP client (httpx/httpcore/anyio)? `bench.inprocess
--client minimal` swaps it in for the router's subgraph client and measures
again. It speaks only what the bench subgraphs answer (Content-Length bodies)
and has the same `request()` signature as router.executor.SubgraphClient.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[bytes] | None = None
        self.body_start = -1
        self.length = 0
        self.open = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.body_start < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.body_start = end + 4
            self.length = _content_length(bytes(self.buffer[:end]))
        if len(self.buffer) >= self.body_start + self.length and self.waiter is not None:
            body = bytes(self.buffer[self.body_start : self.body_start + self.length])
            del self.buffer[: self.body_start + self.length]
            self.body_start = -1
            waiter, self.waiter = self.waiter, None
            waiter.set_result(body)

    def send(self, payload: bytes) -> asyncio.Future[bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return self.waiter


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ConnectionError("response without Content-Length (not supported by this experiment)")


class MinimalSubgraphClient:
    def __init__(self, urls: Mapping[str, str]) -> None:
        self.urls = dict(urls)
        self.targets = {}
        for service, url in urls.items():
            parts = urlsplit(url)
            self.targets[service] = (parts.hostname or "127.0.0.1", parts.port or 80,
                                     (parts.path or "/").encode(), parts.netloc.encode())
        self.idle: dict[tuple[str, int], deque[_Connection]] = {}

    async def request(self, service: str, query: str, variables: Mapping[str, Any] | None,
                      operation_name: str | None = None,
                      headers: Mapping[str, str] | None = None,
                      **_options: Any) -> dict[str, Any]:
        # **_options: newer keywords of the router's client (e.g. idempotent=) are ignored.
        host, port, path, netloc = self.targets[service]
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        if operation_name:
            body["operationName"] = operation_name
        content = orjson.dumps(body)
        payload = (
            b"POST " + path + b" HTTP/1.1\r\nhost: " + netloc
            + b"\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(content)).encode() + b"\r\n\r\n" + content
        )
        pool = self.idle.setdefault((host, port), deque())
        while pool and not pool[-1].open:
            pool.pop()
        if pool:
            connection = pool.pop()
        else:
            _, connection = await asyncio.get_running_loop().create_connection(
                _Connection, host, port
            )
        answer = await connection.send(payload)
        pool.append(connection)
        return orjson.loads(answer)

    async def aclose(self) -> None:
        for pool in self.idle.values():
            for connection in pool:
                if connection.transport is not None:
                    connection.transport.close()
