"""Issue 10, findings 4, 5 and 12: what one subgraph or one forwarded header can cost.

The transport never writes an invalid header, caps its connections per origin, bounds
the response it reads (compressed or not) and times out a body that trickles; an HTTPS
connect timeout is a connect timeout; the circuit breaker's trial request is released
however it ends, and a reload forgets breakers of subgraphs that moved or went away.
Real sockets throughout (raw asyncio servers, TLS with a certificate made by the test,
echo subgraphs)."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import json
import logging
import ssl
import tempfile
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from router import Router
from router.config import ConfigError, RouterConfig, parse_config
from router.executor.fetcher import (
    CircuitBreakers,
    SubgraphClient,
    SubgraphClientSettings,
    SubgraphPolicy,
    SubgraphRequestError,
)
from router.executor.transport import (
    FastHTTPTransport,
    InvalidHeader,
    RawResponse,
    ResponseTooLarge,
)
from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
SECRET = "transport-test-secret-of-sufficient-length-0123"
BOTH = "{ alphaHeaders betaHeaders }"
OK = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"data":{}}'


class Wire:
    """What a raw server saw: connections opened, peak concurrency, request heads."""

    def __init__(self) -> None:
        self.connections = 0
        self.open = 0
        self.peak = 0
        self.heads: list[bytes] = []


@asynccontextmanager
async def raw_server(
    handle: Handler, context: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[str, Wire]]:
    """An asyncio server on loopback (TLS with `context`): `handle` runs once per request
    received."""
    wire = Wire()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        wire.connections += 1
        wire.open += 1
        wire.peak = max(wire.peak, wire.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                wire.heads.append(head)
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                await handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            wire.open -= 1
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/graphql", wire
    finally:
        server.close()


async def answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(OK)
    await writer.drain()


async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


class Records(logging.Handler):
    """Log lines as their level and message (arguments filled in)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


def _token(claims: dict[str, Any]) -> str:
    payload = {"sub": "user-1", "exp": int(time.time()) + 60, **claims}
    return jwt.encode(payload, SECRET, algorithm="HS256")


# -- headers ----------------------------------------------------------------------------

BAD_HEADERS = [
    pytest.param("x-note", "a\r\nx-admin: yes", "CR, LF, NUL", id="crlf-value"),
    pytest.param("x-note", "a\nx-admin: yes", "CR, LF, NUL", id="lf-value"),
    pytest.param("x-note", "a\x00b", "CR, LF, NUL", id="nul-value"),
    pytest.param("x-note", "Łukasz 日本", "outside latin-1", id="non-latin-1-value"),
    pytest.param("x note", "1", "not an HTTP token", id="space-in-name"),
    pytest.param("x-a:\r\nx-b", "1", "not an HTTP token", id="crlf-in-name"),
]


@pytest.mark.parametrize(("name", "value", "reason"), BAD_HEADERS)
async def test_direct_post_never_writes_an_invalid_header(name: str, value: str, reason: str):
    transport = FastHTTPTransport()
    async with raw_server(answer_ok) as (url, wire):
        with pytest.raises(InvalidHeader) as caught:
            await transport.post(url, b"{}", {name: value}, 2.0)
    await transport.aclose()
    assert caught.value.name == name
    assert reason in caught.value.reason
    assert value not in str(caught.value)
    assert wire.connections == 0 and wire.heads == []


@pytest.mark.parametrize(("name", "value", "reason"), BAD_HEADERS[:3])
async def test_httpx_client_path_never_writes_an_invalid_header(name: str, value: str, reason: str):
    async with (
        raw_server(answer_ok) as (url, wire),
        httpx.AsyncClient(transport=FastHTTPTransport(), timeout=2.0) as client,
    ):
        with pytest.raises(InvalidHeader):
            await client.post(url, content=b"{}", headers={name: value})
    assert wire.heads == []


async def test_valid_latin1_header_values_still_go_through():
    transport = FastHTTPTransport()
    async with raw_server(answer_ok) as (url, wire):
        response = await transport.post(url, b"{}", {"x-name": "Jos\u00e9\tM."}, 2.0)
    await transport.aclose()
    assert response.status_code == 200
    assert b"\r\nx-name: Jos\xe9\tM.\r\n" in wire.heads[0]


