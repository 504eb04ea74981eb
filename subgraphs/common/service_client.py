"""Service-to-service GraphQL calls between the shop's subgraphs.

One pooled httpx client per target subgraph, authenticated as a service (a
short-lived SERVICE-role token the client issues and renews itself); every call
has a timeout and turns any transport failure, non-200 or GraphQL error into
`UpstreamError`.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from .auth import SERVICE, TokenCodec


class UpstreamError(Exception):
    """A call to another subgraph failed; the outcome on its side is unknown."""


class UpstreamGraphQLError(UpstreamError):
    """The subgraph answered with GraphQL errors; `codes` are their `extensions.code`s."""

    def __init__(self, message: str, codes: tuple[str | None, ...]) -> None:
        super().__init__(message)
        self.codes = codes


def _codes(errors: Any) -> tuple[str | None, ...]:
    if not isinstance(errors, list):
        return ()
    found = []
    for error in errors:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        found.append(code if isinstance(code, str) else None)
    return tuple(found)


class GraphQLClient:
    """POSTs operations to one subgraph as the service `service_name`."""

    def __init__(self, url: str, codec: TokenCodec, timeout: float, service_name: str) -> None:
        self.url = url
        self.timeout = timeout
        self._codec = codec
        self._service_name = service_name
        self._token: tuple[str, float] | None = None
        self._http: httpx.AsyncClient | None = None

    def _authorization(self) -> str:
        now = time.monotonic()
        if self._token is None or self._token[1] < now:
            ttl = 300
            self._token = (self._codec.issue(self._service_name, SERVICE, ttl), now + ttl / 2)
        return f"Bearer {self._token[0]}"

    async def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The response's `data`; UpstreamError for anything but a clean answer."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout)
        try:
            response = await self._http.post(
                self.url,
                content=orjson.dumps({"query": query, "variables": variables}),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": self._authorization(),
                },
            )
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{self.url}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise UpstreamError(f"{self.url}: HTTP {response.status_code}")
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError(f"{self.url}: response is not JSON") from exc
        if body.get("errors"):
            raise UpstreamGraphQLError(f"{self.url}: {body['errors']}", _codes(body["errors"]))
        if not isinstance(body.get("data"), dict):
            raise UpstreamError(f"{self.url}: {body.get('errors')}")
        data: dict[str, Any] = body["data"]
        return data

    async def close(self) -> None:
        """Close the pooled connections (the next call opens new ones)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None
