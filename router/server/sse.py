"""graphql-sse "distinct connections" mode on the router's `/graphql`.

A POST (or GET) with `Accept: text/event-stream` is answered `200 text/event-stream`:
one `event: next` per result (`data:` the JSON payload), then `event: complete`. As
the protocol asks, a refused request (validation, authentication, limits) is reported
as a `next` event carrying its errors, then `complete`. A comment line (`:`) goes out
every `subscriptions.heartbeat_interval` seconds while a subscription is quiet; when
the token's `exp` passes, the stream ends with a `next` carrying an UNAUTHENTICATED
error. The client ends a subscription by closing the connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import orjson

from router.errors import coded_error
from router.server.asgi import disconnected
from router.server.protocol import GRAPHQL_RESPONSE_JSON, GraphQLRequest
from router.subscriptions.session import (
    EXPIRY_SLACK,
    Admitted,
    Errors,
    Running,
    SubscriptionLimit,
    expiry,
)
from router.subscriptions.tasks import cancel_and_wait

if TYPE_CHECKING:
    from router.server.app import RouterApp

log = logging.getLogger("shopgraph.router.sse")

EVENT_STREAM = "text/event-stream"

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # proxies must pass events on at once
]
_COMPLETE = b"event: complete\ndata:\n\n"
_HEARTBEAT = b":\n\n"


def wants_stream(accept: str) -> bool:
    """Whether the client asks for an event stream (graphql-sse)."""
    return EVENT_STREAM in accept


class EventStream:
    """The response's events, written in order."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """The response head: 200, text/event-stream."""
        await self._send({"type": "http.response.start", "status": 200, "headers": _HEADERS})

    async def write(self, chunk: bytes) -> None:
        """One chunk of the body, the stream kept open."""
        async with self._lock:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def next(self, payload: dict[str, Any]) -> None:
        """An `event: next` with `payload` as its data."""
        await self.write(b"event: next\ndata: " + orjson.dumps(payload) + b"\n\n")

    async def end(self) -> None:
        """`event: complete`, and the end of the response."""
        async with self._lock:
            await self._send({"type": "http.response.body", "body": _COMPLETE})


async def serve_sse(
    app: RouterApp,
    request: GraphQLRequest,
    headers: dict[str, str],
    rid: str,
    receive: Receive,
    send: Send,
    *,
    allow_mutation: bool,
) -> None:
    """Answer one GraphQL request as an event stream."""
    stream = EventStream(send)
    admitted = await app.admit(
        request,
        headers,
        rid,
        GRAPHQL_RESPONSE_JSON,
        allow_mutation=allow_mutation,
        streaming=True,
    )
    await stream.start()
    if not isinstance(admitted, Admitted):
        await stream.next({"errors": admitted.body.get("errors") or []})
    elif not admitted.is_subscription:
        prepared = admitted.prepared
        result = await admitted.router.execute_prepared(
            prepared, admitted.variables, admitted.headers
        )
        await stream.next(result)
    else:
        try:
            running = app.subscriptions.reserve(admitted)
        except SubscriptionLimit as error:
            await stream.next({"errors": error.errors})
        else:
            if not await _pump(app, running, stream, receive):
                return  # the client left: nothing more to write
    await stream.end()


async def _pump(app: RouterApp, running: Running, stream: EventStream, receive: Receive) -> bool:
    """Stream the subscription's events until it ends (True, `complete` still to send)
    or the client leaves (False); heartbeats while it is quiet, token expiry."""
    loop = asyncio.get_running_loop()
    producer = asyncio.create_task(app.subscriptions.run(running, stream.next))
    gone = asyncio.create_task(disconnected(receive))
    expires = expiry(running.admitted.headers.claims)
    beat = app.config.subscriptions.heartbeat_interval or None
    try:
        while True:
            timeout = beat
            if expires is not None and running.stopped is None:
                left = max(expires - loop.time(), 0.0)
                timeout = left if timeout is None else min(timeout, left)
            done, _ = await asyncio.wait(
                {producer, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if gone in done:
                return False
            if producer in done:
                errors = _outcome(producer)
                if errors and expires is not None and loop.time() + EXPIRY_SLACK >= expires:
                    errors = _expired()  # the subgraph dropped the expiring token first
                if errors:
                    await stream.next({"errors": errors})
                return True
            if expires is not None and loop.time() >= expires:
                running.stop(_expired())
            elif beat is not None:
                await stream.write(_HEARTBEAT)
    finally:
        try:
            # bounded: a producer that lost its cancellation is cancelled again (tasks.py)
            await cancel_and_wait((producer, gone))
        finally:
            app.subscriptions.release(running)  # even if its task was cancelled before it ran


def _expired() -> Errors:
    """What a stream whose token expired ends with."""
    return [coded_error("The token expired; authenticate again.", "UNAUTHENTICATED")]


def _outcome(producer: asyncio.Task[Errors | None]) -> Errors | None:
    """The subscription's end: None (completed) or the errors to report."""
    try:
        return producer.result()
    except Exception:  # a bug must not end the stream without a word
        log.exception("unexpected error running an SSE subscription")
        return [coded_error("Internal router error.", "INTERNAL_SERVER_ERROR")]