def _claim_config(claim: str = "name") -> dict[str, Any]:
    return {
        "auth": {"jwt": {"secret": SECRET}},
        "headers": [{"propagate": "x-request-id"}, {"insert": "x-user-name", "from_claim": claim}],
    }


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("alice\r\nx-admin: true", "the value contains CR, LF, NUL or another control character"),
        ("\u0141ukasz \u65e5\u672c", "the value has characters outside latin-1"),
    ],
    ids=["crlf", "non-latin-1"],
)
async def test_a_hostile_claim_header_is_refused_per_fetch_never_sent(
    echo: EchoSubgraphs, claim: str, reason: str
):
    headers = {"authorization": f"Bearer {_token({'name': claim})}"}
    fetch_log = logging.getLogger("shopgraph.router.fetch")
    records = Records()
    # on the logger itself: another test may have stopped "shopgraph" propagating
    fetch_log.addHandler(records)
    level = fetch_log.level
    fetch_log.setLevel(logging.WARNING)
    try:
        async with serve(echo, _claim_config()) as (client, _):
            response = await client.post("/graphql", json={"query": BOTH}, headers=headers)
    finally:
        fetch_log.removeHandler(records)
        fetch_log.setLevel(level)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "data": {"alphaHeaders": None, "betaHeaders": None},
        "errors": [
            {
                "message": f"header 'x-user-name' cannot be sent to subgraph '{name}': {reason}",
                "path": [f"{name}Headers"],
                "extensions": {"code": "SUBREQUEST_INVALID_HEADER", "serviceName": name},
            }
            for name in ("alpha", "beta")
        ],
    }
    assert echo.behaviour["alpha"].requests == [] and echo.behaviour["beta"].requests == []
    assert sorted(records.lines) == [
        f"WARNING refused to send header 'x-user-name' to subgraph '{name}': {reason}"
        for name in ("alpha", "beta")
    ]


async def test_a_plain_claim_header_still_reaches_the_subgraph(echo: EchoSubgraphs):
    headers = {"authorization": "Bearer " + _token({"name": "Jos\u00e9"})}
    async with serve(echo, _claim_config()) as (client, _):
        body = (
            await client.post("/graphql", json={"query": "{ betaHeaders }"}, headers=headers)
        ).json()
    assert "errors" not in body
    assert json.loads(body["data"]["betaHeaders"])["x-user-name"] == "Jos\u00e9"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"insert": "x user", "value": "1"}, "headers[0].insert: the name is not an HTTP token"),
        ({"propagate": "a:b"}, "headers[0].propagate: the name is not an HTTP token"),
        (
            {"propagate": "x-a", "rename": "x\r\nb"},
            "headers[0].rename: the name is not an HTTP token",
        ),
        ({"remove": ""}, "headers[0].remove: the name is not an HTTP token"),
        (
            {"insert": "x-a", "value": "1\r\nx-b: 2"},
            "headers[0].value: the value contains CR, LF, NUL or another control character",
        ),
        (
            {"propagate": "x-a", "default": "\u65e5"},
            "headers[0].default: the value has characters outside latin-1",
        ),
    ],
)
def test_header_rules_with_invalid_names_or_values_are_config_errors(rule, message):
    with pytest.raises(ConfigError) as caught:
        parse_config({"headers": [rule]})
    assert str(caught.value) == message
    with pytest.raises(ConfigError) as caught:
        parse_config({"subgraphs": {"beta": {"headers": [rule]}}})
    assert str(caught.value) == f"subgraphs.beta.{message}"


# -- connections, size, time ------------------------------------------------------------


async def test_connections_per_origin_are_capped():
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.1)
        await answer_ok(reader, writer)

    transport = FastHTTPTransport(max_connections=3)
    async with raw_server(slow) as (url, wire):
        responses = await asyncio.gather(*(transport.post(url, b"{}", {}, 5.0) for _ in range(12)))
    await transport.aclose()
    assert [r.status_code for r in responses] == [200] * 12
    assert wire.connections == 3 and wire.peak == 3
    assert len(wire.heads) == 12


