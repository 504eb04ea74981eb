"""The HTTP/1.1 server under the router: uvicorn's httptools protocol, bounded.

uvicorn bounds neither the size of a request head nor the time a client may
take to send it or its body, nor the number of connections it keeps open. So
one client could make the router spend quadratic CPU on a single huge header
(httptools grows a header value by concatenating each read onto it), hold
sockets with half-sent requests for ever, or open connections until the
process runs out of file descriptors. `BoundedHttpToolsProtocol` adds:

- a cap on the request head (request line and headers): past it, 431;
- a deadline for the head and one for the body: past them, 408;
- a cap on open connections: one more is answered 503 and closed at once.

A WebSocket upgrade (graphql-transport-ws on /graphql) is parsed here like any request
(bounded head) and handed to uvicorn's WebSocket protocol, which counts in the same cap.

Rejections are the router's JSON errors with `extensions.code`, and close the
connection. A request within the bounds costs about a microsecond more: a
deadline is a timer only for a new connection and for a request that does not
arrive in one read.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from router.config import ServerConfig
from router.errors import coded_error

log = logging.getLogger("shopgraph.router.server")

# descriptors kept free for the process itself: logs, the event loop, the listening
# socket, DNS, the supergraph file (subgraph connections are counted separately)
SPARE_FILES = 64
_REFUSAL_LOG_INTERVAL = 10.0  # seconds between two warnings about refused connections


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing an oversized head."""


def _error_response(
    status: int, code: str, message: str, default_headers: list[tuple[bytes, bytes]]
) -> bytes:
    body = orjson.dumps({"errors": [coded_error(message, code)]})
    lines = [STATUS_LINE[status]]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines += [
        b"content-type: application/json; charset=utf-8\r\n",
        b"content-length: %d\r\n" % len(body),
        b"connection: close\r\n\r\n",
        body,
    ]
    return b"".join(lines)


class _RefusalLog:
    """Warn about connections refused at the cap, at most once per interval (an attack
    would otherwise write a line per connection)."""

    def __init__(self) -> None:
        self.refused = 0
        self.last = float("-inf")

    def note(self, cap: int) -> None:
        """Count one refused connection; log the count when the interval has passed."""
        self.refused += 1
        now = time.monotonic()
        if now - self.last >= _REFUSAL_LOG_INTERVAL:
            log.warning(
                "connection cap reached: %d connection(s) refused (server.max_connections=%d)",
                self.refused,
                cap,
            )
            self.refused = 0
            self.last = now


