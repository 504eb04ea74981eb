"""A lean HTTP/1.1 keep-alive transport for httpx, for router -> subgraph traffic.

Subgraph calls are small JSON POSTs to a handful of origins, many per client
request; httpx's default transport (httpcore + anyio + h11) spends more CPU per
call than the router spends planning and shaping. This transport keeps httpx's
client API (timeouts, headers, errors) and replaces only the wire: asyncio
protocols, the httptools parser (C, from uvicorn's stack) and a per-origin pool
of idle connections. HTTPS goes to httpx's default transport.

What one subgraph can cost the router is bounded: at most `max_connections`
requests in flight per origin (others wait, and the wait counts against their
timeout), one deadline for the whole exchange (so a body that trickles times
out), and at most `max_response_bytes` of response body (64 KiB of headers),
before and after decoding a gzip or deflate `content-encoding` (other codings are
refused: a few KB of compressed data can claim gigabytes). No header with an
invalid name or a value holding CR, LF, NUL or characters outside latin-1 is ever
written: `InvalidHeader` is raised instead, before anything is sent.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import httptools
import httpx

from router.http_fields import header_problem

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
# a status line and headers longer than this are not a GraphQL server's answer
MAX_HEAD_BYTES = 64 * 1024

Origin = tuple[str, str, int]


class InvalidHeader(httpx.LocalProtocolError):
    """A header that must not be written; `name` is safe to log, the value never is."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"header {name!r} refused: {reason}")
        self.name = name
        self.reason = reason


class ResponseTooLarge(httpx.TransportError):
    """The subgraph's response exceeded the transport's size bound (`part`: head or body)."""

    def __init__(self, part: str, limit: int) -> None:
        super().__init__(f"response {part} larger than {limit} bytes")
        self.part = part
        self.limit = limit


