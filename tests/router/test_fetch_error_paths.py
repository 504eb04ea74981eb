"""Issue 10, finding 12: a fetch that got no answer from its subgraph (connection refused,
timeout, open circuit, refused header) reports the response path of what it was to
provide: each root field of a root fetch, the entity position of an entity fetch (the
deepest path all its entities share, so a list of a thousand entities is one error)."""

from __future__ import annotations

import httpx

from router import Router
from router.config import parse_config
from router.server import create_app
from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario
from tests.server.echo_subgraph import EchoSubgraphs, closed_port_url


async def _post(router: Router, query: str, config: dict | None = None) -> dict:
    app = create_app(router, config=parse_config(config or {"traffic": {"retries": 0}}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        response = await client.post("/graphql", json={"query": query})
    await app.router.aclose()  # the app's own router, built with its config
    await router.aclose()
    assert response.status_code == 200
    return response.json()


def _keys_router(keys_single: Scenario, keys_server: SubgraphServer) -> Router:
    urls = keys_server.subgraph_urls(keys_single.name)
    urls["reviews"] = closed_port_url()
    return Router.from_supergraph(keys_single.supergraph, subgraph_urls=urls)


REFUSED = {
    "message": "HTTP fetch failed from 'reviews': ConnectError",
    "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "reviews"},
}


async def test_entity_fetch_failure_points_at_the_entity(keys_single, keys_server):
    body = await _post(
        _keys_router(keys_single, keys_server), '{ product(upc: "p1") { name reviewCount } }'
    )
    assert body == {"data": {"product": None}, "errors": [{**REFUSED, "path": ["product"]}]}


async def test_entity_fetch_failure_over_a_list_is_one_error_at_the_list(keys_single, keys_server):
    body = await _post(
        _keys_router(keys_single, keys_server),
        "{ topProducts(first: 3) { upc reviewCount } }",
    )
    assert body == {"data": None, "errors": [{**REFUSED, "path": ["topProducts"]}]}


async def test_root_fetch_failure_points_at_each_of_its_root_fields():
    echo = EchoSubgraphs("alpha", "beta")
    try:
        router = echo.router({"alpha": echo.url("alpha"), "beta": closed_port_url()})
        body = await _post(router, "{ alphaHeaders b: betaHeaders betaHeaders __typename }")
    finally:
        echo.close()
    error = {
        "message": "HTTP fetch failed from 'beta': ConnectError",
        "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "beta"},
    }
    assert body["data"]["b"] is None and body["data"]["betaHeaders"] is None
    assert body["errors"] == [{**error, "path": ["b"]}, {**error, "path": ["betaHeaders"]}]


async def test_skipped_root_fields_get_no_error():
    echo = EchoSubgraphs("alpha", "beta")
    try:
        router = echo.router({"alpha": echo.url("alpha"), "beta": closed_port_url()})
        body = await _post(
            router, "{ b: betaHeaders @skip(if: true) betaHeaders @include(if: true) }"
        )
    finally:
        echo.close()
    assert body == {
        "data": {"betaHeaders": None},
        "errors": [
            {
                "message": "HTTP fetch failed from 'beta': ConnectError",
                "path": ["betaHeaders"],
                "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "beta"},
            }
        ],
    }


async def test_timeouts_and_open_circuits_carry_the_path_too():
    echo = EchoSubgraphs("alpha", "beta")
    echo.behaviour["beta"].mode = "hang"
    config = {
        "traffic": {"retries": 0, "circuit_breaker": {"failure_threshold": 1}},
        "subgraphs": {"beta": {"timeout": 0.2}},
    }
    router = echo.router()
    app = create_app(router, config=parse_config(config))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
            first = (await client.post("/graphql", json={"query": "{ betaHeaders }"})).json()
            second = (await client.post("/graphql", json={"query": "{ b: betaHeaders }"})).json()
        await app.router.aclose()
        await router.aclose()
    finally:
        echo.close()
    assert first["errors"] == [
        {
            "message": "request to subgraph 'beta' timed out after 0.2 s",
            "path": ["betaHeaders"],
            "extensions": {"code": "SUBREQUEST_TIMEOUT", "serviceName": "beta"},
        }
    ]
    assert second["errors"] == [
        {
            "message": "subgraph 'beta' is failing; requests to it are paused "
            "(circuit breaker open)",
            "path": ["b"],
            "extensions": {"code": "SUBREQUEST_CIRCUIT_OPEN", "serviceName": "beta"},
        }
    ]
