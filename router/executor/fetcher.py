"""HTTP calls to subgraphs: one pooled httpx client, orjson both ways.

Per subgraph: a timeout, limited retries for queries that got no answer from a
working subgraph (the connection failed or closed before a response, a connect
timeout, or a 502/503/504), and a
circuit breaker that fails fast while the subgraph keeps failing. Which headers
each subgraph receives is decided by an optional `propagate` function; a header
the wire cannot carry (CR, LF, NUL, not latin-1, a name that is no token) refuses
that fetch with SUBREQUEST_INVALID_HEADER and a log line naming the header. The
check is the transport's (`encode_headers`, as it writes them), made once per
fetch; a refused fetch sent nothing and says nothing about the subgraph. An
optional observer sees every fetch (metrics, tracing).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import orjson

from router.executor.transport import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    BodyStream,
    InvalidHeader,
    RawResponse,
    ResponseTooLarge,
    SubgraphHttp,
    encode_headers,
)

log = logging.getLogger("shopgraph.router.fetch")

JSON_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json, application/json",
    # uncompressed answers: the size bound then holds for what is parsed, with nothing
    # to inflate (the transport bounds gzip/deflate too, should a subgraph send them)
    "accept-encoding": "identity",
}

HTTP_ERROR = "SUBREQUEST_HTTP_ERROR"
TIMEOUT = "SUBREQUEST_TIMEOUT"
CIRCUIT_OPEN = "SUBREQUEST_CIRCUIT_OPEN"
INVALID_HEADER = "SUBREQUEST_INVALID_HEADER"

# Statuses that say no working subgraph answered (a proxy in front, or the subgraph shedding
# load). The request may have reached it, so only queries are retried: they are idempotent.
_RETRY_STATUSES = frozenset({502, 503, 504})


class SubgraphRequestError(Exception):
    """The subgraph could not be reached or did not answer with GraphQL JSON."""

    def __init__(
        self,
        service: str,
        message: str,
        status: int | None = None,
        code: str = HTTP_ERROR,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True)
class SubgraphPolicy:
    """How requests to one subgraph behave."""

    timeout: float = DEFAULT_TIMEOUT
    # extra attempts for an idempotent request (a query) that got no answer from a working
    # subgraph: see `SubgraphClient._send` for which failures those are
    retries: int = 0
    retry_backoff: float = 0.05  # seconds before the first retry, doubled each time


class CircuitBreaker:
    """Closed -> (failure_threshold consecutive failures) -> open: fail fast for
    open_seconds -> half-open: one trial request; success closes, failure reopens.

    Every request `admit` lets through ends in `record` (it said something about the
    subgraph) or `release` (cancelled, or refused before it was sent), so the trial
    is always given back, whatever happens to the task that carried it."""

    def __init__(
        self,
        failure_threshold: int = 5,
        open_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        """closed, open (failing fast) or half_open (one trial request allowed)."""
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at < self.open_seconds:
            return "open"
        return "half_open"

    def admit(self) -> bool | None:
        """None: refused (open, or half-open with the trial running). Otherwise whether
        the request admitted is the half-open trial (pass it to record/release)."""
        state = self.state
        if state == "closed":
            return False
        if state == "half_open" and not self._trial_running:
            self._trial_running = True
            return True
        return None

    def release(self, trial: bool) -> None:
        """An admitted request ended without an outcome: the next one may be the trial."""
        if trial:
            self._trial_running = False

    def record(self, ok: bool, trial: bool = False) -> None:
        """The outcome of an admitted request: `ok` closes, a failure counts (or reopens)."""
        self.release(trial)
        if ok:
            self.failures = 0
            self.opened_at = None
            return
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.failure_threshold:
            self.opened_at = self.clock()


class CircuitBreakers:
    """One breaker per subgraph name; outlives routers swapped in by a reload, as long
    as the subgraph keeps its URL (`follow`)."""

    def __init__(self, failure_threshold: int = 5, open_seconds: float = 10.0) -> None:
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self._breakers: dict[str, CircuitBreaker] = {}
        self._urls: dict[str, str] = {}

    def follow(self, urls: Mapping[str, str]) -> None:
        """The subgraphs are now served at `urls`: forget the breakers of those that
        moved or vanished (their failures said nothing about the new server)."""
        for name in list(self._breakers):
            if self._urls.get(name) != urls.get(name):
                del self._breakers[name]
        self._urls = dict(urls)

    def get(self, service: str) -> CircuitBreaker:
        """The breaker of `service`, made on first use."""
        breaker = self._breakers.get(service)
        if breaker is None:
            breaker = CircuitBreaker(self.failure_threshold, self.open_seconds)
            self._breakers[service] = breaker
        return breaker

    def states(self) -> dict[str, str]:
        """Each known subgraph's breaker state: closed, open or half_open."""
        return {name: breaker.state for name, breaker in self._breakers.items()}


