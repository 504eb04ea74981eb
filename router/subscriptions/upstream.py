"""The router's side of graphql-transport-ws towards a subgraph: one socket per subscription.

    async with UpstreamSubscription(url, init_payload, query, variables, settings) as events:
        async for payload in events:   # each `next` message's payload
            ...

The protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md): `connection_init` (its payload
carries the headers the router propagates to the subgraph), `connection_ack` within
`init_timeout`, then `subscribe` with id "1"; the subgraph sends `next` per event, `error`
(the operation failed) or `complete`; `ping` is answered with `pong`. After
`upstream_ping_interval` seconds without a message the router sends `ping`; as long again
without any message (`pong` or other) ends the subscription with
SUBSCRIPTION_UPSTREAM_FAILED: a subgraph or network that went silent is not waited on
forever. Leaving the block sends `complete` if the subgraph has not, and closes the socket.

Why one socket per client subscription, not one multiplexed socket per subgraph: the
`connection_init` payload carries the client's headers (its authorization), which differ
per client, and a socket's failure or a slow subgraph then touches one subscription only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from router.config import SubscriptionsConfig
from router.errors import coded_error
from router.executor.subgraph_errors import add_subgraph_errors, subgraph_error

SUBPROTOCOL = Subprotocol("graphql-transport-ws")
_OPERATION_ID = "1"  # one operation per socket
_TOO_LARGE = 1009  # the close code websockets sends for an oversized message


class UpstreamError(Exception):
    """The subscription ended abnormally: `errors` are the GraphQL errors to report."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "subscription failed")
        self.errors = errors


def websocket_url(url: str) -> str:
    """The subgraph's GraphQL URL with a WebSocket scheme (ws for http, wss for https)."""
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


def _failed(
    service: str, message: str, code: str = "SUBSCRIPTION_UPSTREAM_FAILED"
) -> UpstreamError:
    error = coded_error(message, code)
    error["extensions"]["serviceName"] = service
    return UpstreamError([error])


