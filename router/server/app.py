"""The router's ASGI application: /graphql (POST and GET), /health."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from router.core import RequestError, Router
from router.server.protocol import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    BadRequest,
    GraphQLRequest,
    negotiate,
    parse_get,
    parse_post,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("shopgraph.router")

MAX_BODY_BYTES = 2 * 1024 * 1024
FORWARDED_HEADERS = ("authorization", "x-request-id")


class RouterApp:
    def __init__(self, router: Router, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.router = router
        self.max_body_bytes = max_body_bytes
        self._startup: list[Callable[[], Awaitable[None]]] = []
        self._shutdown: list[Callable[[], Awaitable[None]]] = []
        self._tasks: list[asyncio.Task[None]] = []

    def swap(self, router: Router) -> None:
        """Serve new requests with `router`; running ones finish on the old one."""
        self.router = router

    def background(self, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` as a task for the app's lifetime (started at ASGI lifespan startup)."""
        self._startup.append(job)

    def on_shutdown(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._shutdown.append(hook)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        path = scope["path"]
        method = scope["method"]
        if path == "/graphql":
            if method == "POST":
                await self._graphql_post(scope, receive, send)
            elif method == "GET":
                await self._graphql_get(scope, send)
            else:
                await _send(
                    send,
                    405,
                    b'{"errors":[{"message":"Use GET or POST."}]}',
                    APPLICATION_JSON,
                    [(b"allow", b"GET, POST")],
                )
        elif path == "/health" and method in ("GET", "HEAD"):
            await _send(send, 200, b'{"status":"UP"}', APPLICATION_JSON)
        else:
            await _send(send, 404, b'{"errors":[{"message":"Not found."}]}', APPLICATION_JSON)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._tasks = [asyncio.create_task(job()) for job in self._startup]  # type: ignore[arg-type]
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in self._tasks:
                    task.cancel()
                await self.router.aclose()
                for hook in self._shutdown:
                    await hook()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BadRequest(f"Request body larger than {self.max_body_bytes} bytes.", 413)
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _graphql_post(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        media = negotiate(headers.get("accept", ""))
        if media is None:
            await _send_error(
                send,
                406,
                "Not acceptable: accept application/graphql-response+json or application/json.",
                APPLICATION_JSON,
            )
            return
        try:
            body = await self._read_body(receive)
            request = parse_post(body, headers.get("content-type", ""))
        except BadRequest as error:
            await _send_error(send, error.status, error.message, media)
            return
        await self._execute(request, headers, media, send, allow_mutation=True)

    async def _graphql_get(self, scope: Scope, send: Send) -> None:
        headers = _headers(scope)
        media = negotiate(headers.get("accept", ""))
        if media is None:
            await _send_error(send, 406, "Not acceptable.", APPLICATION_JSON)
            return
        try:
            request = parse_get(scope.get("query_string", b""))
        except BadRequest as error:
            await _send_error(send, error.status, error.message, media)
            return
        await self._execute(request, headers, media, send, allow_mutation=False)

    async def _execute(
        self,
        request: GraphQLRequest,
        headers: dict[str, str],
        media: str,
        send: Send,
        *,
        allow_mutation: bool,
    ) -> None:
        router = self.router
        try:
            prepared = router.prepare(request.query, request.operation_name)
            if not allow_mutation and prepared.operation.kind != "query":
                await _send(
                    send,
                    405,
                    orjson.dumps(
                        {
                            "errors": [
                                {
                                    "message": "Only queries can be sent with GET; "
                                    "use POST for mutations.",
                                    "extensions": {"code": "METHOD_NOT_ALLOWED"},
                                }
                            ]
                        }
                    ),
                    media,
                    [(b"allow", b"POST")],
                )
                return
            variables = router.coerce_variables(prepared, request.variables)
        except RequestError as error:
            status = 400 if media == GRAPHQL_RESPONSE_JSON else 200
            await _send(send, status, orjson.dumps({"errors": error.errors}), media)
            return
        forwarded = {k: headers[k] for k in FORWARDED_HEADERS if k in headers}
        try:
            response = await router.execute_prepared(prepared, variables, forwarded)
        except Exception:  # a bug must never leak a stack trace to the client
            log.exception("unexpected error executing an operation")
            response = {
                "errors": [
                    {
                        "message": "Internal router error.",
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                    }
                ],
                "data": None,
            }
        await _send(send, 200, orjson.dumps(response), media)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}


async def _send(
    send: Send,
    status: int,
    body: bytes,
    media: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", f"{media}; charset=utf-8".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_error(send: Send, status: int, message: str, media: str) -> None:
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]})
    await _send(send, status, body, media)


def create_app(router: Router, **options: Any) -> RouterApp:
    return RouterApp(router, **options)