async def test_queued_requests_reuse_connections_instead_of_reopening():
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.05)
        await answer_ok(reader, writer)

    transport = FastHTTPTransport(max_idle_per_origin=1, max_connections=4)
    async with raw_server(slow) as (url, wire):
        await asyncio.gather(*(transport.post(url, b"{}", {}, 5.0) for _ in range(20)))
    await transport.aclose()
    assert wire.connections == 4 and len(wire.heads) == 20


async def test_waiting_for_a_connection_counts_against_the_timeout():
    transport = FastHTTPTransport(max_connections=1)
    async with raw_server(hang) as (url, wire):
        first = asyncio.create_task(transport.post(url, b"{}", {}, 30.0))
        await asyncio.sleep(0.05)
        match = "timed out waiting for a free connection to the subgraph"
        with pytest.raises(httpx.PoolTimeout, match=match):
            await transport.post(url, b"{}", {}, 0.3)
        # the slot was never freed: the second request gave up while still queued
        slot_still_held = not first.done()
        first.cancel()
    await transport.aclose()
    assert slot_still_held
    assert wire.connections == 1 and len(wire.heads) == 1


async def test_a_cancelled_request_gives_its_connection_slot_back():
    calls = {"n": 0}

    async def first_hangs(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            await asyncio.sleep(30)
        await answer_ok(reader, writer)

    transport = FastHTTPTransport(max_connections=1)
    async with raw_server(first_hangs) as (url, _):
        stuck = asyncio.create_task(transport.post(url, b"{}", {}, 30.0))
        queued = asyncio.create_task(transport.post(url, b"{}", {}, 30.0))
        await asyncio.sleep(0.1)
        queued.cancel()  # cancelled while waiting for the slot
        stuck.cancel()  # cancelled while holding it
        await asyncio.gather(stuck, queued, return_exceptions=True)
        response = await transport.post(url, b"{}", {}, 1.0)
    await transport.aclose()
    assert response.status_code == 200


async def test_an_endless_body_is_cut_at_the_size_bound():
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
        while True:
            writer.write(chunk)
            await writer.drain()

    transport = FastHTTPTransport(max_response_bytes=1024 * 1024)
    async with raw_server(endless) as (url, _):
        # cut at the bound, not read until the 30 s timeout (that would be a ReadTimeout)
        with pytest.raises(ResponseTooLarge, match="response body larger than 1048576 bytes"):
            await transport.post(url, b"{}", {}, 30.0)
    await transport.aclose()


async def test_a_declared_oversized_body_is_refused_before_it_is_read():
    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10485760\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(30)

    transport = FastHTTPTransport(max_response_bytes=1024 * 1024)
    async with raw_server(huge) as (url, _):
        # no body byte ever comes: waiting for one would end in a ReadTimeout instead
        with pytest.raises(ResponseTooLarge, match="response body larger than 1048576 bytes"):
            await transport.post(url, b"{}", {}, 10.0)
    await transport.aclose()


async def test_an_endless_response_head_is_refused():
    async def endless_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nx-long: ")
        while True:
            writer.write(b"a" * 65536)
            await writer.drain()

    transport = FastHTTPTransport()
    async with raw_server(endless_head) as (url, _):
        with pytest.raises(ResponseTooLarge, match="response head larger than 65536 bytes"):
            await transport.post(url, b"{}", {}, 10.0)
    await transport.aclose()


async def test_a_trickling_body_times_out_within_the_timeout():
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
        while True:
            writer.write(b"x" * 10)
            await writer.drain()
            await asyncio.sleep(0.05)

    transport = FastHTTPTransport()
    async with raw_server(trickle) as (url, _):
        # Ten bytes every 50 ms never let a per-read timeout fire (the 100,000-byte body
        # would take 500 s): only a deadline over the whole exchange ends it like this.
        # wait_for is a liveness guard so a regression fails instead of hanging (its
        # TimeoutError is not an httpx.ReadTimeout); it is no performance target.
        with pytest.raises(httpx.ReadTimeout, match="timed out waiting for the response"):
            await asyncio.wait_for(transport.post(url, b"{}", {}, 0.5), timeout=30)
    await transport.aclose()


async def test_traffic_limits_from_the_config_reach_the_transport(echo: EchoSubgraphs):
    config = {"traffic": {"max_subgraph_response_bytes": 64, "max_connections_per_origin": 7}}
    async with serve(echo, config) as (client, app):
        body = (await client.post("/graphql", json={"query": "{ betaHeaders }"})).json()
        transport = app.router.client.transport
        assert isinstance(transport, FastHTTPTransport)
        assert (transport.max_connections, transport.max_response_bytes) == (7, 64)
    assert body == {
        "data": {"betaHeaders": None},
        "errors": [
            {
                "message": "response body from subgraph 'beta' is larger than 64 bytes",
                "path": ["betaHeaders"],
                "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "beta"},
            }
        ],
    }


def test_default_subgraph_timeout_is_ten_seconds():
    assert RouterConfig().traffic.subgraph_timeout == 10.0
    assert SubgraphPolicy().timeout == 10.0
    client = SubgraphClient({"a": "http://127.0.0.1:9/graphql"})
    assert client.policy("a").timeout == 10.0
    assert client.client.timeout.read == 10.0


# -- circuit breaker --------------------------------------------------------------------


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_a_cancelled_trial_request_does_not_leave_the_circuit_open(echo: EchoSubgraphs):
    behaviour = echo.behaviour["beta"]
    breakers = CircuitBreakers(failure_threshold=1, open_seconds=0.2)
    client = SubgraphClient(
        {"beta": echo.url("beta")},
        SubgraphClientSettings(breakers=breakers, deduplicate=False),
    )
    try:
        behaviour.mode = "status"
        with pytest.raises(Exception, match="500"):
            await client.request("beta", "{ betaHeaders }", None, idempotent=True)
        assert breakers.states() == {"beta": "open"}
        await asyncio.sleep(0.25)
        assert breakers.states() == {"beta": "half_open"}

        behaviour.mode = "hang"  # the trial request hangs; its client goes away
        trial = asyncio.create_task(client.request("beta", "{ betaHeaders }", None))
        await _until(lambda: len(behaviour.requests) == 2)
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial

        behaviour.mode = "ok"
        answer = await client.request("beta", "{ betaHeaders }", None)
    finally:
        await client.aclose()
    assert "betaHeaders" in answer["data"]
    assert breakers.states() == {"beta": "closed"}
    assert len(behaviour.requests) == 3


async def test_a_reload_resets_breakers_of_moved_or_vanished_subgraphs(echo: EchoSubgraphs):
    moved = EchoSubgraphs("alpha", "beta")
    only_alpha = EchoSubgraphs("alpha")
    for subgraphs in (echo, moved):
        subgraphs.behaviour["alpha"].mode = subgraphs.behaviour["beta"].mode = "status"
    config = {"traffic": {"retries": 0, "circuit_breaker": {"failure_threshold": 1}}}
    try:
        async with serve(echo, config) as (client, app):
            await client.post("/graphql", json={"query": BOTH})
            assert app.breakers is not None
            assert app.breakers.states() == {"alpha": "open", "beta": "open"}

            # beta moves to another server; alpha keeps its URL and its open circuit
            urls = {"alpha": echo.url("alpha"), "beta": moved.url("beta")}
            app.swap(echo.router(urls))
            body = (await client.post("/graphql", json={"query": BOTH})).json()
            codes = [error["extensions"]["code"] for error in body["errors"]]
            assert codes == ["SUBREQUEST_CIRCUIT_OPEN", "SUBREQUEST_HTTP_ERROR"]
            assert len(moved.behaviour["beta"].requests) == 1
            assert len(echo.behaviour["alpha"].requests) == 1

            # beta vanishes from the supergraph: its breaker goes with it
            app.swap(Router.from_supergraph(only_alpha.supergraph({"alpha": echo.url("alpha")})))
            assert app.breakers.states() == {"alpha": "open"}
    finally:
        moved.close()
        only_alpha.close()


# -- HTTPS: connect timeouts ------------------------------------------------------------


def _self_signed() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A certificate for 127.0.0.1 made for this test: (server context, client context)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    folder = Path(tempfile.mkdtemp(prefix="sgtls-"))
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key_pem)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return _self_signed()