class UpstreamSubscription:
    """One subscription on one subgraph over its own graphql-transport-ws socket."""

    def __init__(
        self,
        service: str,
        url: str,
        init_payload: Mapping[str, str],
        subscribe_payload: Mapping[str, Any],
        settings: SubscriptionsConfig,
    ) -> None:
        """`init_payload`: the connection_init payload (the propagated headers);
        `subscribe_payload`: the `subscribe` message's `{query, variables}`."""
        self.service = service
        self.url = websocket_url(url)
        self.init_payload = dict(init_payload)
        self.subscribe_payload = dict(subscribe_payload)
        self.settings = settings
        self._socket: ClientConnection | None = None
        self._finished = False  # the subgraph sent complete or error

    async def __aenter__(self) -> UpstreamSubscription:
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for runs `_open` in a task
            # of its own and drops a cancellation arriving in the loop step that task
            # finishes in (CPython gh-86296), so a client gone that instant left the
            # subscription running for ever
            async with asyncio.timeout(self.settings.init_timeout):
                await self._open()
        except TimeoutError:
            await self.aclose()
            raise _failed(
                self.service,
                f"Subgraph '{self.service}' did not acknowledge the subscription connection "
                f"within {self.settings.init_timeout:g} s.",
            ) from None
        except (OSError, InvalidHandshake, InvalidURI, ConnectionClosed) as error:
            await self.aclose()
            raise _failed(
                self.service,
                f"Subgraph '{self.service}' refused the subscription connection "
                f"({type(error).__name__}).",
            ) from None
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _open(self) -> None:
        self._socket = await connect(
            self.url,
            subprotocols=[SUBPROTOCOL],
            max_size=self.settings.max_event_bytes,
            ping_interval=None,  # the protocol's own ping/pong checks it (`_next_message`)
            close_timeout=2,
            compression=None,
            proxy=None,
        )
        if self._socket.subprotocol != SUBPROTOCOL:
            raise InvalidHandshake("the subgraph did not accept graphql-transport-ws")
        await self._send({"type": "connection_init", "payload": self.init_payload})
        while True:
            message = await self._receive()
            kind = message.get("type")
            if kind == "connection_ack":
                break
            if kind == "ping":
                await self._send({"type": "pong"})
            elif kind != "pong":
                raise InvalidHandshake(f"expected connection_ack, got {kind!r}")
        await self._send(
            {"id": _OPERATION_ID, "type": "subscribe", "payload": self.subscribe_payload}
        )

    async def _send(self, message: dict[str, Any]) -> None:
        assert self._socket is not None
        await self._socket.send(orjson.dumps(message).decode())

    async def _receive(self) -> dict[str, Any]:
        assert self._socket is not None
        raw = await self._socket.recv()
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            message = None
        if not isinstance(message, dict):
            raise _failed(self.service, f"Subgraph '{self.service}' sent an invalid message.")
        return message

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._events()

    async def _events(self) -> AsyncIterator[dict[str, Any]]:
        """Each `next` payload until `complete`; UpstreamError for `error` or a lost socket."""
        while True:
            try:
                message = await self._next_message()
            except ConnectionClosed as closed:
                raise self._closed(closed) from None
            kind = message.get("type")
            if kind == "next" and message.get("id") == _OPERATION_ID:
                payload = message.get("payload")
                yield payload if isinstance(payload, dict) else {}
            elif kind == "complete":
                self._finished = True
                return
            elif kind == "error":
                self._finished = True
                raise UpstreamError(self._errors(message.get("payload")))
            elif kind == "ping":
                await self._send({"type": "pong"})

    async def _next_message(self) -> dict[str, Any]:
        """The subgraph's next message; a `ping` goes out after `upstream_ping_interval`
        seconds of silence, and UpstreamError when the silence lasts as long again."""
        interval = self.settings.upstream_ping_interval
        if not interval:
            return await self._receive()
        try:
            async with asyncio.timeout(interval):  # recv is cancel-safe
                return await self._receive()
        except TimeoutError:
            await self._send({"type": "ping"})
        try:
            async with asyncio.timeout(interval):
                return await self._receive()
        except TimeoutError:
            raise _failed(
                self.service,
                f"Subgraph '{self.service}' did not answer a ping within {interval:g} s; "
                "the subscription ended.",
            ) from None

    def _closed(self, closed: ConnectionClosed) -> UpstreamError:
        self._finished = True
        if closed.sent is not None and closed.sent.code == _TOO_LARGE:
            return _failed(
                self.service,
                f"Subgraph '{self.service}' sent an event larger than "
                f"{self.settings.max_event_bytes} bytes; the subscription ended.",
                "SUBSCRIPTION_EVENT_TOO_LARGE",
            )
        return _failed(
            self.service, f"Subgraph '{self.service}' closed the subscription unexpectedly."
        )

    def _errors(self, payload: Any) -> list[dict[str, Any]]:
        """An `error` message's GraphQL errors, coded and named after the subgraph: checked
        and capped as a fetch's errors are (subgraph_errors.py); never none."""
        out: list[dict[str, Any]] = []
        service = self.service
        if isinstance(payload, dict):
            # the protocol says a list; a subgraph sending one error object still means it
            payload = [payload]
        add_subgraph_errors(
            out, payload, service, lambda found: (subgraph_error(e, service, None) for e in found)
        )
        return out or [subgraph_error({}, service, None)]  # `[]`: it failed all the same

    async def aclose(self) -> None:
        """Tell the subgraph the subscription is over (unless it said so) and close."""
        socket, self._socket = self._socket, None
        if socket is None:
            return
        try:
            if not self._finished:
                self._finished = True
                async with asyncio.timeout(1.0):
                    await socket.send(
                        orjson.dumps({"id": _OPERATION_ID, "type": "complete"}).decode()
                    )
        except (ConnectionClosed, TimeoutError, OSError):
            pass  # gone already: closing is all that is left
        finally:
            await socket.close()
