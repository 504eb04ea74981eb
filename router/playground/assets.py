"""Serving the playground's static files: gzip once, strong ETags, long-lived caching.

Every file is compressed at most once per process (on its first request, off the event
loop) and kept in memory; only files that exist under static/ are ever cached, so the
cache is bounded by the package itself. A URL carrying the file's own content hash
(`?v=<hash>`, which the page writes) is cached for a year as immutable; any other URL
must be revalidated, so a stale hash never pins new bytes in a browser.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from urllib.parse import parse_qs

STATIC_DIR: Traversable = files("router.playground") / "static"  # package data, zip-safe
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_MEDIA_TYPES = {
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "LICENSE": "text/plain; charset=utf-8",
}

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Representation:
    """One encoding of a file: the bytes on the wire and their strong ETag."""

    body: bytes
    etag: str


@dataclass(frozen=True)
class Asset:
    """A static file ready to serve in identity and gzip encodings."""

    media_type: str
    version: str  # the content hash the page puts in the file's URL
    identity: Representation
    gzip: Representation


@dataclass(frozen=True)
class Reply:
    """An HTTP answer for an asset request: status, headers and body."""

    status: int
    headers: Headers
    body: bytes


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _resource(name: str) -> tuple[Traversable, str] | None:
    parts = name.split("/")
    if any(part in {"", ".", ".."} or "\\" in part for part in parts):
        return None  # only plain relative paths inside static/
    media = _MEDIA_TYPES.get(parts[-1].rpartition(".")[2])
    resource = STATIC_DIR.joinpath(*parts)
    if media is None or not resource.is_file():
        return None
    return resource, media


@lru_cache(maxsize=64)
def version(name: str) -> str | None:
    """The content hash of static/`name` used in its URL (None when there is no such file)."""
    found = _resource(name)
    return None if found is None else _etag(found[0].read_bytes()).strip('"')


_LOADED: dict[str, Asset] = {}  # only names of existing files: bounded by static/
_LOADING = threading.Lock()  # so concurrent first requests compress a file once


def loaded(name: str) -> Asset | None:
    """The asset if it is already in memory, without touching the disk."""
    return _LOADED.get(name)


def load(name: str) -> Asset | None:
    """Read and gzip static/`name` once (None when there is no such file). Blocking."""
    found = _resource(name)
    if found is None:
        return None
    with _LOADING:
        if name not in _LOADED:
            body = found[0].read_bytes()
            # mtime=0: the same bytes give the same gzip bytes, so the ETag is stable.
            packed = gzip.compress(body, compresslevel=9, mtime=0)
            identity = Representation(body, _etag(body))
            _LOADED[name] = Asset(
                found[1], identity.etag.strip('"'), identity, Representation(packed, _etag(packed))
            )
        return _LOADED[name]


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value allows gzip (RFC 9110 12.5.3: q=0 means "not")."""
    wildcard: float | None = None
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        quality = _quality(params)
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            return quality > 0
        if coding == "*":
            wildcard = quality
    return wildcard is not None and wildcard > 0


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0  # an unreadable weight is not a yes
    return 1.0


def _matches(if_none_match: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2).
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def reply(asset: Asset, query: bytes, headers: dict[str, str]) -> Reply:
    """The answer for `asset` given the request's query string and (lowercased) headers."""
    packed = accepts_gzip(headers.get("accept-encoding", ""))
    chosen = asset.gzip if packed else asset.identity
    versioned = parse_qs(query.decode("latin-1")).get("v") == [asset.version]
    common: Headers = [
        (b"etag", chosen.etag.encode()),
        (b"cache-control", (IMMUTABLE if versioned else REVALIDATE).encode()),
        (b"vary", b"accept-encoding"),
    ]
    if _matches(headers.get("if-none-match", ""), chosen.etag):
        return Reply(304, common, b"")
    entity: Headers = [
        (b"content-type", asset.media_type.encode()),
        (b"content-length", str(len(chosen.body)).encode()),
    ]
    if packed:
        entity.append((b"content-encoding", b"gzip"))
    return Reply(200, entity + common, chosen.body)


async def serve(name: str, query: bytes, headers: dict[str, str]) -> Reply | None:
    """The answer for static/`name` (None when there is no such file); compresses off-loop."""
    asset = loaded(name) or await asyncio.to_thread(load, name)
    return None if asset is None else reply(asset, query, headers)
