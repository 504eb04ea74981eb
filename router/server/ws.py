"""graphql-transport-ws on the router's `/graphql` (the ASGI `websocket` scope).

The protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md): the client sends
`connection_init` (its payload may carry `Authorization`) within
`subscriptions.init_timeout`, the router answers `connection_ack`; then `subscribe`
messages run operations (subscriptions stream `next` messages; queries and mutations
send one `next`), each ended by `complete` or `error`; `ping`/`pong` both ways.

Close codes: 4400 invalid message, 4401 subscribe before the ack, 4403 forbidden (a
refused token, or the token's `exp` passed: "Forbidden: token expired"), 4406 the
subprotocol was not offered, 4408 no `connection_init` in time, 4409 an id already
running, 4429 a second `connection_init`, 1000 "Idle timeout" (no operation for
`subscriptions.idle_timeout`), 1009 a message over `subscriptions.max_message_bytes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import orjson

from router.errors import coded_error
from router.server.auth import AuthError
from router.server.protocol import GRAPHQL_RESPONSE_JSON, BadRequest, parse_post
from router.subscriptions.session import EXPIRY_SLACK, Admitted, SubscriptionLimit, expiry
from router.subscriptions.tasks import cancel_and_wait

if TYPE_CHECKING:
    from router.server.app import RouterApp

log = logging.getLogger("shopgraph.router.ws")

SUBPROTOCOL = "graphql-transport-ws"
MAX_ID = 128  # characters of an operation id
_EXPIRED = (4403, "Forbidden: token expired")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _Closed(Exception):
    """The connection was closed by the router; stop reading."""


class WsConnection:
    """One client's graphql-transport-ws connection."""

    def __init__(
        self, app: RouterApp, receive: Receive, send: Send, headers: dict[str, str], rid: str
    ) -> None:
        self.app = app
        self.settings = app.config.subscriptions
        self.receive = receive
        self._send = send
        self.headers = headers
        self.rid = rid
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._ending: set[asyncio.Task[None]] = set()  # completed by the client, still closing
        self.initialised = False  # connection_init received
        self.acknowledged = False
        self.closed = False
        self.expires: float | None = None  # loop time the token's `exp` passes
        self._lock = asyncio.Lock()
        self._loop = asyncio.get_running_loop()
        self._idle_since = self._loop.time()
        self._next_beat: float | None = None  # loop time of the next ping (once acknowledged)
        # set whenever a clock changes (acknowledged, the last operation ended, closed):
        # the watchdog then recomputes what is due instead of sleeping past it
        self._wake = asyncio.Event()

    # -- lifetime -------------------------------------------------------------------

    async def serve(self, subprotocols: list[str]) -> None:
        """Accept (if the subprotocol is offered), then serve until either side closes."""
        if (await self.receive())["type"] != "websocket.connect":
            return
        if SUBPROTOCOL not in subprotocols:
            await self._send({"type": "websocket.accept"})
            await self.close(4406, "Subprotocol not acceptable")
            return
        await self._send({"type": "websocket.accept", "subprotocol": SUBPROTOCOL})
        reader = asyncio.create_task(self._read())
        watchdog = asyncio.create_task(self._watch())
        try:
            await asyncio.wait({reader, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.closed = True  # a running stream stops at its next event (`emit`)
            operations = (*self.operations.values(), *self._ending)
            # the operations close their upstream sockets before the connection is done;
            # a task that lost its cancellation is cancelled again, never waited on for ever
            await cancel_and_wait((reader, watchdog, *operations))

    async def close(self, code: int, reason: str) -> None:
        """Close the connection with `code` (once)."""
        if self.closed:
            return
        self.closed = True
        self._wake.set()
        async with self._lock:
            with contextlib.suppress(Exception):  # the client may be gone already
                await self._send({"type": "websocket.close", "code": code, "reason": reason[:120]})

    async def send(self, message: dict[str, Any]) -> None:
        """Send one protocol message (nothing once closed)."""
        if self.closed:
            return
        async with self._lock:
            await self._send({"type": "websocket.send", "text": orjson.dumps(message).decode()})

    async def _read(self) -> None:
        try:
            while not self.closed:
                message = await self.receive()
                if message["type"] == "websocket.disconnect":
                    self.closed = True
                    return
                await self._handle(message)
        except _Closed:
            return

    async def _fail(self, code: int, reason: str) -> None:
        await self.close(code, reason)
        raise _Closed

    async def _watch(self) -> None:
        """The connection's clocks: connection_init timeout, token expiry, idle timeout,
        heartbeats. Returns once it closed the connection."""
        started = self._loop.time()
        while not self.closed:
            self._wake.clear()  # before reading the clocks: a change after this wakes us
            now = self._loop.time()
            closing = self._closing(now, started)
            if closing is not None:
                await self.close(*closing)
                return
            if self._next_beat is not None and now >= self._next_beat:
                await self.send({"type": "ping"})
                self._next_beat = now + self.settings.heartbeat_interval
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._next_tick(now, started)):
                    await self._wake.wait()

    def _closing(self, now: float, started: float) -> tuple[int, str] | None:
        """The close code and reason of a clock that ran out, or None."""
        settings = self.settings
        if not self.initialised and now - started >= settings.init_timeout:
            return 4408, "Connection initialisation timeout"
        if self._expired(now):
            return _EXPIRED
        idle = settings.idle_timeout and not self.operations
        if idle and now - self._idle_since >= settings.idle_timeout:
            return 1000, "Idle timeout"
        return None

    def _expired(self, now: float) -> bool:
        """Whether the token's `exp` has passed."""
        return self.expires is not None and now >= self.expires

    def _next_tick(self, now: float, started: float) -> float:
        """Seconds until the earliest clock is due (at least a millisecond); a change of
        the clocks wakes the watchdog sooner."""
        settings = self.settings
        due = [now + 60.0]
        if not self.initialised:
            due.append(started + settings.init_timeout)
        if self.expires is not None:
            due.append(self.expires)
        if settings.idle_timeout and not self.operations:
            due.append(self._idle_since + settings.idle_timeout)
        if self._next_beat is not None:
            due.append(self._next_beat)
        return max(min(due) - now, 0.001)

    def _became_idle(self) -> None:
        """No operation runs any more: the idle clock starts now."""
        self._idle_since = self._loop.time()
        self._wake.set()

    # -- messages -------------------------------------------------------------------

    async def _handle(self, message: Message) -> None:
        text = message.get("text")
        if text is None:
            await self._fail(4400, "Invalid message received: expected text")
        if len(text) > self.settings.max_message_bytes:
            await self._fail(1009, "Message too big")
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            parsed = None
        kind = parsed.get("type") if isinstance(parsed, dict) else None
        if kind == "connection_init":
            await self._init(parsed)
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            await self._subscribe(parsed)
        elif kind == "complete":
            await self._complete(parsed)
        else:
            await self._fail(4400, "Invalid message received")

    async def _init(self, message: dict[str, Any]) -> None:
        if self.initialised:
            await self._fail(4429, "Too many initialisation requests")
        self.initialised = True
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self._fail(4400, "Invalid message received: payload must be an object")
        token = (payload or {}).get("Authorization") or (payload or {}).get("authorization")
        if isinstance(token, str):
            header = self.app.auth.header if self.app.auth is not None else "authorization"
            self.headers[header] = token
        try:
            claims = await self.app.claims(self.headers)
        except AuthError as error:
            await self._fail(4403, f"Forbidden: {error.message}")
            return
        self.expires = expiry(claims)
        self.acknowledged = True
        if self.settings.heartbeat_interval:
            self._next_beat = self._loop.time() + self.settings.heartbeat_interval
        await self.send({"type": "connection_ack"})
        self._wake.set()

    async def _subscribe(self, message: dict[str, Any]) -> None:
        op_id, payload = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not op_id or len(op_id) > MAX_ID:
            await self._fail(4400, "Invalid message received: bad id")
        if not isinstance(payload, dict):
            await self._fail(4400, "Invalid message received: payload must be an object")
        if not self.acknowledged:
            await self._fail(4401, "Unauthorized")
        if op_id in self.operations:
            await self._fail(4409, f"Subscriber for {op_id} already exists")
        if len(self.operations) >= self.settings.max_per_connection:
            limit = self.settings.max_per_connection
            error = coded_error(
                f"This connection runs {limit} operations already "
                "(subscriptions.max_per_connection).",
                "SUBSCRIPTION_LIMIT",
            )
            await self.send({"id": op_id, "type": "error", "payload": [error]})
            return
        self.operations[op_id] = asyncio.create_task(self._operation(op_id, payload))

    async def _complete(self, message: dict[str, Any]) -> None:
        op_id = message.get("id")
        if not isinstance(op_id, str):
            await self._fail(4400, "Invalid message received: bad id")
        # the id is free at once (the client may reuse it in its next message), while
        # the task still closes its upstream socket
        task = self.operations.pop(op_id, None)  # type: ignore[arg-type]
        if task is not None:
            task.cancel()  # the client ended it: nothing more is sent for it
            self._ending.add(task)
            task.add_done_callback(self._ending.discard)
            if not self.operations:
                self._became_idle()

    # -- operations -----------------------------------------------------------------

    async def _operation(self, op_id: str, payload: dict[str, Any]) -> None:
        """Run one operation; its messages end with `complete` or `error`."""
        try:
            errors = await self._run(op_id, payload)
            if errors is not None and self._expired(self._loop.time() + EXPIRY_SLACK):
                # the subgraph may drop the socket of an expiring token before the watchdog
                # closes the connection: the client learns why from 4403 alone
                await self.close(*_EXPIRED)
            elif errors is None:
                await self.send({"id": op_id, "type": "complete"})
            else:
                await self.send({"id": op_id, "type": "error", "payload": errors})
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not leave the operation without an end
            log.exception("unexpected error running a WebSocket operation")
            internal = coded_error("Internal router error.", "INTERNAL_SERVER_ERROR")
            await self.send({"id": op_id, "type": "error", "payload": [internal]})
        finally:
            if self.operations.get(op_id) is asyncio.current_task():
                del self.operations[op_id]
                if not self.operations:
                    self._became_idle()

    async def _run(self, op_id: str, payload: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The operation's `next` messages; None when it completed, else its errors."""
        try:
            request = parse_post(orjson.dumps(payload), "application/json")
        except BadRequest as error:
            return [coded_error(error.message, "BAD_REQUEST")]
        admitted = await self.app.admit(
            request, dict(self.headers), self.rid, GRAPHQL_RESPONSE_JSON, streaming=True
        )
        if not isinstance(admitted, Admitted):
            return list(admitted.body.get("errors") or ())

        async def emit(result: dict[str, Any]) -> None:
            """One `next` message; once the connection is closed the operation ends."""
            if self.closed:
                raise asyncio.CancelledError  # nobody to send to: stop, as a cancel does
            await self.send({"id": op_id, "type": "next", "payload": result})

        if not admitted.is_subscription:
            await emit(
                await admitted.router.execute_prepared(
                    admitted.prepared, admitted.variables, admitted.headers
                )
            )
            return None
        registry = self.app.subscriptions
        try:
            running = registry.reserve(admitted)
        except SubscriptionLimit as error:
            return error.errors
        return await registry.run(running, emit)