@asynccontextmanager
async def tls_server(
    handle: Handler, context: ssl.SSLContext | None
) -> AsyncIterator[tuple[str, Wire]]:
    """`raw_server` behind TLS; with no context, a TCP server that accepts and never says
    a word, so a TLS handshake with it never completes."""
    wire = Wire()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        wire.connections += 1
        try:
            while await reader.read(65536):  # the ClientHello, unanswered, until it hangs up
                pass
        except ConnectionError:
            pass
        writer.close()

    if context is None:
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"https://127.0.0.1:{port}/graphql", wire
        finally:
            server.close()
        return
    async with raw_server(handle, context) as (url, inner):
        yield url.replace("http://", "https://"), inner


async def test_an_https_handshake_that_never_completes_is_a_connect_timeout():
    transport = FastHTTPTransport()
    async with tls_server(hang, None) as (url, wire):
        with pytest.raises(httpx.ConnectTimeout, match="timed out connecting"):
            await asyncio.wait_for(transport.post(url, b"{}", {}, 0.3), timeout=30)
    await transport.aclose()
    assert wire.connections == 1


async def test_an_https_connect_timeout_is_retried_like_any_other():
    client = SubgraphClient(
        {"a": ""},
        SubgraphClientSettings(
            default_policy=SubgraphPolicy(timeout=0.3, retries=2, retry_backoff=0.01),
            deduplicate=False,
        ),
    )
    async with tls_server(hang, None) as (url, wire):
        client.urls["a"] = url
        with pytest.raises(SubgraphRequestError) as caught:
            await client.request("a", "{ a }", None, idempotent=True)
    await client.aclose()
    assert caught.value.code == "SUBREQUEST_TIMEOUT"
    # never connected, so never reached the subgraph: the two retries were made
    assert wire.connections == 3


