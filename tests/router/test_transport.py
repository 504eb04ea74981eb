"""The router's HTTP/1.1 transport against a real socket server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from router.executor.transport import FastHTTPTransport

Responder = Callable[[bytes], bytes | None]


class RawServer:
    """Answers each request with `respond(request_bytes)`; None means: close the socket."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.AbstractServer | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                answer = self.respond(head + body)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n"
        + extra
        + b"\r\n"
        + body
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=FastHTTPTransport(), timeout=2.0) as http:
        yield http


async def test_keep_alive_reuses_one_connection(client):
    server = RawServer(lambda request: ok(b'{"data":{"n":1}}'))
    async with server as base:
        for _ in range(5):
            response = await client.post(f"{base}/graphql", content=b'{"query":"{n}"}')
            assert response.status_code == 200
            assert response.json() == {"data": {"n": 1}}
    assert server.connections == 1
    assert len(server.requests) == 5
    first = server.requests[0]
    assert first.startswith(b"POST /graphql HTTP/1.1\r\n")
    assert first.endswith(b'\r\n\r\n{"query":"{n}"}')
    assert b"\r\nhost: 127.0.0.1:" in first.lower()


async def test_concurrent_requests_use_separate_connections(client):
    server = RawServer(lambda request: ok(b"{}"))
    async with server as base:
        await asyncio.gather(*(client.post(f"{base}/g", content=b"{}") for _ in range(4)))
    assert server.connections == 4


async def test_chunked_response_body(client):
    chunked = (
        b'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n'
    )
    async with RawServer(lambda request: chunked) as base:
        response = await client.post(f"{base}/g", content=b"{}")
    assert response.json() == {"a": 1}


async def test_status_and_headers_are_kept(client):
    answer = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 3\r\ncontent-length: 4\r\n\r\nbusy"
    async with RawServer(lambda request: answer) as base:
        response = await client.post(f"{base}/g", content=b"{}")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "3"
    assert response.content == b"busy"


async def test_stale_keep_alive_connection_is_retried_once(client):
    calls = {"n": 0}

    def respond(request: bytes) -> bytes | None:
        calls["n"] += 1
        # the second request arrives on the kept-alive socket: close it unanswered
        return None if calls["n"] == 2 else ok(b'{"ok":true}')

    server = RawServer(respond)
    async with server as base:
        assert (await client.post(f"{base}/g", content=b"{}")).json() == {"ok": True}
        assert (await client.post(f"{base}/g", content=b"{}")).json() == {"ok": True}
    assert server.connections == 2


async def test_connection_close_header_is_honoured(client):
    server = RawServer(lambda request: ok(b"{}", b"connection: close\r\n"))
    async with server as base:
        await client.post(f"{base}/g", content=b"{}")
        await client.post(f"{base}/g", content=b"{}")
    assert server.connections == 2


async def test_read_timeout_raises_httpx_timeout():
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    server = await asyncio.start_server(never, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with httpx.AsyncClient(transport=FastHTTPTransport(), timeout=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(f"http://127.0.0.1:{port}/g", content=b"{}")
    server.close()


async def test_refused_connection_raises_connect_error(client):
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(httpx.ConnectError):
        await client.post(f"http://127.0.0.1:{port}/g", content=b"{}")


async def test_malformed_response_is_a_protocol_error(client):
    async with RawServer(lambda request: b"NOT HTTP AT ALL\r\n\r\n") as base:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(f"{base}/g", content=b"{}")


async def test_the_router_uses_this_transport_for_subgraph_calls(tmp_path):
    """Guards docs/performance.md's main fix: httpx's default pool costs ~8x more CPU."""
    from router.commands.router import build_app
    from router.executor.fetcher import SubgraphClient
    from tests.router.conftest import scenario

    client = SubgraphClient({"a": "http://127.0.0.1:9/graphql"})
    assert isinstance(client.transport, FastHTTPTransport)
    await client.aclose()
    app = build_app({"supergraph": str(scenario("keys-single").supergraph_path)})
    assert isinstance(app.router.client.transport, FastHTTPTransport)
    await app.router.aclose()


async def test_direct_post_path_sends_headers_and_reuses_the_connection():
    server = RawServer(lambda request: ok(b'{"data":{"ok":true}}'))
    transport = FastHTTPTransport()
    async with server as base:
        for _ in range(3):
            response = await transport.post(
                f"{base}/graphql", b'{"query":"{ok}"}', {"authorization": "Bearer t"}, 2.0
            )
            assert response.status_code == 200
            assert response.content == b'{"data":{"ok":true}}'
            assert response.reason_phrase == "OK"
    await transport.aclose()
    assert server.connections == 1
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /graphql HTTP/1.1"
    assert b"authorization: Bearer t" in lines
    assert b"content-length: 16" in lines
    assert body == b'{"query":"{ok}"}'


async def test_direct_post_timeout_and_refusal_raise_httpx_errors():
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    server = await asyncio.start_server(never, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = FastHTTPTransport()
    with pytest.raises(httpx.ReadTimeout):
        await transport.post(f"http://127.0.0.1:{port}/g", b"{}", {}, 0.2)
    server.close()
    await server.wait_closed()
    with pytest.raises(httpx.ConnectError):
        await transport.post(f"http://127.0.0.1:{port}/g", b"{}", {}, 0.2)
    await transport.aclose()
