"""Keep the served supergraph current without dropping requests.

A `SupergraphSource` yields a new supergraph SDL when its input changed: a file
(polled for changes) or live subgraphs (polled through `_service { sdl }` and
composed in-process). The `Reloader` builds a new `Router` from it and swaps it
into the app; requests already running finish on the router they started with.
A source that fails (unreadable file, invalid SDL, failed composition) leaves
the current router serving and logs why.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import httpx
import orjson

from router.composition import SubgraphSource, compose

log = logging.getLogger("shopgraph.router.reload")

SDL_QUERY = "query SubgraphSdl { _service { sdl } }"


class SourceError(Exception):
    """The source could not produce a supergraph; the message says why."""


class SupergraphSource(Protocol):
    """Where a served supergraph comes from, asked again at every poll."""

    description: str

    async def changed(self) -> str | None:
        """The new supergraph SDL, or None when nothing changed since the last call."""
        ...


class FileSource:
    """A supergraph SDL file, changed when its bytes are."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = f"file {self.path}"
        self._digest: bytes | None = None

    async def changed(self) -> str | None:
        """The file's text when its contents changed since the last call, else None."""
        try:
            data = await asyncio.to_thread(self.path.read_bytes)
        except OSError as error:
            raise SourceError(f"cannot read {self.path}: {error.strerror}") from error
        digest = hashlib.sha256(data).digest()
        if digest == self._digest:
            return None
        self._digest = digest
        return data.decode()


class SubgraphsSource:
    """Live subgraphs, composed into a supergraph whenever one of their SDLs changes."""

    def __init__(
        self, urls: Mapping[str, str], client: httpx.AsyncClient, timeout: float = 10.0
    ) -> None:
        self.urls = dict(urls)
        self.client = client
        self.timeout = timeout
        self.description = "subgraphs " + ", ".join(f"{n}={u}" for n, u in self.urls.items())
        self._sdls: tuple[str, ...] | None = None

    async def _fetch(self, name: str, url: str) -> str:
        try:
            response = await self.client.post(
                url,
                content=orjson.dumps({"query": SDL_QUERY}),
                headers={"content-type": "application/json"},
                timeout=self.timeout,
            )
            payload = orjson.loads(response.content)
            sdl = payload["data"]["_service"]["sdl"]
        except (httpx.HTTPError, orjson.JSONDecodeError, KeyError, TypeError) as error:
            raise SourceError(f"subgraph {name} ({url}): no SDL from _service ({error})") from error
        if not isinstance(sdl, str):
            raise SourceError(f"subgraph {name} ({url}): _service.sdl is not a string")
        return sdl

    async def changed(self) -> str | None:
        """The composed supergraph when a subgraph's SDL changed, else None."""
        names = list(self.urls)
        sdls = tuple(await asyncio.gather(*(self._fetch(name, self.urls[name]) for name in names)))
        if sdls == self._sdls:
            return None
        result = compose(
            [
                SubgraphSource(name, self.urls[name], sdl)
                for name, sdl in zip(names, sdls, strict=True)
            ]
        )
        if result.supergraph_sdl is None:
            details = "; ".join(str(error) for error in result.errors)
            raise SourceError(f"composition failed: {details}")
        self._sdls = sdls
        return result.supergraph_sdl


class Reloader:
    """Polls a source and swaps in a new router whenever the supergraph changes."""

    def __init__(
        self,
        source: SupergraphSource,
        install: Callable[[str], None],
        interval: float,
    ) -> None:
        self.source = source
        self.install = install
        self.interval = interval
        self.failures = 0

    async def check_once(self) -> bool:
        """One poll; True when a new supergraph was installed."""
        try:
            sdl = await self.source.changed()
            if sdl is None:
                return False
            self.install(sdl)
        except Exception as error:  # keep serving the current supergraph, whatever failed
            self.failures += 1
            log.error(
                "supergraph reload from %s failed, still serving the previous one: %s",
                self.source.description,
                error,
            )
            return False
        log.info("supergraph reloaded from %s", self.source.description)
        return True

    async def run(self) -> None:
        """Poll every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            await self.check_once()