_refusals = _RefusalLog()


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a head size cap, head and body deadlines and
    a connection cap (`limits`: the `server` section of router.yaml, its
    max_connections as `connection_cap` allows)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ServerConfig,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self._max_head = limits.max_head_bytes
        self._in_head = False  # a request's first byte arrived, its headers did not yet
        self._in_body = False  # its headers arrived, the end of its body did not yet
        # two lower bounds of the head's size: what the parser handed over (request
        # target, complete headers) and whole reads that fell inside the head (a
        # header value still growing, which the parser only hands over when complete)
        self._head_parsed = 0
        self._head_reads = 0
        self._head_too_large = False
        self._requests_begun = 0
        self._deadline: asyncio.TimerHandle | None = None
        self._closed_by_us = False

    # -- connection ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Refuse the connection past the cap (503); else start the head deadline."""
        if len(self.connections) >= self.limits.max_connections:
            # refused before it holds anything but a moment of a file descriptor
            self.transport = transport
            self._closed_by_us = True
            _refusals.note(self.limits.max_connections)
            message = "The router has too many open connections; retry shortly."
            transport.write(
                _error_response(
                    503, "SERVER_BUSY", message, [*self.server_state.default_headers,
                                                  (b"retry-after", b"1")]
                )
            )
            transport.close()
            return
        super().connection_made(transport)
        # the first request's head is due within head_timeout of connecting
        self._arm(self._head_timed_out, self.limits.head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        """Cancel the connection's deadline."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser, bounding the head's size and arming its deadlines."""
        if self._closed_by_us:
            return
        continuing = self._in_head
        begun = self._requests_begun
        HttpToolsProtocol.data_received(self, data)
        if self._closed_by_us:
            return
        if continuing and self._in_head and begun == self._requests_begun:
            # the same head before and after: the whole read was head
            self._head_reads += len(data)
            if self._head_reads > self._max_head:
                self._reject_large_head()
                return
        # a request that came in one read needs no timer (the common case)
        if self._deadline is None and (self._in_head or self._in_body):
            if self.transport.is_closing():
                return
            if self._in_head:
                self._arm(self._head_timed_out, self.limits.head_timeout)
            else:
                self._arm(self._body_timed_out, self.limits.body_timeout)

    def handle_websocket_upgrade(self) -> None:
        """The request upgrades to a WebSocket (graphql-transport-ws): uvicorn's WebSocket
        protocol takes the connection over, counted in the same connection cap; the head
        was bounded here, and this protocol's deadlines end."""
        self._disarm()
        self._closed_by_us = True  # nothing more for this protocol to do on it
        super().handle_websocket_upgrade()

    def send_400_response(self, msg: str) -> None:
        """The parser refused the head: 431 when it grew too large, else 400."""
        # a parser callback stopped the parser because the head grew too large
        if self._head_too_large:
            self._reject_large_head()
        else:
            super().send_400_response(msg)

    # -- parser callbacks ---------------------------------------------------------------

    # (the base class is called directly: these run for every request)

    def on_message_begin(self) -> None:
        """A request's head starts: its size is counted from here."""
        HttpToolsProtocol.on_message_begin(self)
        self._in_head = True
        self._requests_begun += 1
        self._head_parsed = self._head_reads = 0

    def on_url(self, url: bytes) -> None:
        """Count the request target into the head's size."""
        self._head_parsed += len(url)
        if self._head_parsed > self._max_head:
            self._stop_large_head()
        HttpToolsProtocol.on_url(self, url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count one header line into the head's size."""
        self._head_parsed += len(name) + len(value) + 4  # ": " and CRLF
        if self._head_parsed > self._max_head:
            self._stop_large_head()
        HttpToolsProtocol.on_header(self, name, value)

    def on_headers_complete(self) -> None:
        """The head is complete: the body's deadline may start."""
        self._in_head = False
        self._in_body = True
        if self._deadline is not None:
            self._disarm()
        HttpToolsProtocol.on_headers_complete(self)

    def on_message_complete(self) -> None:
        """The request is complete: no deadline runs until the next one."""
        self._in_body = False
        if self._deadline is not None:
            self._disarm()
        HttpToolsProtocol.on_message_complete(self)

    def _stop_large_head(self) -> None:
        self._head_too_large = True
        raise _HeadTooLarge  # the parser stops; send_400_response answers 431

    # -- deadlines ----------------------------------------------------------------------

    def _arm(self, handler: Any, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, handler)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # still answering an earlier request: end the connection after it
            cycle.keep_alive = False
            return
        if not self._in_head:  # never sent a byte: nobody to answer
            self.transport.close()
            return
        seconds = self.limits.head_timeout
        self._close_with(
            408, "REQUEST_TIMEOUT", f"The request head did not arrive within {seconds:g} s."
        )

    def _body_timed_out(self) -> None:
        self._deadline = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None:
            return
        if cycle.response_started:
            if cycle.response_complete:  # answered without the body: nothing more to wait for
                self.transport.close()
            else:
                cycle.keep_alive = False
            return
        # the application may be waiting in receive(): it gets a disconnect, and
        # anything it still sends is dropped
        cycle.disconnected = True
        cycle.message_event.set()
        seconds = self.limits.body_timeout
        self._close_with(
            408, "REQUEST_TIMEOUT", f"The request body did not arrive within {seconds:g} s."
        )

    # -- rejections ---------------------------------------------------------------------

    def _reject_large_head(self) -> None:
        size = self.limits.max_head_bytes
        self._close_with(
            431,
            "REQUEST_HEADER_FIELDS_TOO_LARGE",
            f"The request line and headers are larger than {size} bytes.",
        )

    def _close_with(self, status: int, code: str, message: str) -> None:
        self._closed_by_us = True
        self._disarm()
        response = _error_response(status, code, message, self.server_state.default_headers)
        self.transport.write(response)
        self.transport.close()


def connection_cap(wanted: int, reserve: int) -> int:
    """How many client connections the process can hold: `wanted`, unless the open-file
    limit leaves room for fewer once `reserve` descriptors (subgraph connections) and
    some spare ones are set aside. Raises the soft limit towards the hard one first,
    as a server needing many sockets should."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + reserve + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # not allowed here: live with the soft limit
            pass
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    cap = max(soft - reserve - SPARE_FILES, soft // 2)
    log.warning(
        "server.max_connections lowered from %d to %d: the process may open only %d "
        "files (ulimit -n) and keeps %d for subgraph connections and its own use",
        wanted,
        cap,
        soft,
        soft - cap,
    )
    return cap
