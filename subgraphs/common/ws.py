"""graphql-transport-ws on a subgraph's GraphQL path: subscriptions (and single-result
operations) over a WebSocket, executed by the same endpoint as HTTP requests.

The protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md): the client sends
`connection_init` (its payload may carry the propagated headers: the router puts
`authorization` there), the server answers `connection_ack`; then `subscribe`
messages with an id, answered by `next`... `complete` or by `error`; `ping`/`pong`
either way, before the init too (the spec allows a ping at any time); the client's
`complete` stops an operation. Violations close the socket with the protocol's codes
(4400 bad message, a `subscribe` whose payload is not an object too, 4401 subscribe
before the ack, 4408 no init in time, 4409 a duplicate id, 4429 a second init); when the
caller's token expires the socket closes with 4403, as the router closes its clients'
sockets.

Bounded: a message over the body limit closes the socket (1009; hypercorn refuses it
before buffering it whole, serve.py), a connection runs at most
SHOPGRAPH_SUBGRAPH_MAX_OPERATIONS_PER_CONNECTION operations at once (32 by default), and
the process at most SHOPGRAPH_SUBGRAPH_MAX_SUBSCRIPTIONS subscriptions (live.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from quart import websocket

from router.errors import coded_error

from .auth import Auth, TokenCodec
from .budget import ExecutionBudget
from .context import Context
from .endpoint import GraphQLEndpoint, RequestError, StreamRefused
from .errors import INTERNAL_MESSAGE, log_unexpected
from .settings import positive_int
from .shutdown import stop_tasks

logger = logging.getLogger("shopgraph.ws")

PROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT = 10.0
ENV_MAX_OPERATIONS = "SHOPGRAPH_SUBGRAPH_MAX_OPERATIONS_PER_CONNECTION"
# The router opens one socket per subscription; a caller talking to a subgraph directly
# needs no more than a few dozen at once, and the process's limit is shared by all.
DEFAULT_MAX_OPERATIONS = 32
MAX_ID_LENGTH = 128

ContextFactory = Callable[[Auth], Context]


class _Close(Exception):
    """End the connection with a protocol close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def max_operations_setting(env: Mapping[str, str] = os.environ) -> int:
    """SHOPGRAPH_SUBGRAPH_MAX_OPERATIONS_PER_CONNECTION as a positive integer (32 if unset)."""
    return positive_int(env, ENV_MAX_OPERATIONS, DEFAULT_MAX_OPERATIONS)


def connection_auth(payload: dict[str, Any] | None, header: str | None, codec: TokenCodec) -> Auth:
    """The caller's Auth: `authorization` from the connection_init payload (any case; the
    router puts the propagated headers there), else the upgrade request's header."""
    for name, value in (payload or {}).items():
        if name.lower() == "authorization" and isinstance(value, str):
            return Auth.from_header(value, codec)
    return Auth.from_header(header, codec)