def encode_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Headers as bytes for the wire; raises InvalidHeader instead of writing a bad one."""
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        problem = header_problem(name, value)
        if problem is not None:
            raise InvalidHeader(name, problem)
        out.append((name.encode("ascii"), value.encode("latin-1")))
    return out


# a streamed body: the socket stops being read while this much is received and unread
STREAM_HIGH_WATER = 1024 * 1024
STREAM_LOW_WATER = 256 * 1024
STREAM_PIECE = 16 * 1024  # the most `BodyStream.read` returns at once


class _Exchange:
    __slots__ = (
        "body",
        "complete",
        "encoding",
        "head",
        "headers",
        "keep_alive",
        "limit",
        "pending",
        "size",
        "status",
        "wake",
    )

    def __init__(self, limit: int) -> None:
        # streamed exchanges only: the head's arrival, and the reader waiting for body
        self.head: asyncio.Future[None] | None = None
        self.wake: asyncio.Future[None] | None = None
        self.pending = 0  # streamed bytes received and not yet read
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete: asyncio.Future[None] | None = None
        self.keep_alive = True
        self.limit = limit
        self.size = 0  # bytes received: the head until it completes, then the body
        self.encoding: bytes | None = None  # the response's content-encoding, if any

    def content(self) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """The response's headers and body, the body decoded within the size bound."""
        return _decoded(self.headers, b"".join(self.body), self.encoding, self.limit)

    @property
    def open(self) -> bool:
        """Whether the exchange still waits for (the rest of) its response."""
        return self.complete is not None and not self.complete.done()

    def notify(self) -> None:
        """Wake a streamed exchange's waiters: its head (failed or arrived) or body reader."""
        head = self.head
        if head is not None and not head.done():
            complete = self.complete
            error = complete.exception() if complete is not None and complete.done() else None
            if error is not None:
                head.set_exception(error)
            elif self.status:
                head.set_result(None)
        wake = self.wake
        if wake is not None and not wake.done():
            wake.set_result(None)


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; carries one request at a time."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.exchange: _Exchange | None = None
        self.parser = httptools.HttpResponseParser(self)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the socket's transport."""
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        """Fail the exchange waiting on this connection, if any."""
        self.closed = True
        exchange = self.exchange
        if exchange is not None and exchange.open:
            assert exchange.complete is not None
            exchange.complete.set_exception(
                httpx.RemoteProtocolError("server closed the connection before responding")
                if exc is None
                else httpx.ReadError(str(exc))
            )
            exchange.notify()

    def data_received(self, data: bytes) -> None:
        """Feed the parser; bytes on an idle connection close it."""
        exchange = self.exchange
        if exchange is None:  # bytes on an idle connection: nothing sane can follow
            self.close()
            return
        if exchange.status == 0:
            exchange.size += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # pragma: no cover - never asked for
            self._fail(httpx.RemoteProtocolError("unexpected protocol upgrade"))
        except httptools.HttpParserError as error:
            self._fail(httpx.RemoteProtocolError(f"invalid HTTP response: {error}"))
        else:
            # still no end of the head after this many bytes: a header that never ends
            if exchange.status == 0 and exchange.size > MAX_HEAD_BYTES:
                self._fail(ResponseTooLarge("head", MAX_HEAD_BYTES))

    def _fail(self, error: Exception) -> None:
        exchange = self.exchange
        if exchange is not None and exchange.open:
            assert exchange.complete is not None
            exchange.complete.set_exception(error)
            exchange.notify()
        self.close()

    # httptools callbacks (they must not raise: failures go through _fail)
    def on_header(self, name: bytes, value: bytes) -> None:
        """Keep a response header; refuse a declared length over the bound."""
        exchange = self.exchange
        if exchange is not None and exchange.open:
            exchange.headers.append((name, value))
            lowered = name.lower()
            # a declared length over the bound is refused before a byte of the body is read
            if lowered == b"content-length" and _declared(value) > exchange.limit:
                self._fail(_too_large(exchange.limit))
            elif lowered == b"content-encoding":  # repeated lines list codings in order
                previous = exchange.encoding
                exchange.encoding = value if previous is None else previous + b"," + value

    def on_headers_complete(self) -> None:
        """The head is complete: from here the body is counted."""
        exchange = self.exchange
        if exchange is not None and exchange.open:
            exchange.status = self.parser.get_status_code()
            exchange.keep_alive = self.parser.should_keep_alive()
            exchange.size = 0
            if exchange.head is not None:
                exchange.notify()

    def on_body(self, body: bytes) -> None:
        """Keep a piece of the body, within the size bound."""
        exchange = self.exchange
        if exchange is not None and exchange.open:
            exchange.size += len(body)
            if exchange.size > exchange.limit:
                exchange.body.clear()
                self._fail(_too_large(exchange.limit))
                return
            exchange.body.append(body)
            if exchange.head is not None:  # streamed: the reader takes it from here
                exchange.pending += len(body)
                if exchange.pending > STREAM_HIGH_WATER and self.transport is not None:
                    self.transport.pause_reading()
                exchange.notify()

    def on_message_complete(self) -> None:
        """The response is complete: wake the exchange."""
        exchange = self.exchange
        if exchange is not None and exchange.open:
            assert exchange.complete is not None
            exchange.complete.set_result(None)
            exchange.notify()

    def send(self, payload: bytes, limit: int, streamed: bool = False) -> _Exchange:
        """Write a serialized request and return the exchange awaiting its response
        (`streamed`: its head is awaited apart, and its body read as it comes)."""
        assert self.transport is not None
        exchange = _Exchange(limit)
        loop = asyncio.get_running_loop()
        exchange.complete = loop.create_future()
        if streamed:
            exchange.head = loop.create_future()
            exchange.head.add_done_callback(_retrieve)
            exchange.complete.add_done_callback(_retrieve)
        self.exchange = exchange
        self.transport.write(payload)
        return exchange

    def close(self) -> None:
        """Close the socket; the connection is not reused."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _retrieve(future: asyncio.Future[None]) -> None:
    """Mark a streamed exchange's failure as seen (its reader may be gone already)."""
    if not future.cancelled():
        future.exception()


def _declared(value: bytes) -> int:
    """A content-length header's number (0 when it is not one: the parser rejects it)."""
    value = value.strip()
    return int(value) if value.isdigit() else 0


def _too_large(limit: int) -> ResponseTooLarge:
    return ResponseTooLarge("body", limit)


# Codings that can be decoded within a bound (zlib stops at a given output size);
# the value is zlib's wbits: gzip framing, or zlib framing (raw deflate tried next).
_CODINGS = {
    b"gzip": 16 + zlib.MAX_WBITS,
    b"x-gzip": 16 + zlib.MAX_WBITS,
    b"deflate": zlib.MAX_WBITS,
}
_RECODED = (b"content-encoding", b"content-length")


