"""HTTP calls to subgraphs: one pooled httpx client, orjson both ways."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from router.executor.transport import FastHTTPTransport

JSON_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json, application/json",
}


def new_http_client(timeout: float = 30.0) -> httpx.AsyncClient:
    """The pooled keep-alive client for subgraph calls (see transport.py for why)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout), transport=FastHTTPTransport())


class SubgraphRequestError(Exception):
    """The subgraph could not be reached or did not answer with GraphQL JSON."""

    def __init__(
        self,
        service: str,
        message: str,
        status: int | None = None,
        code: str = "SUBREQUEST_HTTP_ERROR",
    ) -> None:
        super().__init__(message)
        self.service = service
        self.message = message
        self.status = status
        self.code = code


class SubgraphClient:
    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.urls = dict(urls)
        self._own_client = client is None
        self.client = client or new_http_client(timeout)

    async def request(
        self,
        service: str,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        """POST one GraphQL request; `idempotent` requests (queries) may be retried."""
        url = self.urls.get(service)
        if not url:
            raise SubgraphRequestError(service, f"no URL known for subgraph '{service}'")
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        if operation_name:
            body["operationName"] = operation_name
        send_headers = JSON_HEADERS if not headers else {**JSON_HEADERS, **headers}
        try:
            response = await self.client.post(url, content=orjson.dumps(body), headers=send_headers)
        except httpx.TimeoutException as error:
            raise SubgraphRequestError(
                service, f"request to subgraph '{service}' timed out"
            ) from error
        except httpx.HTTPError as error:
            raise SubgraphRequestError(
                service, f"HTTP fetch failed from '{service}': {type(error).__name__}"
            ) from error
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict) or ("data" not in payload and "errors" not in payload):
            raise SubgraphRequestError(
                service,
                f"HTTP fetch failed from '{service}': {response.status_code}: "
                f"{response.reason_phrase}",
                response.status_code,
            )
        return payload

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()