class GraphQLWebSocket:
    """One graphql-transport-ws connection, served until either side closes it."""

    def __init__(
        self,
        endpoint: GraphQLEndpoint,
        budget: ExecutionBudget,
        codec: TokenCodec,
        make_context: ContextFactory,
        limit: int,
        max_operations: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.budget = budget
        self.codec = codec
        self.make_context = make_context
        self.max_message_bytes = limit
        self.max_operations = max_operations or max_operations_setting()
        self._operations: dict[str, asyncio.Task[None]] = {}

    async def serve(self) -> None:
        """Accept, run the handshake, then serve messages; closing cancels every operation."""
        if PROTOCOL not in websocket.requested_subprotocols:
            await websocket.accept()
            await websocket.close(4406, "Subprotocol not acceptable")
            return
        await websocket.accept(subprotocol=PROTOCOL)
        try:
            auth = await self._handshake()
            try:
                async with asyncio.timeout_at(_expiry(auth)):
                    while True:
                        await self._handle(await self._receive(), auth)
            except TimeoutError:
                raise _Close(4403, "Forbidden: token expired") from None
        except _Close as close:
            await websocket.close(close.code, close.reason)
        finally:
            await self._cancel_all()

    async def _handshake(self) -> Auth:
        try:
            async with asyncio.timeout(INIT_TIMEOUT):
                message = await self._receive()
                while message["type"] in ("ping", "pong"):  # allowed before the init
                    if message["type"] == "ping":
                        await self._send({"type": "pong"})
                    message = await self._receive()
        except TimeoutError:
            raise _Close(4408, "Connection initialisation timeout") from None
        if message["type"] != "connection_init":
            raise _Close(4401, "Unauthorized")
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            raise _Close(4400, "connection_init payload must be an object")
        header = websocket.headers.get("Authorization")
        auth = connection_auth(payload, header, self.codec)
        await self._send({"type": "connection_ack"})
        return auth

    async def _receive(self) -> dict[str, Any]:
        data = await websocket.receive()
        if len(data) > self.max_message_bytes:
            raise _Close(1009, f"Message larger than {self.max_message_bytes} bytes")
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise _Close(4400, "Message is not valid JSON") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise _Close(4400, "Message must be an object with a `type`")
        return message

    async def _send(self, message: dict[str, Any]) -> None:
        await websocket.send(orjson.dumps(message).decode())

    async def _handle(self, message: dict[str, Any], auth: Auth) -> None:
        kind = message["type"]
        if kind == "ping":
            await self._send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "connection_init":
            raise _Close(4429, "Too many initialisation requests")
        elif kind == "subscribe":
            op_id = _operation_id(message)
            payload = message.get("payload")
            if not isinstance(payload, dict):
                raise _Close(4400, "subscribe payload must be an object")
            await self._start(op_id, payload, auth)
        elif kind == "complete":
            task = self._operations.pop(_operation_id(message), None)
            if task is not None:
                task.cancel()
        else:
            raise _Close(4400, f"Unknown message type {kind[:40]!r}")

    async def _start(self, op_id: str, payload: dict[str, Any], auth: Auth) -> None:
        if op_id in self._operations:
            raise _Close(4409, f"Subscriber for {op_id} already exists")
        if len(self._operations) >= self.max_operations:
            message = f"At most {self.max_operations} operations at once on one connection"
            error = coded_error(message, "TOO_MANY_SUBSCRIPTIONS")
            await self._send({"id": op_id, "type": "error", "payload": [error]})
            return
        # A context per operation: its DataLoaders are its own.
        context = self.make_context(auth)
        self._operations[op_id] = asyncio.create_task(
            self._run(op_id, payload, context), name=f"ws-operation-{op_id[:32]}"
        )

    async def _run(self, op_id: str, payload: Any, context: Context) -> None:
        """Send the operation's results, then `complete` (or `error` if it was refused)."""
        try:
            async for body in self.endpoint.stream(payload, context, self.budget):
                await self._send({"id": op_id, "type": "next", "payload": body})
        except RequestError as error:
            await self._send({"id": op_id, "type": "error", "payload": error.body["errors"]})
        except StreamRefused as refused:
            await self._send({"id": op_id, "type": "error", "payload": refused.errors})
        except Exception as error:  # a bug, or the socket gone while sending
            log_unexpected(logger, "websocket operation failed", error=error)
            with contextlib.suppress(Exception):
                internal = coded_error(INTERNAL_MESSAGE, "INTERNAL_SERVER_ERROR")
                await self._send({"id": op_id, "type": "error", "payload": [internal]})
        else:
            await self._send({"id": op_id, "type": "complete"})
        finally:
            # the client may have completed it and reused its id meanwhile
            if self._operations.get(op_id) is asyncio.current_task():
                del self._operations[op_id]

    async def _cancel_all(self) -> None:
        tasks = list(self._operations.values())
        self._operations.clear()
        await stop_tasks(tasks, "websocket operations")  # bounded, as every shutdown step


def _expiry(auth: Auth) -> float | None:
    """When (event-loop time) the connection's token expires; None: no token."""
    if auth.viewer is None or auth.viewer.expires_at is None:
        return None
    loop = asyncio.get_running_loop()
    return loop.time() + (auth.viewer.expires_at - time.time())


def _operation_id(message: dict[str, Any]) -> str:
    op_id = message.get("id")
    if not isinstance(op_id, str) or not 0 < len(op_id) <= MAX_ID_LENGTH:
        raise _Close(4400, f"`id` must be a string of 1-{MAX_ID_LENGTH} characters")
    return op_id
