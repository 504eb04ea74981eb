"""GraphQL over HTTP on the router's ASGI app (client side in-process, subgraphs over HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from router import Router
from router.server import create_app
from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario
from tests.router.conftest import scenario

QUERY = '{ product(upc: "p2") { upc name price } }'


@pytest.fixture
async def client(
    keys_single: Scenario, keys_server: SubgraphServer
) -> AsyncIterator[httpx.AsyncClient]:
    router = Router.from_supergraph(
        keys_single.supergraph, subgraph_urls=keys_server.subgraph_urls(keys_single.name)
    )
    app = create_app(router, max_body_bytes=4096)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as http:
        yield http
    await app.router.aclose()
    await router.aclose()


def expected(scenario: Scenario, case: str) -> dict:
    return scenario.expected[case]


async def test_post_json_returns_the_recorded_answer(client, keys_single):
    response = await client.post("/graphql", json={"query": QUERY})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == expected(keys_single, "root-field-one-subgraph")


async def test_get_query_is_served(client, keys_single):
    response = await client.get("/graphql", params={"query": QUERY})
    assert response.status_code == 200
    assert response.json() == expected(keys_single, "root-field-one-subgraph")


async def test_get_with_variables_and_operation_name(client):
    response = await client.get(
        "/graphql",
        params={
            "query": "query A($u: String!) { product(upc: $u) { upc } } query B { __typename }",
            "variables": '{"u": "p1"}',
            "operationName": "A",
        },
    )
    assert response.json() == {"data": {"product": {"upc": "p1"}}}


async def test_get_refuses_mutations():
    mutations = scenario("mutations-ordering")
    router = Router.from_supergraph(mutations.supergraph)
    app = create_app(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as http:
        response = await http.get(
            "/graphql", params={"query": "mutation { clearCart { itemCount } }"}
        )
    await app.router.aclose()
    await router.aclose()
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_graphql_response_json_gives_400_for_invalid_operations(client):
    response = await client.post(
        "/graphql",
        json={"query": "{ nope }"},
        headers={"accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_application_json_keeps_200_for_invalid_operations(client):
    response = await client.post("/graphql", json={"query": "{ nope }"})
    assert response.status_code == 200
    assert response.json()["errors"][0]["locations"] == [{"line": 1, "column": 3}]


async def test_parse_error_has_its_code(client):
    response = await client.post("/graphql", json={"query": "{ product("})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert error["message"].startswith("Syntax Error")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"{not json", "application/json", 400, "The request body is not valid JSON"),
        (b"[1, 2]", "application/json", 400, "The request body must be a JSON object."),
        (b'{"query": 5}', "application/json", 400, "Missing query"),
        (b'{"query": "{a}", "variables": [1]}', "application/json", 400, "'variables' must be"),
        (b"query=x", "application/x-www-form-urlencoded", 415, "Unsupported content type"),
    ],
)
async def test_malformed_requests_get_clear_errors(client, body, content_type, status, message):
    response = await client.post("/graphql", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert error["message"].startswith(message)
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_request_body_limit(client):
    big = orjson.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 5000}})
    response = await client.post(
        "/graphql", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["message"] == "Request body larger than 4096 bytes."


async def test_unacceptable_media_type(client):
    response = await client.post("/graphql", json={"query": QUERY}, headers={"accept": "text/csv"})
    assert response.status_code == 406


async def test_variables_are_coerced_and_checked(client):
    query = "query ($u: String!) { product(upc: $u) { name } }"
    response = await client.post("/graphql", json={"query": query, "variables": {"u": 7}})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "$u" in error["message"]


async def test_health_and_unknown_paths(client):
    assert (await client.get("/health")).json() == {
        "status": "pass", "service": "router", "checks": {}
    }
    assert (await client.get("/nowhere")).status_code == 404
    assert (await client.put("/graphql")).status_code == 405
