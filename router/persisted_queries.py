"""Persisted queries: Apollo's automatic persisted queries (APQ) and the safelist.

APQ: a client sends `extensions.persistedQuery {version: 1, sha256Hash}`; without a
query the router runs the text it registered under that hash, or answers
PERSISTED_QUERY_NOT_FOUND so the client sends query and hash together, which
registers the text once the router has accepted it (never what it refuses).

Safelist: Apollo's persisted query manifest (`apollo-persisted-query-manifest`,
version 1: operations with `id` = sha256 of `body`, `name`, `type`, `body`); with
`safelist` on, an operation whose exact text is not a manifest body is refused
(or, with `log`, only logged and counted). A manifest id can stand for its body.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from router.config import ConfigError, PersistedQueriesConfig
from router.errors import RequestError, coded_error
from router.lru import LruCache

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
MANIFEST_VERSION = 1
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
VERSION_NOT_SUPPORTED = "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
BAD_EXTENSION = "PERSISTED_QUERY_INVALID"
_HASH_LENGTH = 64

log = logging.getLogger("shopgraph.router.persisted_queries")


def sha256_hex(text: str) -> str:
    """The lowercase hex sha256 of `text` in UTF-8: an APQ hash and a manifest id."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Manifest:
    """A loaded persisted query manifest: body by id, and the set of bodies."""

    bodies: Mapping[str, str]  # id -> body
    listed: frozenset[str]  # the bodies, as sent


def parse_manifest(data: Any, where: str) -> Manifest:
    """The manifest in parsed JSON `data`; ConfigError (naming `where`) when malformed."""
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ConfigError(f"{where}: not an {MANIFEST_FORMAT} (missing or wrong 'format')")
    if data.get("version") != MANIFEST_VERSION:
        raise ConfigError(f"{where}: manifest version {data.get('version')!r} is not 1")
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ConfigError(f"{where}: 'operations' must be a list")
    bodies: dict[str, str] = {}
    for index, operation in enumerate(operations):
        body = operation.get("body") if isinstance(operation, dict) else None
        ident = operation.get("id") if isinstance(operation, dict) else None
        if not isinstance(body, str) or not isinstance(ident, str):
            raise ConfigError(f"{where}: operations[{index}] needs string 'id' and 'body'")
        bodies[ident] = body
    return Manifest(bodies, frozenset(bodies.values()))


def load_manifest(path: str) -> Manifest:
    """The manifest in the JSON file at `path`; ConfigError when unreadable or malformed."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as error:
        raise ConfigError(f"persisted_queries.manifest: cannot read {path}: {error}") from error
    except orjson.JSONDecodeError as error:
        raise ConfigError(f"persisted_queries.manifest: {path} is not JSON: {error}") from error
    return parse_manifest(data, f"persisted_queries.manifest ({path})")


@dataclass(frozen=True)
class Resolved:
    """The query text a request runs, and the hash to register it under once accepted."""

    query: str
    register: str | None = None


def _refused(message: str, code: str, status: int = 400) -> RequestError:
    return RequestError([coded_error(message, code)], status)


class PersistedQueryNotFound(RequestError):
    """A hash the router does not know: always HTTP 200, so the client sends the query."""

    def __init__(self) -> None:
        super().__init__([coded_error("PersistedQueryNotFound", NOT_FOUND)], 200)


def _hash_of(extensions: Mapping[str, Any] | None) -> str | None:
    """The APQ hash a request's extensions name (None without persistedQuery)."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise _refused("'extensions.persistedQuery' must be an object.", BAD_EXTENSION)
    if persisted.get("version") != 1:
        raise _refused("Unsupported persisted query version: use 1.", VERSION_NOT_SUPPORTED)
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != _HASH_LENGTH:
        raise _refused("'sha256Hash' must be a hex sha256 of the query.", BAD_EXTENSION)
    return digest.lower()


class PersistedQueries:
    """The app's registered APQ texts (bounded LRU) and its manifest, if any."""

    def __init__(self, config: PersistedQueriesConfig) -> None:
        """Keep APQ texts per `config`; load its manifest (ConfigError when bad)."""
        self.config = config
        self.manifest = load_manifest(config.manifest) if config.manifest else None
        self.cache: LruCache[str, str] = LruCache(config.cache_entries, config.cache_bytes)

    def resolve(self, query: str, extensions: Mapping[str, Any] | None) -> Resolved:
        """The text to run for a request (`query` is "" when absent); RequestError for a
        hash unknown, mismatched or not supported."""
        digest = _hash_of(extensions)
        if digest is None:
            return Resolved(query)
        if query:
            if sha256_hex(query) != digest:
                raise _refused("provided sha does not match query", HASH_MISMATCH)
            known = self.config.enabled and self.cache.get(digest) is None
            return Resolved(query, digest if known else None)
        body = self.manifest.bodies.get(digest) if self.manifest else None
        if body is not None:
            return Resolved(body)
        if not self.config.enabled:
            raise _refused("PersistedQueryNotSupported", NOT_SUPPORTED)
        text = self.cache.get(digest)
        if text is None:
            raise PersistedQueryNotFound()
        return Resolved(text)

    def register(self, digest: str, query: str) -> None:
        """Keep `query` under `digest` (a query the router accepted)."""
        self.cache.put(digest, query, len(query.encode()) + _HASH_LENGTH)

    def check_listed(self, query: str) -> bool:
        """Refuse a text not in the manifest (RequestError, safelist on); with
        `safelist: log` log it instead and return True so the caller counts it."""
        if self.manifest is None or self.config.safelist is False:
            return False
        if query in self.manifest.listed:
            return False
        if self.config.safelist == "log":
            log.warning(
                "operation not in the persisted query list",
                extra={"query_hash": sha256_hex(query)},
            )
            return True
        raise _refused("PersistedQueryNotInList", NOT_IN_LIST)