async def test_an_https_subgraph_that_never_answers_is_a_read_timeout(tls):
    server_context, client_context = tls
    transport = FastHTTPTransport(ssl_context=client_context)
    async with tls_server(hang, server_context) as (url, wire):
        with pytest.raises(httpx.ReadTimeout, match="timed out waiting for the response"):
            await asyncio.wait_for(transport.post(url, b"{}", {}, 0.5), timeout=30)
    await transport.aclose()
    assert len(wire.heads) == 1


# -- content codings ----------------------------------------------------------------------

BIG_JSON = b'{"data":{"x":"' + b"0" * (10 * 1024 * 1024) + b'"}}'
GZIP_BOMB = gzip.compress(BIG_JSON, compresslevel=9)
SMALL_JSON = b'{"data":{"x":"' + b"ok " * 100 + b'"}}'


def encoded(body: bytes, coding: str) -> Handler:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            f"content-encoding: {coding}\r\ncontent-length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()

    return answer


async def _post_each_way(
    url: str, limit: int, client_context: ssl.SSLContext | None
) -> list[httpx.Response | RawResponse | Exception]:
    """The same POST through the router's direct call and through an httpx client."""
    transport = FastHTTPTransport(max_response_bytes=limit, ssl_context=client_context)
    outcomes: list[httpx.Response | RawResponse | Exception] = []
    async with httpx.AsyncClient(transport=transport, timeout=10.0) as client:
        for post in (
            lambda: transport.post(url, b"{}", {}, 10.0),
            lambda: client.post(url, content=b"{}"),
        ):
            try:
                outcomes.append(await post())
            except (ResponseTooLarge, httpx.DecodingError) as error:
                outcomes.append(error)
    return outcomes


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_a_compressed_answer_is_bounded_once_decoded(scheme: str, tls):
    server_context, client_context = tls if scheme == "https" else (None, None)
    assert len(GZIP_BOMB) < 11_000  # 10 MiB of JSON in about 10 KB
    async with raw_server(encoded(GZIP_BOMB, "gzip"), server_context) as (url, _):
        url = url.replace("http://", f"{scheme}://")
        outcomes = await _post_each_way(url, 1024 * 1024, client_context)
    assert [str(error) for error in outcomes] == [
        "response body (decoded) larger than 1048576 bytes"
    ] * 2
    assert all(isinstance(error, ResponseTooLarge) for error in outcomes)


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("coding", ["gzip", "deflate", "identity"])
async def test_a_compressed_answer_within_the_bound_is_decoded(scheme: str, coding: str, tls):
    server_context, client_context = tls if scheme == "https" else (None, None)
    body = {
        "gzip": gzip.compress(SMALL_JSON),
        "deflate": zlib.compress(SMALL_JSON),
        "identity": SMALL_JSON,
    }[coding]
    async with raw_server(encoded(body, coding), server_context) as (url, _):
        url = url.replace("http://", f"{scheme}://")
        outcomes = await _post_each_way(url, len(SMALL_JSON), client_context)
    for response in outcomes:
        assert isinstance(response, httpx.Response | RawResponse), response
        assert response.content == SMALL_JSON
        names = [
            name.lower()
            for name, _ in (
                response.headers.raw if isinstance(response, httpx.Response) else response.headers
            )
        ]
        assert b"content-encoding" not in names


