"""Operation limits (depth, aliases, root fields, introspection): coded GraphQL errors
before any subgraph is called, measured once per (query, operation name)."""

from __future__ import annotations

import pytest
from graphql import parse

from router.measure import OperationShape, measure
from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs

LIMITS = {"max_depth": 4, "max_aliases": 2, "max_root_fields": 2}
DEEP = "{ __schema { types { fields { type { ofType { name } } } } } }"  # 6 deep


def _shape(query: str) -> OperationShape:
    document = parse(query)
    return measure(document, document.definitions[0])  # type: ignore[arg-type]


def test_measure_counts_through_fragments():
    query = """
    query Q { a: alphaHeaders ...F ... on Query { c: betaHeaders } }
    fragment F on Query { b: alphaHeaders __schema { types { name } } }
    """
    assert _shape(query) == OperationShape(
        depth=3, aliases=3, root_fields=4, introspection=True, fields=6, nesting=4
    )
    assert _shape("{ __typename }") == OperationShape(1, 0, 1, False, fields=1, nesting=1)


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        (
            DEEP,
            "MAX_DEPTH_LIMIT",
            "Maximum depth limit exceeded: the operation is 6 fields deep, the limit is 4.",
        ),
        (
            "{ __schema { a: queryType { name } b: queryType { name } c: queryType { name } } }",
            "MAX_ALIASES_LIMIT",
            "Maximum aliases limit exceeded: the operation has 3 aliases, the limit is 2.",
        ),
        (
            "{ alphaHeaders betaHeaders __typename }",
            "MAX_ROOT_FIELDS_LIMIT",
            "Maximum root fields limit exceeded: the operation selects 3 root fields, "
            "the limit is 2.",
        ),
    ],
)
async def test_limit_violations_are_coded_errors(
    echo: EchoSubgraphs, query: str, code: str, message: str
):
    async with serve(echo, {"limits": LIMITS}) as (client, _):
        plain = await client.post("/graphql", json={"query": query})
        spec = await client.post(
            "/graphql",
            json={"query": query},
            headers={"accept": "application/graphql-response+json"},
        )
    expected = {"errors": [{"message": message, "extensions": {"code": code}}]}
    assert (plain.status_code, plain.json()) == (200, expected)
    assert (spec.status_code, spec.json()) == (400, expected)
    assert echo.behaviour["alpha"].requests == []


async def test_within_limits_runs(echo: EchoSubgraphs):
    async with serve(echo, {"limits": LIMITS}) as (client, _):
        body = (
            await client.post("/graphql", json={"query": "{ a: alphaHeaders b: betaHeaders }"})
        ).json()
    assert set(body["data"]) == {"a", "b"} and "errors" not in body


async def test_introspection_can_be_disabled(echo: EchoSubgraphs):
    async with serve(echo, {"limits": {"introspection": False}}) as (client, _):
        refused = (
            await client.post("/graphql", json={"query": '{ __type(name: "Query") { name } }'})
        ).json()
        typename = (await client.post("/graphql", json={"query": "{ __typename }"})).json()
    assert refused == {
        "errors": [
            {
                "message": "Introspection is disabled on this router.",
                "extensions": {"code": "INTROSPECTION_DISABLED"},
            }
        ]
    }
    assert typename == {"data": {"__typename": "Query"}}


async def test_prepared_once_and_refusals_never_cached(echo: EchoSubgraphs):
    query = "{ a: alphaHeaders }"
    refused = "{ a: alphaHeaders b: alphaHeaders c: betaHeaders }"  # 3 aliases, limit 2
    async with serve(echo, {"limits": LIMITS}) as (client, app):
        for _ in range(3):
            await client.post("/graphql", json={"query": query})
        codes = [
            (await client.post("/graphql", json={"query": refused})).json()["errors"][0][
                "extensions"
            ]["code"]
            for _ in range(3)
        ]
        assert codes == ["MAX_ALIASES_LIMIT"] * 3
        assert len(app.router._cache) == 1
        assert (app.router.cache_misses, app.router.cache_hits) == (4, 2)


async def test_body_limit(echo: EchoSubgraphs):
    async with serve(echo, {"traffic": {"max_body_bytes": 64}}) as (client, _):
        response = await client.post(
            "/graphql", json={"query": "{ alphaHeaders }", "variables": {"pad": "x" * 100}}
        )
    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {
                "message": "Request body larger than 64 bytes.",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ]
    }
