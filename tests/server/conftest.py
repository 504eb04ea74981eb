"""Routers over test subgraphs that echo the headers they receive (real HTTP both ways
for the subgraphs; the router app in-process)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from router.config import parse_config
from router.server import RouterApp, create_app
from tests.server.echo_subgraph import EchoSubgraphs

AppClient = Callable[..., Any]


@pytest.fixture
def echo() -> Iterator[EchoSubgraphs]:
    subgraphs = EchoSubgraphs("alpha", "beta")
    yield subgraphs
    subgraphs.close()


@asynccontextmanager
async def serve(
    echo: EchoSubgraphs,
    config: dict[str, Any] | None = None,
    urls: dict[str, str] | None = None,
    **options: Any,
) -> AsyncIterator[tuple[httpx.AsyncClient, RouterApp]]:
    parsed = parse_config(config or {})
    router = echo.router(urls, limits=parsed.limits)
    app = create_app(router, config=parsed, **options)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        yield client, app
    await app.router.aclose()
