"""The playground's static files over real HTTP (hypercorn on a socket): gzip when the
client allows it, strong ETags and 304s, a year of immutable caching for the hashed URLs
the page writes, revalidation for everything else, identity for clients without gzip."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import re
import socket
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from router.config import parse_config
from router.playground import STATIC_DIR, assets
from router.server import create_app
from tests.server.echo_subgraph import EchoSubgraphs

IMMUTABLE = "public, max-age=31536000, immutable"
GRAPHIQL = "graphiql.min.js"
GRAPHIQL_BYTES = (STATIC_DIR / GRAPHIQL).read_bytes()
GRAPHIQL_GZIP = gzip.compress(GRAPHIQL_BYTES, compresslevel=9, mtime=0)


def _tag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def http_router(echo: EchoSubgraphs) -> AsyncIterator[httpx.AsyncClient]:
    """The router app behind hypercorn on a local port, and a client for it."""
    app = create_app(echo.router(), config=parse_config({}))
    config = Config()
    port = _free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    server = asyncio.create_task(hypercorn_serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as client:
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            try:
                await client.get("/health")
                break
            except httpx.TransportError:
                assert asyncio.get_running_loop().time() < deadline, "router did not start"
                await asyncio.sleep(0.02)
        yield client
    stop.set()
    await server
    await app.router.aclose()


async def _raw(client: httpx.AsyncClient, url: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as on the wire (not decoded by httpx)."""
    async with client.stream("GET", url, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return response, body


def _asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/playground/static/[^"]+)"', page)


async def test_the_page_names_each_file_by_its_own_hash_and_is_never_cached(echo: EchoSubgraphs):
    async with http_router(echo) as client:
        page = await client.get("/playground", headers={"accept-encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-cache"
    urls = _asset_urls(page.text)
    names = [url.partition("?")[0].removeprefix("/playground/static/") for url in urls]
    assert names == [
        "graphiql.min.css",
        "playground.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "plan-diagram.js",
        "trace-waterfall.js",
        "playground.js",
    ]
    for url in urls:
        path, _, version = url.partition("?v=")
        name = path.removeprefix("/playground/static/")
        assert version == _tag((STATIC_DIR / name).read_bytes()), url


async def test_graphiql_goes_out_gzipped_with_exact_headers(echo: EchoSubgraphs):
    url = f"/playground/static/{GRAPHIQL}?v={_tag(GRAPHIQL_BYTES)}"
    async with http_router(echo) as client:
        response, wire = await _raw(client, url, **{"accept-encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    headers = dict(response.headers)
    headers.pop("date"), headers.pop("server"), headers.pop("x-request-id")
    assert headers == {
        "content-type": "text/javascript; charset=utf-8",
        "content-length": str(len(GRAPHIQL_GZIP)),
        "content-encoding": "gzip",
        "etag": f'"{_tag(GRAPHIQL_GZIP)}"',
        "cache-control": IMMUTABLE,
        "vary": "accept-encoding",
    }
    assert gzip.decompress(wire) == GRAPHIQL_BYTES
    # 3,513,580 bytes on disk; 728,483 on the wire with this machine's zlib (gzip -9); the
    # exact size depends on the zlib build, so only the bytes sent are pinned here
    assert wire == GRAPHIQL_GZIP
    assert len(wire) < len(GRAPHIQL_BYTES) // 4


@pytest.mark.parametrize("accept", [None, "identity", "gzip;q=0", "br", "gzip;q=0, *"])
async def test_clients_without_gzip_get_the_plain_file(echo: EchoSubgraphs, accept: str | None):
    url = f"/playground/static/{GRAPHIQL}?v={_tag(GRAPHIQL_BYTES)}"
    async with http_router(echo) as client:
        headers = {} if accept is None else {"accept-encoding": accept}
        if accept is None:
            client.headers.pop("accept-encoding")
        response, wire = await _raw(client, url, **headers)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(GRAPHIQL_BYTES))
    assert response.headers["etag"] == f'"{_tag(GRAPHIQL_BYTES)}"'
    assert response.headers["vary"] == "accept-encoding"
    assert response.headers["cache-control"] == IMMUTABLE
    assert wire == GRAPHIQL_BYTES


async def test_a_matching_etag_gets_304_for_the_chosen_encoding(echo: EchoSubgraphs):
    url = f"/playground/static/{GRAPHIQL}?v={_tag(GRAPHIQL_BYTES)}"
    gzip_tag, plain_tag = f'"{_tag(GRAPHIQL_GZIP)}"', f'"{_tag(GRAPHIQL_BYTES)}"'
    async with http_router(echo) as client:
        same = await client.get(url, headers={"if-none-match": gzip_tag})
        listed = await client.get(url, headers={"if-none-match": f'"x", W/{gzip_tag}'})
        plain = await client.get(
            url, headers={"if-none-match": plain_tag, "accept-encoding": "identity"}
        )
        other_encoding = await _raw(client, url, **{"if-none-match": plain_tag})
    for response in (same, listed, plain):
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["vary"] == "accept-encoding"
    assert same.headers["etag"] == listed.headers["etag"] == gzip_tag
    assert plain.headers["etag"] == plain_tag
    response, wire = other_encoding  # the gzip body's tag differs from the plain file's
    assert response.status_code == 200 and gzip.decompress(wire) == GRAPHIQL_BYTES


@pytest.mark.parametrize("query", ["", "?v=0123456789abcdef", "?v="])
async def test_urls_without_the_current_hash_must_revalidate(echo: EchoSubgraphs, query: str):
    async with http_router(echo) as client:
        response = await client.get(f"/playground/static/playground.css{query}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == (STATIC_DIR / "playground.css").read_bytes()


async def test_head_missing_and_escaping_paths(echo: EchoSubgraphs):
    async with http_router(echo) as client:
        head = await client.head(f"/playground/static/{GRAPHIQL}")
        missing = await client.get("/playground/static/nope.js")
        escape = await client.get("/playground/static/../../config.py")
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(GRAPHIQL_GZIP))
    assert head.content == b""
    assert missing.status_code == 404 and escape.status_code == 404
    assert assets.loaded("nope.js") is None


def test_each_file_is_compressed_once_even_under_concurrent_first_requests(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(assets, "_LOADED", {})
    calls: list[int] = []
    compress = gzip.compress

    def counting(data: bytes, **options: Any) -> bytes:
        calls.append(len(data))
        return compress(data, **options)

    monkeypatch.setattr(assets.gzip, "compress", counting)
    with ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(assets.load, [GRAPHIQL] * 8))
    assert all(asset is loaded[0] for asset in loaded)
    assert calls == [len(GRAPHIQL_BYTES)]
    assert assets.load("../secrets.txt") is None and assets.load("missing.js") is None
    assert list(assets._LOADED) == [GRAPHIQL]  # only files that exist are kept


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("gzip", True),
        ("GZIP;Q=0.5", True),
        ("x-gzip", True),
        ("br, gzip;q=0.001", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0", False),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("gzip;q=oops", False),
        ("br, deflate", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accept_encoding_quality(value: str, allowed: bool):
    assert assets.accepts_gzip(value) is allowed