class FetchObserver(Protocol):
    """Sees every subgraph fetch (metrics, tracing)."""

    def started(self, service: str, url: str, headers: dict[str, str]) -> Any:
        """Called before a fetch; may add headers (trace context). Returns a token."""
        ...

    def finished(
        self, token: Any, service: str, seconds: float, outcome: str, status: int | None
    ) -> None:
        """`outcome` is "ok" or the error code the fetch failed with."""
        ...


Propagate = Callable[[str, Mapping[str, str] | None], Mapping[str, str]]


@dataclass(frozen=True)
class SubgraphClientSettings:
    """Everything a `SubgraphClient` is built with besides its URLs and HTTP client: the
    policies and bounds from configuration, and the app-wide objects every router of an
    app shares across reloads (circuit breakers, header propagation, the fetch observer)."""

    default_policy: SubgraphPolicy = SubgraphPolicy()
    policies: Mapping[str, SubgraphPolicy] = field(default_factory=dict)
    # Identical queries in flight at the same time (same subgraph, body and headers)
    # share one HTTP call; each caller parses its own copy of the answer.
    deduplicate: bool = True
    # bounds of the pool the client makes when it is given none
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    breakers: CircuitBreakers | None = None
    propagate: Propagate | None = None
    observer: FetchObserver | None = None