def _decoded(
    headers: list[tuple[bytes, bytes]], body: bytes, encoding: bytes | None, limit: int
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """`body` decoded from `encoding` (the content-encoding header) with at most `limit`
    bytes of output per step, and the headers without that coding; ResponseTooLarge past
    the bound, httpx.DecodingError for a coding that cannot be bounded or bad data."""
    if encoding is None:
        return headers, body
    codings = [c.strip().lower() for c in encoding.split(b",")]
    for coding in reversed(codings):  # the last coding applied is undone first
        if coding in (b"", b"identity"):
            continue
        wbits = _CODINGS.get(coding)
        if wbits is None:
            raise httpx.DecodingError(
                f"response content-encoding {coding.decode('latin-1')!r} is not supported"
            )
        body = _inflate(body, wbits, limit)
    return [(k, v) for k, v in headers if k.lower() not in _RECODED], body


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    try:
        try:
            inflater = zlib.decompressobj(wbits)
            out = inflater.decompress(data, limit + 1)
        except zlib.error:
            if wbits != zlib.MAX_WBITS:
                raise
            # "deflate" sent without its zlib header, as some servers do
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = inflater.decompress(data, limit + 1)
        if len(out) <= limit:
            out += inflater.flush()  # input is all consumed: at most a window is left
    except zlib.error as error:
        raise httpx.DecodingError(f"response body could not be decoded: {error}") from None
    if len(out) > limit:
        raise ResponseTooLarge("body (decoded)", limit)
    return out


class _Pool:
    """One origin's idle connections and the requests in flight to it."""

    __slots__ = ("busy", "idle", "waiters")

    def __init__(self) -> None:
        self.idle: deque[_Connection] = deque()
        self.busy = 0  # requests holding a slot (each uses at most one connection)
        self.waiters: deque[asyncio.Future[None]] = deque()


class _Deadline:
    """Which step of an exchange was running when its deadline passed."""

    __slots__ = ("step",)

    def __init__(self) -> None:
        self.step = "pool"

    async def trace(self, event: str, info: dict[str, object]) -> None:
        """httpcore's `trace` extension: once the request's head is being written the
        connection (TLS handshake included) is made, and what is left is the exchange."""
        if event.endswith("send_request_headers.started"):
            self.step = "read"

    def error(self, request: httpx.Request | None) -> httpx.TimeoutException:
        """The timeout exception for the step the deadline interrupted."""
        if self.step == "pool":
            return httpx.PoolTimeout(
                "timed out waiting for a free connection to the subgraph", request=request
            )
        if self.step == "connect":
            return httpx.ConnectTimeout("timed out connecting", request=request)
        return httpx.ReadTimeout("timed out waiting for the response", request=request)


def _timeout(request: httpx.Request) -> float | None:
    timeouts = request.extensions.get("timeout") or {}
    return timeouts.get("read", DEFAULT_TIMEOUT)


class RawResponse:
    """What `FastHTTPTransport.post` returns: just what a GraphQL client reads."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]], content: bytes):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def reason_phrase(self) -> str:
        """The standard reason phrase of the status code."""
        return httpx.codes.get_reason_phrase(self.status_code)


class BodyStream:
    """A response whose body is read as it arrives (`FastHTTPTransport.open_stream`).

    It holds a connection and one of its origin's slots until `aclose`; the socket is
    not read while more than STREAM_HIGH_WATER bytes wait unread, and the whole
    exchange stays within the deadline it was opened with. A body with a
    content-encoding is received whole and decoded within the size bound first."""

    def __init__(
        self,
        exchange: _Exchange,
        connection: _Connection | None,
        release: Callable[[_Connection | None, bool], None],
        deadline: float | None,
    ) -> None:
        self.status_code = exchange.status
        self.headers = exchange.headers
        self._exchange = exchange
        self._connection = connection
        self._release = release
        self._deadline = deadline
        self._closed = False
        self._offset = 0  # bytes of the first received chunk already read

    @property
    def reason_phrase(self) -> str:
        """The standard reason phrase of the status code."""
        return httpx.codes.get_reason_phrase(self.status_code)

    async def read(self) -> bytes:
        """The next piece of the body; b"" at its end. Raises the httpx errors of a
        buffered exchange (ReadTimeout past the deadline, ResponseTooLarge, ...)."""
        exchange = self._exchange
        if exchange.encoding is not None and not self._closed:
            await self._until_complete()  # then read from the decoded body, piece by piece
            _, body = exchange.content()
            exchange.body[:] = [body] if body else []
            exchange.encoding = None
            self._offset = 0
        while True:
            if exchange.body:
                return self._take(exchange)
            if self._closed:
                return b""
            complete = exchange.complete
            assert complete is not None
            if complete.done():
                complete.result()  # raises the exchange's failure, if it failed
                self._done()
                return b""
            await self._wait()

    def _take(self, exchange: _Exchange) -> bytes:
        """At most STREAM_PIECE bytes from the front of what was received: whoever reads
        a piece works on it at once, so a piece is a bounded amount of work."""
        body = exchange.body
        first = body[0]
        start = self._offset
        if len(first) - start > STREAM_PIECE:
            piece = first[start : start + STREAM_PIECE]
            self._offset = start + STREAM_PIECE
        else:
            piece = first[start:] if start else first
            body.pop(0)
            self._offset = 0
        exchange.pending -= len(piece)
        if exchange.pending < STREAM_LOW_WATER:
            self._drained()
        return piece

    def _drained(self) -> None:
        connection = self._connection
        if connection is not None and connection.transport is not None and not connection.closed:
            connection.transport.resume_reading()

    async def _wait(self) -> None:
        exchange = self._exchange
        exchange.wake = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout_at(self._deadline):
                await exchange.wake
        except TimeoutError as error:
            await self.aclose()
            raise httpx.ReadTimeout("timed out waiting for the response") from error

    async def _until_complete(self) -> None:
        complete = self._exchange.complete
        assert complete is not None
        while not complete.done():
            self._drained()
            await self._wait()
        complete.result()

    def _done(self) -> None:
        """The body was read to its end: the connection goes back to the pool."""
        if not self._closed:
            self._closed = True
            self._release(self._connection, True)

    async def aclose(self) -> None:
        """Give back the slot; the connection is closed unless the body was read whole."""
        if not self._closed:
            self._closed = True
            self._release(self._connection, False)


class FastHTTPTransport(httpx.AsyncBaseTransport):
    """httpx transport: plain HTTP on our own pool, HTTPS through httpx's own."""

    def __init__(
        self,
        max_idle_per_origin: int = 64,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.max_idle = max_idle_per_origin
        self.max_connections = max_connections
        self.max_response_bytes = max_response_bytes
        self._pools: dict[Origin, _Pool] = {}
        # HTTPS: the system's usual trust store unless given a context (a private CA)
        self._tls = httpx.AsyncHTTPTransport(verify=ssl_context or True)
        self._targets: dict[str, tuple[Origin, bytes, bytes]] = {}

    def _pool(self, origin: Origin) -> _Pool:
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = _Pool()
        return pool

    async def _acquire(self, pool: _Pool) -> None:
        waiters = pool.waiters
        while waiters and waiters[0].done():  # cancelled, its task not yet resumed
            waiters.popleft()
        if pool.busy < self.max_connections and not waiters:
            pool.busy += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters.append(waiter)
        try:
            await waiter  # _release hands its slot over: `busy` already counts us
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._release(pool)  # granted, then cancelled: pass the slot on
            elif waiter in waiters:
                waiters.remove(waiter)
            raise

    def _release(self, pool: _Pool) -> None:
        while pool.waiters and pool.busy <= self.max_connections:
            waiter = pool.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        pool.busy -= 1

    async def _connect(self, origin: Origin, request: httpx.Request | None) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(origin), origin[1], origin[2]
            )
        except OSError as error:
            raise httpx.ConnectError(str(error), request=request) from error
        return connection

    def _checkout(self, pool: _Pool) -> _Connection | None:
        idle = pool.idle
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        return None

    def _checkin(self, pool: _Pool, connection: _Connection) -> None:
        # kept beyond max_idle while requests queue for a slot: one of them reuses it
        # (closing it would make that request open a new socket at once)
        if len(pool.idle) < min(self.max_idle, self.max_connections) or pool.waiters:
            connection.exchange = None
            pool.idle.append(connection)
        else:
            connection.close()

    def _target(self, url: str) -> tuple[Origin, bytes, bytes]:
        target = self._targets.get(url)
        if target is None:
            parsed = httpx.URL(url)
            default_port = 443 if parsed.scheme == "https" else 80
            origin = (parsed.scheme, parsed.host, parsed.port or default_port)
            target = (origin, parsed.raw_path, parsed.netloc)
            self._targets[url] = target
        return target

    async def post(
        self, url: str, content: bytes, headers: Mapping[str, str], timeout: float | None
    ) -> RawResponse | httpx.Response:
        """POST without building httpx Request/Response objects (the router's hot path).

        Raises the same httpx exceptions as going through an `httpx.AsyncClient`;
        `timeout` bounds the whole exchange, waiting for a free connection included."""
        encoded = encode_headers(headers.items())
        origin, path, host = self._target(url)
        if origin[0] != "http":  # https: the regular way
            request = httpx.Request("POST", url, content=content, headers=encoded)
            request.extensions["timeout"] = {"connect": timeout, "read": timeout}
            return await self._via_tls(origin, request, timeout)
        head = [b"POST ", path, b" HTTP/1.1\r\nhost: ", host, b"\r\ncontent-length: "]
        head.append(str(len(content)).encode())
        head.append(b"\r\n")
        for name, value in encoded:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        head.append(content)
        exchange = await self._exchange(origin, b"".join(head), timeout, None)
        headers, body = exchange.content()
        return RawResponse(exchange.status, headers, body)

    async def open_stream(
        self, url: str, content: bytes, headers: Mapping[str, str], timeout: float | None
    ) -> BodyStream:
        """POST, and return once the response's head has come: its body is then read
        with `BodyStream.read`, all of it within `timeout` of this call (the wait for a
        free connection included). HTTPS answers are read whole first (one chunk)."""
        encoded = encode_headers(headers.items())
        origin, path, host = self._target(url)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        if origin[0] != "http":
            response = await self.post(url, content, headers, timeout)
            return _buffered_stream(response)
        head = [b"POST ", path, b" HTTP/1.1\r\nhost: ", host, b"\r\ncontent-length: "]
        head += [str(len(content)).encode(), b"\r\n"]
        for name, value in encoded:
            head += [name, b": ", value, b"\r\n"]
        head += [b"\r\n", content]
        pool = self._pool(origin)
        step = _Deadline()
        try:
            async with asyncio.timeout_at(deadline):
                await self._acquire(pool)
                try:
                    exchange, connection = await self._open(pool, origin, b"".join(head), step)
                except BaseException:
                    self._release(pool)
                    raise
        except TimeoutError as error:
            raise step.error(None) from error

        def release(connection: _Connection | None, whole: bool) -> None:
            """The stream's end: the connection pooled when its body was read whole."""
            if connection is not None:
                if whole and exchange.keep_alive and not connection.closed:
                    self._checkin(pool, connection)
                else:
                    connection.close()
            self._release(pool)

        return BodyStream(exchange, connection, release, deadline)

    async def _open(
        self, pool: _Pool, origin: Origin, payload: bytes, deadline: _Deadline
    ) -> tuple[_Exchange, _Connection]:
        """`_roundtrip` until the response's head: the exchange and its connection."""
        for attempt in range(2):
            connection = self._checkout(pool)
            reused = connection is not None
            if connection is None:
                deadline.step = "connect"
                connection = await self._connect(origin, None)
            deadline.step = "read"
            exchange = connection.send(payload, self.max_response_bytes, streamed=True)
            assert exchange.head is not None
            try:
                await exchange.head
            except (httpx.RemoteProtocolError, httpx.ReadError):
                connection.close()
                if reused and attempt == 0 and exchange.status == 0:
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            return exchange, connection
        raise httpx.RemoteProtocolError("connection closed")  # pragma: no cover

    async def _exchange(
        self,
        origin: Origin,
        payload: bytes,
        timeout: float | None,
        request: httpx.Request | None,
    ) -> _Exchange:
        """One request on a pooled connection, holding one of the origin's slots, all of
        it (the wait for a slot included) within `timeout`."""
        pool = self._pool(origin)
        deadline = _Deadline()
        try:
            async with asyncio.timeout(timeout):
                await self._acquire(pool)
                try:
                    return await self._roundtrip(pool, origin, payload, request, deadline)
                finally:
                    self._release(pool)
        except TimeoutError as error:
            raise deadline.error(request) from error

    async def _roundtrip(
        self,
        pool: _Pool,
        origin: Origin,
        payload: bytes,
        request: httpx.Request | None,
        deadline: _Deadline,
    ) -> _Exchange:
        limit = self.max_response_bytes
        for attempt in range(2):
            connection = self._checkout(pool)
            reused = connection is not None
            if connection is None:
                deadline.step = "connect"
                connection = await self._connect(origin, request)
            deadline.step = "read"
            exchange = connection.send(payload, limit)
            assert exchange.complete is not None
            try:
                await exchange.complete
            except (httpx.RemoteProtocolError, httpx.ReadError):
                connection.close()
                # an idle keep-alive connection the server had already closed: retry once
                if reused and attempt == 0 and exchange.status == 0:
                    continue
                raise
            except BaseException:  # timed out, cancelled, too large: the socket is spent
                connection.close()
                raise
            if exchange.keep_alive and not connection.closed:
                self._checkin(pool, connection)
            else:
                connection.close()
            return exchange
        raise httpx.RemoteProtocolError("connection closed", request=request)  # pragma: no cover

    async def _via_tls(
        self, origin: Origin, request: httpx.Request, timeout: float | None
    ) -> httpx.Response:
        """An HTTPS request through httpx's transport, under the same slots and bounds."""
        pool = self._pool(origin)
        deadline = _Deadline()
        request.extensions["trace"] = deadline.trace
        limit = self.max_response_bytes
        try:
            async with asyncio.timeout(timeout):
                await self._acquire(pool)
                try:
                    deadline.step = "connect"  # until httpcore starts writing the request
                    response = await self._tls.handle_async_request(request)
                    try:
                        raw = await _read_bounded(response, limit)
                    finally:
                        await response.aclose()
                finally:
                    self._release(pool)
        except TimeoutError as error:
            raise deadline.error(request) from error
        encoding = response.headers.get("content-encoding")
        headers, content = _decoded(
            response.headers.raw, raw, encoding and encoding.encode("latin-1"), limit
        )
        # decoded here, within the bound: httpx must not decode it again
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=content,
            extensions=response.extensions,
            request=request,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """httpx's transport entry point (used by `httpx.AsyncClient`)."""
        url = request.url
        timeout = _timeout(request)
        encode_headers(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
        )
        if url.scheme != "http":
            return await self._via_tls((url.scheme, url.host, url.port or 443), request, timeout)
        origin = ("http", url.host, url.port or 80)
        if isinstance(request.stream, httpx.AsyncByteStream):
            await request.aread()  # the body, read once (a request already read keeps it)
        payload = _serialize(request, url.netloc.decode("ascii"))
        exchange = await self._exchange(origin, payload, timeout, request)
        headers, content = exchange.content()
        return httpx.Response(
            exchange.status,
            headers=headers,
            content=content,
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    async def aclose(self) -> None:
        """Close the idle connections and the HTTPS transport."""
        for pool in self._pools.values():
            for connection in pool.idle:
                connection.close()
            pool.idle.clear()
        await self._tls.aclose()


def _buffered_stream(response: RawResponse | httpx.Response) -> BodyStream:
    """A response already read whole, as a BodyStream of one chunk."""
    exchange = _Exchange(len(response.content))
    exchange.status = response.status_code
    exchange.headers = list(response.headers.raw if isinstance(response, httpx.Response)
                            else response.headers)
    exchange.body.append(response.content)
    exchange.complete = asyncio.get_running_loop().create_future()
    exchange.complete.set_result(None)
    return BodyStream(exchange, None, lambda connection, whole: None, None)


def _serialize(request: httpx.Request, host: str) -> bytes:
    lines = [request.method.encode(), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
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


async def _read_bounded(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class SubgraphHttp:
    """An httpx client for subgraph calls and, when it is the router's own pooled one,
    the lean transport under it (whose `post` skips httpx's request/response objects).
    A caller's plain httpx client has no `transport` here: it is used as it is."""

    client: httpx.AsyncClient
    transport: FastHTTPTransport | None = None

    @classmethod
    def pooled(
        cls,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> SubgraphHttp:
        """The router's keep-alive client over a new `FastHTTPTransport` with these bounds."""
        transport = FastHTTPTransport(
            max_connections=max_connections, max_response_bytes=max_response_bytes
        )
        client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), transport=transport)
        return cls(client, transport)

    async def aclose(self) -> None:
        """Close the client (and with it the transport and its idle connections)."""
        await self.client.aclose()
