"""What an app serves: routers it builds from its configuration, a router made elsewhere
built again with the app's fetch settings, and a router given its own subgraph client
served exactly as given (the bench's client experiments depend on it)."""

from __future__ import annotations

import httpx
import pytest

from router import Router
from router.config import parse_config
from router.executor.fetcher import SubgraphClient, SubgraphClientSettings
from router.server import create_app
from tests.server.echo_subgraph import EchoSubgraphs


async def test_a_router_given_its_own_client_is_served_with_that_client(echo: EchoSubgraphs):
    sdl = echo.supergraph()
    client = SubgraphClient(
        {name: echo.url(name) for name in echo.names}, SubgraphClientSettings(deduplicate=False)
    )
    router = Router.from_supergraph(sdl, client=client)
    app = create_app(router, config=parse_config({"traffic": {"retries": 0}}))
    assert app.router is router
    assert app.router.client is client
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as http:
        response = await http.post("/graphql", json={"query": "{ __typename alphaHeaders }"})
    await router.aclose()
    body = response.json()
    assert body["data"]["__typename"] == "Query"
    assert isinstance(body["data"]["alphaHeaders"], str)


async def test_a_router_made_elsewhere_is_built_again_with_the_apps_settings(
    echo: EchoSubgraphs,
):
    router = echo.router()
    app = create_app(router, config=parse_config({"traffic": {"retries": 0}}))
    assert app.router is not router
    assert app.router.supergraph is router.supergraph
    assert app.router.fetching is not router.fetching
    assert app.router.client is not router.client
    await app.router.aclose()
    await router.aclose()


async def test_a_router_with_its_own_client_cannot_be_rewired(echo: EchoSubgraphs):
    client = SubgraphClient({name: echo.url(name) for name in echo.names})
    router = Router.from_supergraph(echo.supergraph(), client=client)
    with pytest.raises(TypeError, match="given to it"):
        router.rewired(SubgraphClientSettings())
    await router.aclose()