class SubgraphFetcher(Protocol):
    """What the router needs of a subgraph client: its URLs (readiness probes), one
    GraphQL request, and closing."""

    urls: Mapping[str, str]

    async def request(
        self,
        service: str,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        idempotent: bool = False,
        received: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """The subgraph's decoded response; raises SubgraphRequestError when there is none.
        `received` (traced requests only) is told the size of the answer's body in bytes."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class SubgraphClient:
    """GraphQL requests to subgraphs by name: policies, retries, circuit breakers,
    deduplication of identical queries, header propagation and an observer."""

    def __init__(
        self,
        urls: Mapping[str, str],
        settings: SubgraphClientSettings | None = None,
        *,
        client: SubgraphHttp | httpx.AsyncClient | None = None,
    ) -> None:
        """`client`: the HTTP client to use, left open by `aclose` (the router's pooled
        one, or any httpx client); without it the client pools its own, built from
        `settings` and closed with it."""
        settings = settings or SubgraphClientSettings()
        self.urls = dict(urls)
        self.settings = settings
        self.deduplicated = 0
        self._inflight: dict[tuple[Any, ...], asyncio.Future[bytes]] = {}
        self._own_client = client is None
        if client is None:
            client = SubgraphHttp.pooled(
                settings.default_policy.timeout,
                max_connections=settings.max_connections,
                max_response_bytes=settings.max_response_bytes,
            )
        elif isinstance(client, httpx.AsyncClient):
            client = SubgraphHttp(client)
        self.http = client
        self.client = client.client
        self.transport = client.transport

    def policy(self, service: str) -> SubgraphPolicy:
        """How requests to `service` behave (its own policy or the default)."""
        return self.settings.policies.get(service, self.settings.default_policy)

    def _headers(self, service: str, headers: Mapping[str, str] | None) -> dict[str, str]:
        # not checked here: the transport refuses what it cannot write (InvalidHeader)
        propagate = self.settings.propagate
        if propagate is not None:
            return {**JSON_HEADERS, **propagate(service, headers)}
        return {**JSON_HEADERS, **headers} if headers else dict(JSON_HEADERS)

    async def request(
        self,
        service: str,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        idempotent: bool = False,
        received: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """POST one GraphQL request; `idempotent` requests (queries) may be retried, and
        share one call with an identical one in flight. `received` is told the size of
        the answer's body (a traced request's fetch)."""
        url = self.urls.get(service)
        if not url:
            raise SubgraphRequestError(service, f"no URL known for subgraph '{service}'")
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        if operation_name:
            body["operationName"] = operation_name
        send_headers = self._headers(service, headers)
        content = orjson.dumps(body)
        if not (idempotent and self.settings.deduplicate):
            payload, raw = await self._observed(service, url, content, send_headers, idempotent)
        else:
            key = (
                service,
                content,
                tuple(kv for kv in send_headers.items() if kv[0].lower() not in _PER_REQUEST),
            )
            running = self._inflight.get(key)
            if running is None:
                payload, raw = await self._shared(key, service, url, content, send_headers)
            else:
                self.deduplicated += 1
                raw = await asyncio.shield(running)
                payload = orjson.loads(raw)
        if received is not None:
            received(len(raw))
        return payload

    async def _shared(
        self,
        key: tuple[Any, ...],
        service: str,
        url: str,
        content: bytes,
        headers: dict[str, str],
    ) -> tuple[dict[str, Any], bytes]:
        """The call identical queries arriving meanwhile wait for (under `key`): the
        parsed answer and its bytes."""
        shared: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        shared.add_done_callback(_retrieve)
        self._inflight[key] = shared
        try:
            payload, raw = await self._observed(service, url, content, headers, True)
        except SubgraphRequestError as error:
            shared.set_exception(error)
            raise
        except BaseException:
            if not shared.done():
                shared.set_exception(
                    SubgraphRequestError(service, f"request to subgraph '{service}' was cancelled")
                )
            raise
        finally:
            self._inflight.pop(key, None)
        shared.set_result(raw)
        return payload, raw

    async def _observed(
        self, service: str, url: str, content: bytes, headers: dict[str, str], idempotent: bool
    ) -> tuple[dict[str, Any], bytes]:
        """`_send`, seen by the observer (when there is one): the parsed answer and its bytes."""
        observer = self.settings.observer
        if observer is None:
            payload, _, raw = await self._send(service, url, content, headers, idempotent)
            return payload, raw
        token = observer.started(service, url, headers)
        started = time.perf_counter()
        try:
            payload, status, raw = await self._send(service, url, content, headers, idempotent)
        except SubgraphRequestError as error:
            seconds = time.perf_counter() - started
            observer.finished(token, service, seconds, error.code, error.status)
            raise
        observer.finished(token, service, time.perf_counter() - started, "ok", status)
        return payload, raw

    async def _post(
        self, url: str, content: bytes, headers: dict[str, str], timeout: float
    ) -> httpx.Response | RawResponse:
        if self.transport is not None:
            return await self.transport.post(url, content, headers, timeout)
        # another transport (a client given by the caller) gets the same check as ours
        encode_headers(headers.items())
        return await self.client.post(url, content=content, headers=headers, timeout=timeout)

    async def _attempt(
        self,
        service: str,
        url: str,
        content: bytes,
        headers: dict[str, str],
        timeout: float,
        breaker: CircuitBreaker | None,
    ) -> httpx.Response | RawResponse:
        """One HTTP exchange, with the breaker's say before and its record after."""
        if breaker is None:
            return await self._post(url, content, headers, timeout)
        trial = breaker.admit()
        if trial is None:
            raise SubgraphRequestError(
                service,
                f"subgraph '{service}' is failing; requests to it are paused "
                "(circuit breaker open)",
                code=CIRCUIT_OPEN,
            )
        settled = False
        try:
            response = await self._post(url, content, headers, timeout)
        except InvalidHeader:
            raise  # never sent: says nothing about the subgraph
        except httpx.HTTPError:
            breaker.record(False, trial)
            settled = True
            raise
        finally:
            if not settled:  # success is recorded below; cancellation and the rest release
                breaker.release(trial)
        breaker.record(response.status_code < 500, trial)
        return response

    async def _send(
        self, service: str, url: str, content: bytes, headers: dict[str, str], idempotent: bool
    ) -> tuple[dict[str, Any], int, bytes]:
        """The answer, its status and bytes, after at most `policy.retries` retries of an
        idempotent request that got no answer from a working subgraph: the connection
        failed or closed before a response came (`_no_answer`), a connect timeout, or a
        502/503/504. Some of those may have reached the subgraph, which a query may
        (it changes nothing); a read timeout is not retried, the subgraph may still be
        busy with it."""
        policy = self.policy(service)
        breakers = self.settings.breakers
        breaker = breakers.get(service) if breakers else None
        attempts = 1 + (policy.retries if idempotent else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._attempt(
                    service, url, content, headers, policy.timeout, breaker
                )
            except InvalidHeader as error:
                raise _refused_header(service, error.name, error.reason) from error
            except httpx.HTTPError as error:
                retry = _no_answer(error) or isinstance(error, httpx.ConnectTimeout)
                if retry and not last:
                    await asyncio.sleep(policy.retry_backoff * 2**attempt)
                    continue
                raise _http_failure(service, policy, error) from error
            if response.status_code in _RETRY_STATUSES and not last:
                await asyncio.sleep(policy.retry_backoff * 2**attempt)
                continue
            return _payload(service, response), response.status_code, response.content
        raise AssertionError("unreachable: the last attempt returns or raises")

    @property
    def streams(self) -> bool:
        """Whether `open_stream` can be used (the router's own pooled transport)."""
        return self.transport is not None

    async def open_stream(
        self,
        service: str,
        query: str,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None = None,
    ) -> SubgraphStream:
        """A query whose answer is read as it arrives (never shared with an identical
        one in flight). Retried, as `request` retries, only while no answer has begun;
        the breaker and observer hear of it when the stream is closed."""
        url = self.urls.get(service)
        if not url or self.transport is None:
            raise SubgraphRequestError(service, f"no URL known for subgraph '{service}'")
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        send_headers = self._headers(service, headers)
        content = orjson.dumps(body)
        observer = self.settings.observer
        token = observer.started(service, url, send_headers) if observer is not None else None
        started = time.perf_counter()
        try:
            body_stream = await self._send_stream(service, url, content, send_headers)
        except SubgraphRequestError as error:
            if observer is not None:
                seconds = time.perf_counter() - started
                observer.finished(token, service, seconds, error.code, error.status)
            raise
        return SubgraphStream(self, service, body_stream, token, started)

    async def _send_stream(
        self, service: str, url: str, content: bytes, headers: dict[str, str]
    ) -> BodyStream:
        """`_send`'s retries and errors, up to the response's head."""
        assert self.transport is not None
        policy = self.policy(service)
        breakers = self.settings.breakers
        breaker = breakers.get(service) if breakers else None
        attempts = 1 + policy.retries
        for attempt in range(attempts):
            last = attempt == attempts - 1
            trial = breaker.admit() if breaker is not None else False
            if trial is None:
                raise SubgraphRequestError(
                    service,
                    f"subgraph '{service}' is failing; requests to it are paused "
                    "(circuit breaker open)",
                    code=CIRCUIT_OPEN,
                )
            try:
                stream = await self.transport.open_stream(url, content, headers, policy.timeout)
            except InvalidHeader as error:
                if breaker is not None:
                    breaker.release(bool(trial))
                raise _refused_header(service, error.name, error.reason) from error
            except httpx.HTTPError as error:
                if breaker is not None:
                    breaker.record(False, bool(trial))
                retry = _no_answer(error) or isinstance(error, httpx.ConnectTimeout)
                if retry and not last:
                    await asyncio.sleep(policy.retry_backoff * 2**attempt)
                    continue
                raise _http_failure(service, policy, error) from error
            except BaseException:
                if breaker is not None:
                    breaker.release(bool(trial))
                raise
            if breaker is not None:
                breaker.record(stream.status_code < 500, bool(trial))
            if stream.status_code in _RETRY_STATUSES and not last:
                await stream.aclose()
                await asyncio.sleep(policy.retry_backoff * 2**attempt)
                continue
            return stream
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def aclose(self) -> None:
        """Close the HTTP client if this client made it (a given one is its owner's)."""
        if self._own_client:
            await self.http.aclose()


# Headers that only identify or trace the client request: they do not change the
# subgraph's answer, so they do not keep identical queries from sharing a call.
_PER_REQUEST = frozenset(
    {"x-request-id", "traceparent", "tracestate", "baggage", "x-forwarded-for"}
)


def _refused_header(service: str, name: str, problem: str) -> SubgraphRequestError:
    """The fetch's error for a header the wire cannot carry; the log names the header
    and why, never its value (a token, a claim)."""
    log.warning("refused to send header %r to subgraph '%s': %s", name, service, problem)
    return SubgraphRequestError(
        service,
        f"header '{name}' cannot be sent to subgraph '{service}': {problem}",
        code=INVALID_HEADER,
    )


class SubgraphStream:
    """A subgraph's answer read as it arrives (`SubgraphClient.open_stream`): `read`
    gives its body piece by piece (b"" at the end) and raises SubgraphRequestError
    as a buffered fetch would; `aclose` gives the connection back and tells the
    observer how the fetch ended."""

    def __init__(
        self, client: SubgraphClient, service: str, body: BodyStream, token: Any, started: float
    ) -> None:
        self.service = service
        self.status_code = body.status_code
        self.reason_phrase = body.reason_phrase
        self.headers = body.headers
        self.size = 0  # body bytes read so far
        self._client = client
        self._body = body
        self._token = token
        self._started = started
        self._outcome: tuple[str, int | None] = ("ok", body.status_code)
        self._reported = False

    async def read(self) -> bytes:
        """The next piece of the body, b"" at its end."""
        try:
            data = await self._body.read()
        except httpx.HTTPError as error:
            policy = self._client.policy(self.service)
            failure = _http_failure(self.service, policy, error)
            self._outcome = (failure.code, failure.status)
            raise failure from error
        self.size += len(data)
        return data

    def failed(self, error: SubgraphRequestError) -> None:
        """The answer turned out not to be GraphQL JSON: the observer is told so."""
        self._outcome = (error.code, error.status)

    async def aclose(self) -> None:
        """Release the connection; report the fetch to the observer (once)."""
        await self._body.aclose()
        observer = self._client.settings.observer
        if observer is not None and not self._reported:
            self._reported = True
            seconds = time.perf_counter() - self._started
            observer.finished(self._token, self.service, seconds, *self._outcome)


def _http_failure(
    service: str, policy: SubgraphPolicy, error: httpx.HTTPError
) -> SubgraphRequestError:
    """The fetch error for a transport failure (timeout, oversized answer, the rest)."""
    if isinstance(error, httpx.TimeoutException):
        return SubgraphRequestError(
            service,
            f"request to subgraph '{service}' timed out after {policy.timeout:g} s",
            code=TIMEOUT,
        )
    if isinstance(error, ResponseTooLarge):
        return SubgraphRequestError(
            service,
            f"response {error.part} from subgraph '{service}' is larger than "
            f"{error.limit} bytes",
        )
    return SubgraphRequestError(
        service, f"HTTP fetch failed from '{service}': {type(error).__name__}"
    )


def not_graphql(service: str, status: int, reason: str) -> SubgraphRequestError:
    """The fetch error for an answer that is no GraphQL JSON response."""
    return SubgraphRequestError(
        service, f"HTTP fetch failed from '{service}': {status}: {reason}", status
    )


def _retrieve(future: asyncio.Future[bytes]) -> None:
    """Mark a shared request's failure as seen even when nobody else waited for it."""
    if not future.cancelled():
        future.exception()


def _no_answer(error: httpx.HTTPError) -> bool:
    """The connection was refused or reset, or closed (or sent garbage) before a response."""
    return isinstance(error, httpx.ConnectError | httpx.RemoteProtocolError)


def _payload(service: str, response: httpx.Response | RawResponse) -> dict[str, Any]:
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict) or ("data" not in payload and "errors" not in payload):
        raise not_graphql(service, response.status_code, response.reason_phrase)
    return payload