async def test_codings_on_repeated_header_lines_are_all_undone():
    twice = gzip.compress(zlib.compress(SMALL_JSON))

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (
            "HTTP/1.1 200 OK\r\ncontent-encoding: deflate\r\ncontent-encoding: gzip\r\n"
            f"content-length: {len(twice)}\r\n\r\n"
        )
        writer.write(head.encode() + twice)
        await writer.drain()

    async with raw_server(answer) as (url, _):
        outcomes = await _post_each_way(url, 1024 * 1024, None)
    assert [getattr(response, "content", response) for response in outcomes] == [SMALL_JSON] * 2


async def test_a_coding_that_cannot_be_bounded_is_refused():
    async with raw_server(encoded(b"\x0b\x02\x80ok\x03", "br")) as (url, _):
        outcomes = await _post_each_way(url, 1024, None)
    assert [str(error) for error in outcomes] == [
        "response content-encoding 'br' is not supported"
    ] * 2


async def test_the_router_asks_subgraphs_for_uncompressed_answers(echo: EchoSubgraphs):
    async with serve(echo) as (client, _):
        await client.post("/graphql", json={"query": "{ betaHeaders }"})
    [seen] = echo.behaviour["beta"].requests
    assert seen["accept-encoding"] == "identity"


async def test_a_compressed_bomb_fails_only_its_fetch():
    client = SubgraphClient(
        {"a": ""},
        SubgraphClientSettings(
            deduplicate=False, max_connections=100, max_response_bytes=1024 * 1024
        ),
    )
    async with raw_server(encoded(GZIP_BOMB, "gzip")) as (url, _):
        client.urls["a"] = url
        with pytest.raises(SubgraphRequestError) as caught:
            await client.request("a", "{ a }", None)
    await client.aclose()
    assert (caught.value.code, caught.value.message) == (
        "SUBREQUEST_HTTP_ERROR",
        "response body (decoded) from subgraph 'a' is larger than 1048576 bytes",
    )


# -- one header check, made by the transport --------------------------------------------


async def test_a_client_with_another_transport_refuses_bad_headers_the_same_way():
    records = Records()
    fetch_log = logging.getLogger("shopgraph.router.fetch")
    fetch_log.addHandler(records)
    breakers = CircuitBreakers(failure_threshold=1)
    async with raw_server(answer_ok) as (url, wire), httpx.AsyncClient() as plain:
        client = SubgraphClient({"a": url}, SubgraphClientSettings(breakers=breakers), client=plain)
        try:
            with pytest.raises(SubgraphRequestError) as caught:
                await client.request("a", "{ a }", None, headers={"x-name": "\u65e5"})
        finally:
            fetch_log.removeHandler(records)
    assert (caught.value.code, caught.value.message) == (
        "SUBREQUEST_INVALID_HEADER",
        "header 'x-name' cannot be sent to subgraph 'a': the value has characters outside latin-1",
    )
    assert wire.connections == 0
    # nothing was sent, so nothing is held against the subgraph
    assert breakers.states() == {"a": "closed"}
    assert records.lines == [
        "WARNING refused to send header 'x-name' to subgraph 'a': "
        "the value has characters outside latin-1"
    ]
