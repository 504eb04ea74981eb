"""A lean HTTP/1.1 keep-alive transport for httpx, for router -> subgraph traffic.

Subgraph calls are small JSON POSTs to a handful of origins, many per client
request; httpx's default transport (httpcore + anyio + h11) spends more CPU per
call than the router spends planning and shaping. This transport keeps httpx's
client API (timeouts, headers, errors) and replaces only the wire: asyncio
protocols, the httptools parser (C, from uvicorn's stack) and a per-origin pool
of idle connections. HTTPS goes to httpx's default transport.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httptools
import httpx

_DEFAULT_TIMEOUT = 30.0


class _Exchange:
    __slots__ = ("body", "complete", "headers", "keep_alive", "status")

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete: asyncio.Future[None] | None = None
        self.keep_alive = True


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; carries one request at a time."""

    def __init__(self, origin: tuple[str, str, int]) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.exchange: _Exchange | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.error: BaseException | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        exchange = self.exchange
        if exchange is not None and exchange.complete is not None and not exchange.complete.done():
            exchange.complete.set_exception(
                httpx.RemoteProtocolError("server closed the connection before responding")
                if exc is None
                else httpx.ReadError(str(exc))
            )

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # pragma: no cover - never asked for
            self._fail(httpx.RemoteProtocolError("unexpected protocol upgrade"))
        except httptools.HttpParserError as error:
            self._fail(httpx.RemoteProtocolError(f"invalid HTTP response: {error}"))

    def _fail(self, error: Exception) -> None:
        exchange = self.exchange
        if exchange is not None and exchange.complete is not None and not exchange.complete.done():
            exchange.complete.set_exception(error)
        self.close()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if self.exchange is not None:
            self.exchange.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.exchange is not None:
            self.exchange.status = self.parser.get_status_code()
            self.exchange.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        if self.exchange is not None:
            self.exchange.body.append(body)

    def on_message_complete(self) -> None:
        exchange = self.exchange
        if exchange is not None and exchange.complete is not None and not exchange.complete.done():
            exchange.complete.set_result(None)

    def send(self, payload: bytes) -> _Exchange:
        assert self.transport is not None
        exchange = _Exchange()
        exchange.complete = asyncio.get_running_loop().create_future()
        self.exchange = exchange
        self.transport.write(payload)
        return exchange

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _timeout(request: httpx.Request, kind: str) -> float | None:
    timeouts = request.extensions.get("timeout") or {}
    return timeouts.get(kind, _DEFAULT_TIMEOUT)


class RawResponse:
    """What `FastHTTPTransport.post` returns: just what a GraphQL client reads."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]], content: bytes):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def reason_phrase(self) -> str:
        return httpx.codes.get_reason_phrase(self.status_code)


class FastHTTPTransport(httpx.AsyncBaseTransport):
    def __init__(self, max_idle_per_origin: int = 64) -> None:
        self.max_idle = max_idle_per_origin
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._tls = httpx.AsyncHTTPTransport()
        self._targets: dict[str, tuple[tuple[str, str, int], bytes, bytes]] = {}

    async def _connect(
        self,
        origin: tuple[str, str, int],
        timeout: float | None,
        request: httpx.Request | None,
    ) -> _Connection:
        loop = asyncio.get_running_loop()
        if request is not None:
            timeout = _timeout(request, "connect")
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(origin), origin[1], origin[2]),
                timeout,
            )
        except TimeoutError as error:
            raise httpx.ConnectTimeout("timed out connecting", request=request) from error
        except OSError as error:
            raise httpx.ConnectError(str(error), request=request) from error
        return connection

    def _checkout(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        return None

    def _checkin(self, connection: _Connection) -> None:
        idle = self._idle.setdefault(connection.origin, deque())
        if len(idle) < self.max_idle:
            connection.exchange = None
            idle.append(connection)
        else:
            connection.close()

    @staticmethod
    def _serialize(request: httpx.Request, host: str) -> bytes:
        url = request.url
        target = url.raw_path
        lines = [request.method.encode(), b" ", target, b" HTTP/1.1\r\n"]
        has_host = False
        for name, value in request.headers.raw:
            if name.lower() == b"host":
                has_host = True
            lines += [name, b": ", value, b"\r\n"]
        if not has_host:
            lines += [b"host: ", host.encode(), b"\r\n"]
        lines.append(b"\r\n")
        lines.append(request.content)
        return b"".join(lines)

    def _target(self, url: str) -> tuple[tuple[str, str, int], bytes, bytes] | None:
        target = self._targets.get(url)
        if target is None:
            parsed = httpx.URL(url)
            if parsed.scheme != "http":
                return None
            origin = ("http", parsed.host, parsed.port or 80)
            target = (origin, parsed.raw_path, parsed.netloc)
            self._targets[url] = target
        return target

    async def post(
        self, url: str, content: bytes, headers: dict[str, str], timeout: float | None
    ) -> RawResponse | httpx.Response:
        """POST without building httpx Request/Response objects (the router's hot path).

        Raises the same httpx exceptions as going through an `httpx.AsyncClient`."""
        target = self._target(url)
        if target is None:  # https: the regular way
            request = httpx.Request("POST", url, content=content, headers=headers)
            request.extensions["timeout"] = {"connect": timeout, "read": timeout}
            response = await self._tls.handle_async_request(request)
            await response.aread()
            return response
        origin, path, host = target
        head = [b"POST ", path, b" HTTP/1.1\r\nhost: ", host, b"\r\ncontent-length: "]
        head.append(str(len(content)).encode())
        head.append(b"\r\n")
        for name, value in headers.items():
            head += [name.encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n"]
        head.append(b"\r\n")
        head.append(content)
        exchange = await self._exchange(origin, b"".join(head), timeout, None)
        return RawResponse(exchange.status, exchange.headers, b"".join(exchange.body))

    async def _exchange(
        self,
        origin: tuple[str, str, int],
        payload: bytes,
        read_timeout: float | None,
        request: httpx.Request | None,
    ) -> _Exchange:
        for attempt in range(2):
            connection = self._checkout(origin)
            reused = connection is not None
            if connection is None:
                connection = await self._connect(origin, read_timeout, request)
            exchange = connection.send(payload)
            assert exchange.complete is not None
            try:
                await asyncio.wait_for(exchange.complete, read_timeout)
            except TimeoutError as error:
                connection.close()
                raise httpx.ReadTimeout(
                    "timed out waiting for the response", request=request
                ) from error
            except (httpx.RemoteProtocolError, httpx.ReadError):
                connection.close()
                # an idle keep-alive connection the server had already closed: retry once
                if reused and attempt == 0 and exchange.status == 0:
                    continue
                raise
            except asyncio.CancelledError:
                connection.close()
                raise
            if exchange.keep_alive and not connection.closed:
                self._checkin(connection)
            else:
                connection.close()
            return exchange
        raise httpx.RemoteProtocolError("connection closed", request=request)  # pragma: no cover

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            return await self._tls.handle_async_request(request)
        port = url.port or 80
        origin = ("http", url.host, port)
        if isinstance(request.stream, httpx.AsyncByteStream) and not hasattr(request, "_content"):
            await request.aread()
        payload = self._serialize(request, url.netloc.decode("ascii"))
        exchange = await self._exchange(origin, payload, _timeout(request, "read"), request)
        return httpx.Response(
            exchange.status,
            headers=exchange.headers,
            content=b"".join(exchange.body),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
        await self._tls.aclose()


def new_http_client(timeout: float = 30.0) -> httpx.AsyncClient:
    """The pooled keep-alive httpx client the router uses for subgraph calls."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout), transport=FastHTTPTransport())
