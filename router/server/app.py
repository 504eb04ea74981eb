"""The router's ASGI application.

/graphql     GraphQL over HTTP (POST; GET for queries), the playground for browsers
/playground  the playground (GraphiQL, served from this package)
/plan        POST {query, operationName, extensions} -> {"plan": text, "tree": plan_json}
/health      liveness; /ready: supergraph loaded and every subgraph answering (router.health)
/metrics     Prometheus text
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, replace
from typing import Any

import orjson

from router import playground
from router.authorization.policy import Authorizer
from router.config import RouterConfig
from router.core import PreparedOperation, Router
from router.errors import RequestError, coded_error
from router.executor.fetcher import JSON_HEADERS, SubgraphClient
from router.executor.stream import (
    StreamedResponse,
    StreamPlan,
    execute_streamed,
    stream_plan,
)
from router.executor.trace import TraceRecorder, wants_trace
from router.health import MEDIA_TYPE as HEALTH_MEDIA_TYPE
from router.health import Check, health_answer
from router.persisted_queries import PersistedQueries, Resolved
from router.planner.plan_json import plan_json
from router.server.assembly import RouterAssembly
from router.server.auth import AuthError, JwtValidator
from router.server.gate import ExecutionGate
from router.server.headers import ClientRequest, forwarded_for
from router.server.incremental import fallback_media, send_multipart, wants_multipart
from router.server.logs import request_id as current_request_id
from router.server.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from router.server.metrics import UNKNOWN_OPERATION
from router.server.protocol import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    BadRequest,
    GraphQLRequest,
    negotiate,
    parse_get,
    parse_post,
    wants_html,
)
from router.server.sse import serve_sse, wants_stream
from router.server.stream import send_streamed
from router.server.tracing import Tracing
from router.server.ws import WsConnection
from router.subscriptions.session import (
    Admitted,
    SubscriptionRegistry,
    refuse_subscription,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

log = logging.getLogger("shopgraph.router")
request_log = logging.getLogger("shopgraph.router.requests")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_RETRY: Headers = [(b"retry-after", b"1")]
_READY_QUERY = orjson.dumps({"query": "query RouterReadiness { __typename }"})
_LIVE = health_answer("router")  # the process answers: that is all liveness says


@dataclass(frozen=True)
class Reply:
    """What the app answers one GraphQL request with, and what its metrics and logs say."""

    status: int
    body: dict[str, Any]
    headers: Headers | None = None
    operation: str | None = None  # the name the client gave (for logs and traces)
    known: bool = False  # the operation exists in a valid document (a metrics label)
    # @defer to a client taking multipart: the payloads to stream (`body` unused)
    stream: AsyncIterator[dict[str, Any]] | None = None
    # a big answer's response, assembled around spooled lists (`body`: its errors only)
    streamed: StreamedResponse | None = None


class RouterApp:
    """The router's ASGI application over one `Router`, swapped for a new one on reload."""

    def __init__(
        self,
        router: Router,
        *,
        config: RouterConfig | None = None,
        max_body_bytes: int | None = None,
        tracing: Tracing | None = None,
        assembly: RouterAssembly | None = None,
    ) -> None:
        """Serve `router`. `assembly`: the app-wide objects built from the configuration
        (its routers are served as they are); without one, it is built here from
        `config` (with `max_body_bytes` and `tracing`, if given), and a router made
        elsewhere is rebuilt with its fetch settings (`RouterAssembly.adopt`)."""
        if assembly is None:
            config = config or RouterConfig()
            if max_body_bytes is not None:
                traffic = replace(config.traffic, max_body_bytes=max_body_bytes)
                config = replace(config, traffic=traffic)
            assembly = RouterAssembly(config, tracing)
        elif config is not None or max_body_bytes is not None or tracing is not None:
            raise TypeError("give the configuration and tracing in the assembly, not beside it")
        self.assembly = assembly
        self.config = assembly.config
        self.max_body_bytes = self.config.traffic.max_body_bytes
        self.breakers = assembly.breakers
        self.metrics = assembly.metrics
        self.tracing = assembly.tracing
        self.auth = JwtValidator(self.config.auth.jwt) if self.config.auth.jwt.enabled else None
        self.authorizer = Authorizer(self.config.authorization)
        self.router = assembly.adopt(router)
        self.persisted = PersistedQueries(self.config.persisted_queries)
        self.subscriptions = SubscriptionRegistry(
            self.config.subscriptions, self.metrics, self.config.traffic.trusted_proxies
        )
        inline = self.config.telemetry.inline_trace
        # None when off: an untraced router checks one attribute per request, nothing more
        self.inline_trace = inline if inline.enabled else None
        slots = self.config.traffic.max_concurrent_executions
        self.gate = ExecutionGate(slots) if slots > 0 else None
        self._startup: list[Callable[[], Awaitable[None]]] = []
        self._shutdown: list[Callable[[], Awaitable[None]]] = []
        self._tasks: list[asyncio.Task[None]] = []

    def swap(self, router: Router) -> None:
        """Serve new requests with `router`; running ones finish on the old one."""
        self.router = self.assembly.adopt(router)
        if self.metrics is not None:
            self.metrics.new_router()
        # subscriptions that would not run alike on it end with SUBSCRIPTION_SCHEMA_RELOAD
        self.subscriptions.reloaded(self.router, self.readmit)

    def background(self, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` as a task for the app's lifetime (started at ASGI lifespan startup)."""
        self._startup.append(job)

    def on_shutdown(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Await `hook` at ASGI lifespan shutdown, after the router is closed."""
        self._shutdown.append(hook)

    # -- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI: lifespan events and HTTP requests (each with its request id)."""
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            if kind == "websocket":
                await self._websocket(scope, receive, send)
            return
        headers = _headers(scope, self.config.traffic.trusted_proxies)
        rid = _request_id(headers)
        token = current_request_id.set(rid)
        try:
            await self._route(scope, receive, _with_request_id(send, rid), headers, rid)
        finally:
            current_request_id.reset(token)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """graphql-transport-ws on /graphql (router/server/ws.py); elsewhere refused."""
        if scope["path"] != "/graphql":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # answered 403
            return
        headers = _headers(scope, self.config.traffic.trusted_proxies)
        rid = _request_id(headers)
        connection = WsConnection(self, receive, send, headers, rid)
        await connection.serve(list(scope.get("subprotocols") or ()))

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], rid: str
    ) -> None:
        path = scope["path"]
        method = scope["method"]
        config = self.config
        if path == "/graphql":
            if method == "POST":
                await self._graphql_post(receive, send, headers, rid)
            elif method == "GET":
                if config.playground.enabled and wants_html(headers.get("accept", "")):
                    await _send_page(send)
                else:
                    await self._graphql_get(scope, receive, send, headers, rid)
            else:
                await _send(
                    send,
                    405,
                    b'{"errors":[{"message":"Use GET or POST."}]}',
                    APPLICATION_JSON,
                    [(b"allow", b"GET, POST")],
                )
        elif path in ("/health", "/healthz") and method in ("GET", "HEAD"):
            await _send(send, *_LIVE, HEALTH_MEDIA_TYPE)
        elif path == "/ready" and method in ("GET", "HEAD"):
            await self._ready(send)
        elif path == "/metrics" and method == "GET" and self.metrics is not None:
            await _send_raw(send, 200, self.metrics.render(), METRICS_CONTENT_TYPE)
        elif path == "/plan" and config.playground.plan:
            await self._plan(receive, send, method, headers)
        elif path in ("/playground", "/playground/") and config.playground.enabled:
            await _send_page(send)
        elif path == "/favicon.ico":  # browsers ask for it; an empty answer keeps logs quiet
            await _send_raw(send, 204, b"", "image/x-icon")
        elif path.startswith(playground.STATIC_PREFIX) and config.playground.enabled:
            await _send_asset(send, scope, path[len(playground.STATIC_PREFIX) :], headers)
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
                if self.tracing is not None:
                    self.tracing.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise BadRequest(f"Request body larger than {self.max_body_bytes} bytes.", 413)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":  # gone (or timed out) mid-body
                raise BadRequest("The request body was not sent completely.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BadRequest(f"Request body larger than {self.max_body_bytes} bytes.", 413)
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    # -- GraphQL ---------------------------------------------------------------------

    async def _graphql_post(
        self, receive: Receive, send: Send, headers: dict[str, str], rid: str
    ) -> None:
        stream, media = _answer_media(headers.get("accept", ""))
        if media is None:
            await _send_error(
                send,
                406,
                "Not acceptable: accept application/graphql-response+json or application/json.",
                APPLICATION_JSON,
            )
            return
        try:
            body = await self._read_body(receive, headers)
            request = parse_post(body, headers.get("content-type", ""))
        except BadRequest as error:
            await _send_error(send, error.status, error.message, media)
            return
        if stream:
            await serve_sse(self, request, headers, rid, receive, send, allow_mutation=True)
            return
        await self._graphql(
            request, headers, rid, media, send, allow_mutation=True, receive=receive
        )

    async def _graphql_get(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], rid: str
    ) -> None:
        stream, media = _answer_media(headers.get("accept", ""))
        if media is None:
            await _send_error(send, 406, "Not acceptable.", APPLICATION_JSON)
            return
        try:
            request = parse_get(scope.get("query_string", b""))
        except BadRequest as error:
            await _send_error(send, error.status, error.message, media)
            return
        if stream:
            await serve_sse(self, request, headers, rid, receive, send, allow_mutation=False)
            return
        await self._graphql(
            request, headers, rid, media, send, allow_mutation=False, receive=receive
        )

    async def _graphql(
        self,
        request: GraphQLRequest,
        headers: dict[str, str],
        rid: str,
        media: str,
        send: Send,
        *,
        allow_mutation: bool,
        receive: Receive | None = None,
    ) -> None:
        started = time.perf_counter()
        if self.tracing is not None:
            with self.tracing.request_span(rid) as span:
                reply = await self._run(request, headers, rid, media, allow_mutation)
                span.set_attribute("graphql.operation.name", reply.operation or "")
                span.set_attribute("http.response.status_code", reply.status)
        else:
            reply = await self._run(request, headers, rid, media, allow_mutation)
        if reply.stream is not None and receive is not None:  # @defer, multipart accepted
            await send_multipart(send, receive, reply.stream, list(reply.headers or ()))
        elif reply.streamed is not None:
            await send_streamed(send, reply.status, reply.streamed, media, reply.headers)
        else:
            await _send(send, reply.status, _encoded(reply.body), media, reply.headers)
        self._record(reply, time.perf_counter() - started)

    def _record(self, reply: Reply, seconds: float) -> None:
        codes = [
            str((e.get("extensions") or {}).get("code") or "UNKNOWN")
            for e in reply.body.get("errors") or ()
            if isinstance(e, dict)
        ]
        if self.metrics is not None:
            # names of operations that do not exist are the client's to choose: one label
            name = reply.operation if reply.known else UNKNOWN_OPERATION
            operation = self.metrics.operation_label(name)
            self.metrics.request_done(operation, reply.status, seconds)
            for code in codes:
                self.metrics.error_returned(code)
        if self.config.telemetry.logging.requests:
            request_log.info(
                "graphql request",
                extra={
                    "operation": reply.operation,
                    "status": reply.status,
                    "duration_ms": round(seconds * 1000, 2),
                    "error_codes": codes,
                },
            )

    async def _run(
        self,
        request: GraphQLRequest,
        headers: dict[str, str],
        rid: str,
        media: str,
        allow_mutation: bool,
    ) -> Reply:
        # the inline trace counts from here (a clock read only when it is configured)
        origin = 0.0 if self.inline_trace is None else time.perf_counter()
        admitted = await self.admit(request, headers, rid, media, allow_mutation=allow_mutation)
        if isinstance(admitted, Reply):
            return admitted
        prepared = admitted.prepared
        trace = None if self.inline_trace is None else self._recorder(admitted.headers, origin)
        if wants_multipart(headers.get("accept", "")):
            stream = admitted.router.execute_incremental(
                prepared, admitted.variables, admitted.headers, trace
            )
            if stream is not None:  # the payloads are sent as they come
                return Reply(200, {}, None, prepared.operation.name, known=True, stream=stream)
        client = admitted.router.client
        if trace is None and isinstance(client, SubgraphClient) and client.streams:
            plan = stream_plan(prepared)
            if plan is not None:  # a root list read, shaped and spooled as it arrives
                return await self._streamed(admitted, plan, client)
        try:
            response = await self._execute(admitted, trace)
        except Exception:  # a bug must never leak a stack trace to the client
            log.exception("unexpected error executing an operation")
            response = {
                "errors": [coded_error("Internal router error.", "INTERNAL_SERVER_ERROR")],
                "data": None,
            }
        if trace is not None:
            response.setdefault("extensions", {})["trace"] = trace.as_json()
        return Reply(200, response, None, prepared.operation.name, known=True)

    async def _execute(self, admitted: Admitted, trace: TraceRecorder | None) -> dict[str, Any]:
        """The answer to an admitted request, executed when the gate lets it."""
        async with self.gate or contextlib.nullcontext():
            return await admitted.router.execute_prepared(
                admitted.prepared, admitted.variables, admitted.headers, trace
            )

    async def _streamed(
        self, admitted: Admitted, plan: StreamPlan, client: SubgraphClient
    ) -> Reply:
        """The reply of a streamable plan (router/executor/stream.py)."""
        name = admitted.prepared.operation.name
        try:
            streamed = await execute_streamed(
                plan, client, admitted.variables, admitted.headers
            )
        except Exception:  # a bug must never leak a stack trace to the client
            log.exception("unexpected error executing an operation")
            response = {
                "errors": [coded_error("Internal router error.", "INTERNAL_SERVER_ERROR")],
                "data": None,
            }
            return Reply(200, response, None, name, known=True)
        body = {"errors": streamed.errors} if streamed.errors else {}
        return Reply(200, body, None, name, known=True, streamed=streamed)

    def _recorder(self, request: ClientRequest, origin: float) -> TraceRecorder | None:
        """A trace recorder when the request asks for one and may have it (the header is
        ignored otherwise, silently: asking is no error)."""
        assert self.inline_trace is not None
        if wants_trace(self.inline_trace, request, request.claims):
            return TraceRecorder(origin)
        return None

    async def admit(
        self,
        request: GraphQLRequest,
        headers: dict[str, str],
        rid: str,
        media: str,
        *,
        allow_mutation: bool = True,
        streaming: bool = False,
    ) -> Reply | Admitted:
        """The request ready to run (authenticated, prepared, authorized, its variables
        coerced), or the Reply refusing it. `streaming`: the client takes a stream (SSE,
        WebSocket), so a subscription may run."""
        router = self.router
        try:
            claims = await self.claims(headers)
        except AuthError as error:
            return _unauthenticated(error, request.operation_name)
        try:
            resolved = self._resolve(request)
        except RequestError as error:  # its own status: 200 for a hash not found, else 400
            return Reply(error.status, {"errors": error.errors}, None, request.operation_name)
        prepared: PreparedOperation | None = None
        try:
            prepared = await router.prepare_async(resolved.query, request.operation_name)
            if resolved.register is not None:  # accepted: within limits, valid
                self.persisted.register(resolved.register, resolved.query)
            if prepared.checks is not None:
                prepared = await self._authorized(router, prepared, claims)
            refused = self._refusal(prepared, media, allow_mutation, streaming)
            if refused is not None:
                return refused
            variables = router.coerce_variables(prepared, request.variables)
        except RequestError as error:
            return _refused(error, prepared, request.operation_name, media)
        except Exception:  # a bug in preparation: a coded answer, never a bare 500 page
            log.exception("unexpected error preparing an operation")
            internal = coded_error("Internal router error.", "INTERNAL_SERVER_ERROR")
            return Reply(500, {"errors": [internal]}, None, request.operation_name)
        forwarded = ClientRequest(headers, rid, claims)
        # the id the router logs and answers with: a client's invalid one is not passed on
        forwarded["x-request-id"] = rid
        query, name = resolved.query, request.operation_name
        return Admitted(router, prepared, variables, forwarded, query, name, request.variables)

    def _refusal(
        self, prepared: PreparedOperation, media: str, allow_mutation: bool, streaming: bool
    ) -> Reply | None:
        """Why this kind of operation may not run here (a subscription without a stream,
        a mutation over GET), or None."""
        kind = prepared.operation.kind
        if kind == "subscription":
            refused = refuse_subscription(self.config.subscriptions, streaming, media)
            if refused is not None:
                return Reply(*refused, prepared.operation.name, known=True)
        elif not allow_mutation and kind != "query":
            message = "Only queries can be sent with GET; use POST for mutations."
            body = {"errors": [coded_error(message, "METHOD_NOT_ALLOWED")]}
            return Reply(405, body, [(b"allow", b"POST")], prepared.operation.name, known=True)
        return None

    async def readmit(self, router: Router, admitted: Admitted) -> Admitted:
        """`admitted` admitted again on `router` (a reloaded supergraph), for the same
        caller: prepared, authorized with its claims, its variables coerced; RequestError
        when the new supergraph refuses it. Nothing is logged or counted again."""
        prepared = await router.prepare_async(admitted.query, admitted.operation_name)
        if prepared.checks is not None:
            prepared = await self._variant(router, prepared, admitted.headers.claims)
        variables = router.coerce_variables(prepared, admitted.raw_variables)
        return replace(admitted, router=router, prepared=prepared, variables=variables)

    def _resolve(self, request: GraphQLRequest) -> Resolved:
        """The text the request runs (an APQ hash or manifest id stands for it), checked
        against the safelist; RequestError when refused."""
        resolved = self.persisted.resolve(request.query, request.extensions)
        if self.persisted.check_listed(resolved.query) and self.metrics is not None:
            self.metrics.persisted_query_unlisted()
        return resolved

    async def _authorized(
        self, router: Router, prepared: PreparedOperation, claims: dict[str, Any] | None
    ) -> PreparedOperation:
        """The operation as the caller may run it (authorization directives), with what
        was removed logged and counted."""
        prepared = await self._variant(router, prepared, claims)
        removed = prepared.unauthorized
        if removed:
            if self.metrics is not None:
                self.metrics.unauthorized_removed(len(removed))
            if self.config.authorization.directives.errors.log:
                paths = ["/".join(str(p) for p in e["path"]) for e in removed]
                log.warning(
                    "authorization removed parts of an operation",
                    extra={"operation": prepared.operation.name, "unauthorized_paths": paths},
                )
        return prepared

    async def _variant(
        self, router: Router, prepared: PreparedOperation, claims: dict[str, Any] | None
    ) -> PreparedOperation:
        """`prepared` as a caller with `claims` may run it (the authorization variant)."""
        assert prepared.checks is not None
        access = await self.authorizer.access(claims, prepared.checks.policies)
        return await router.authorize_async(prepared, access)

    async def claims(self, headers: dict[str, str]) -> dict[str, Any] | None:
        """The caller's verified JWT claims (None without edge auth or a token);
        AuthError for an invalid token, or a missing one when tokens are required
        (`auth.jwt.required`, `authorization.require_authentication`)."""
        claims = None if self.auth is None else await self.auth.claims(headers)
        if claims is None and self.config.authorization.require_authentication:
            raise AuthError("Authentication required: send a bearer token.")
        return claims

    # -- plan, readiness ---------------------------------------------------------------

    async def _plan(
        self, receive: Receive, send: Send, method: str, headers: dict[str, str]
    ) -> None:
        if method != "POST":
            await _send(
                send,
                405,
                b'{"errors":[{"message":"Use POST."}]}',
                APPLICATION_JSON,
                [(b"allow", b"POST")],
            )
            return
        try:
            body = await self._read_body(receive, headers)
            request = parse_post(body, headers.get("content-type", ""))
        except BadRequest as error:
            await _send_error(send, error.status, error.message, APPLICATION_JSON)
            return
        try:
            await self.claims(headers)  # the same gate as /graphql: plans show the schema
        except AuthError as error:
            reply = _unauthenticated(error, request.operation_name)
            body = orjson.dumps(reply.body)
            await _send(send, reply.status, body, APPLICATION_JSON, reply.headers)
            return
        status, answer, extra = await self._plan_answer(request)
        await _send(send, status, orjson.dumps(answer), APPLICATION_JSON, extra)

    async def _plan_answer(
        self, request: GraphQLRequest
    ) -> tuple[int, dict[str, Any], Headers | None]:
        """/plan's status, body and extra headers for a parsed request."""
        router = self.router
        try:
            # an APQ hash or manifest id, and the safelist, count here as on /graphql
            resolved = self._resolve(request)
            # the deterministic plan: percent(n) override labels taken at 0 or 100 %
            prepared = await router.prepare_async(
                resolved.query, request.operation_name, router.settled_labels()
            )
            if resolved.register is not None:
                self.persisted.register(resolved.register, resolved.query)
        except RequestError as error:
            return error.status, {"errors": error.errors}, _RETRY if error.status >= 500 else None
        except Exception:  # a bug in preparation: a coded answer, never a bare 500 page
            log.exception("unexpected error planning an operation for /plan")
            internal = coded_error("Internal router error.", "INTERNAL_SERVER_ERROR")
            return 500, {"errors": [internal]}, None
        return 200, {"plan": str(prepared.plan), "tree": plan_json(prepared.plan)}, None

    async def _ready(self, send: Send) -> None:
        client = self.router.client
        timeout = self.config.health.ready_timeout

        async def probe(url: str) -> Check:
            """One subgraph's readiness: answering, or why not."""
            try:
                response = await client.client.post(
                    url, content=_READY_QUERY, headers=JSON_HEADERS, timeout=timeout
                )
            except Exception as error:  # any failure means "not reachable"
                return Check(False, type(error).__name__)
            if response.status_code != 200:
                return Check(False, f"HTTP {response.status_code}")
            return Check(True)

        names = sorted(client.urls)
        states = await asyncio.gather(*(probe(client.urls[name]) for name in names))
        checks = {"supergraph": Check(True)}
        checks.update(
            (f"subgraph:{name}", state) for name, state in zip(names, states, strict=True)
        )
        await _send(send, *health_answer("router", checks), HEALTH_MEDIA_TYPE)


def _answer_media(accept: str) -> tuple[bool, str | None]:
    """Whether the client takes an event stream (SSE), and the media type of the answer
    (None: nothing the client accepts)."""
    if wants_stream(accept):
        return True, GRAPHQL_RESPONSE_JSON
    return False, negotiate(accept) or fallback_media(accept)


def _unauthenticated(error: AuthError, operation: str | None) -> Reply:
    return Reply(
        401,
        {"errors": [coded_error(error.message, "UNAUTHENTICATED")]},
        [(b"www-authenticate", b'Bearer error="invalid_token"')],
        operation,
    )


def _request_id(headers: dict[str, str]) -> str:
    """The request's id: the client's `x-request-id` when it is a plain token, else new."""
    given = headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _refused(
    error: RequestError, prepared: PreparedOperation | None, name: str | None, media: str
) -> Reply:
    """The reply to a request refused while being prepared (`prepared`: None when it was
    refused before it was)."""
    known = prepared is not None
    if prepared is not None:
        name = prepared.operation.name
    if error.status >= 500:  # the router's state, not the request: say when to retry
        return Reply(error.status, {"errors": error.errors}, _RETRY, name, known)
    status = 400 if media == GRAPHQL_RESPONSE_JSON else 200
    return Reply(status, {"errors": error.errors}, None, name, known)


def _headers(scope: Scope, trusted_proxies: list[str]) -> dict[str, str]:
    """The request's headers, `x-forwarded-for` written by the router (`forwarded_for`)."""
    raw = scope.get("headers", ())
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}
    client = scope.get("client")
    given = (
        [v.decode("latin-1") for k, v in raw if k.lower() == b"x-forwarded-for"]
        if "x-forwarded-for" in headers
        else []
    )
    address = forwarded_for(given, str(client[0]) if client else None, trusted_proxies)
    if address is None:
        headers.pop("x-forwarded-for", None)
    else:
        headers["x-forwarded-for"] = address
    return headers


def _with_request_id(send: Send, rid: str) -> Send:
    header = (b"x-request-id", rid.encode())

    async def sending(message: Message) -> None:
        """`send`, with the request id added to the response's headers."""
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), header]
        await send(message)

    return sending


async def _send_raw(
    send: Send, status: int, body: bytes, content_type: str, extra: Headers | None = None
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# A subgraph's value copied as it is (a custom scalar) may nest deeper than orjson
# writes (255 levels): the client gets this error instead of a broken connection.
_UNENCODABLE = orjson.dumps(
    {
        "errors": [
            coded_error(
                "The response could not be encoded as JSON: a value from a subgraph nests "
                "deeper than 255 levels.",
                "RESPONSE_NOT_ENCODABLE",
            )
        ],
        "data": None,
    }
)


def _encoded(body: dict[str, Any]) -> bytes:
    """`body` as JSON, or the error saying it cannot be."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        log.warning("a response could not be encoded as JSON (nesting too deep)")
        return _UNENCODABLE


async def _send(
    send: Send, status: int, body: bytes, media: str, extra: Headers | None = None
) -> None:
    await _send_raw(send, status, body, f"{media}; charset=utf-8", extra)


async def _send_error(send: Send, status: int, message: str, media: str) -> None:
    code = "PAYLOAD_TOO_LARGE" if status == 413 else "BAD_REQUEST"
    await _send(send, status, orjson.dumps({"errors": [coded_error(message, code)]}), media)


async def _send_page(send: Send) -> None:
    await _send_raw(
        send,
        200,
        playground.page(),
        "text/html; charset=utf-8",
        [(b"cache-control", b"no-cache"), (b"vary", b"accept")],
    )


async def _send_asset(send: Send, scope: Scope, name: str, headers: dict[str, str]) -> None:
    reply = await playground.assets.serve(name, scope.get("query_string", b""), headers)
    if reply is None:
        await _send(send, 404, b'{"errors":[{"message":"Not found."}]}', APPLICATION_JSON)
        return
    body = b"" if scope["method"] == "HEAD" else reply.body
    await send({"type": "http.response.start", "status": reply.status, "headers": reply.headers})
    await send({"type": "http.response.body", "body": body})


def create_app(router: Router, **options: Any) -> RouterApp:
    """The ASGI app serving `router`; `options` are `RouterApp`'s."""
    return RouterApp(router, **options)
