"""The HTTP surface every subgraph shares: /health, request errors, masked failures."""

from __future__ import annotations

import pytest
from subgraph_stack import Stack

from subgraphs.stack import SUBGRAPHS


@pytest.mark.parametrize("name", SUBGRAPHS)
async def test_health_checks_the_database(stack: Stack, name: str) -> None:
    response = await stack.http.get(f"{stack.servers[name].url}/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/health+json"
    # the router's format (router.health): one shape for every health answer
    assert response.json() == {
        "status": "pass", "service": name, "checks": {"database": {"status": "pass"}}
    }


async def test_malformed_requests_get_400_with_a_code(stack: Stack) -> None:
    url = stack.url("products")
    cases = [
        (b"{not json", "Request body is not valid JSON"),
        (b"[1, 2]", "Request body must be a JSON object"),
        (b'{"variables": {}}', "Request must contain a `query` string"),
        (b'{"query": "{ categories }", "variables": [1]}', "`variables` must be a JSON object"),
    ]
    for content, message in cases:
        response = await stack.http.post(
            url, content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json() == {
            "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
        }


async def test_get_serves_queries_but_not_mutations(stack: Stack) -> None:
    url = stack.url("products")
    ok = await stack.http.get(url, params={"query": "{ categories { slug } }"})
    assert ok.status_code == 200
    assert ok.json() == {"data": {"categories": []}}
    mutation = 'mutation { deleteProduct(input: {id: "x"}) { deletedProductId } }'
    refused = await stack.http.get(url, params={"query": mutation})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"] == "Mutations must be sent with POST"


async def test_parse_validation_and_variable_errors_have_codes(stack: Stack) -> None:
    parse = await stack.gql("products", "{ categories ")
    assert parse["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "data" not in parse
    invalid = await stack.gql("products", "{ noSuchField }")
    assert invalid["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert invalid["errors"][0]["message"] == "Cannot query field 'noSuchField' on type 'Query'."
    wrong_type = await stack.gql(
        "products", "query ($n: Int) { products(first: $n) { totalCount } }", {"n": "ten"}
    )
    assert wrong_type["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "data" not in wrong_type


async def test_unexpected_failures_are_masked(stack: Stack) -> None:
    await stack.sql("products", "ALTER TABLE products RENAME TO products_moved")
    try:
        response = await stack.http.post(
            stack.url("products"), json={"query": "{ products { totalCount } categories { slug } }"}
        )
    finally:
        await stack.sql("products", "ALTER TABLE products_moved RENAME TO products")
    assert response.status_code == 200
    body = response.json()
    # products is nullable and categories reads no products: only the list fails
    assert body["data"] == {"products": None, "categories": []}
    assert {e["message"] for e in body["errors"]} == {"Internal server error"}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"INTERNAL_SERVER_ERROR"}
    # no SQL, table names or traceback leaks out
    assert "products_moved" not in response.text
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text


async def test_unknown_paths_are_json_404s(stack: Stack) -> None:
    response = await stack.http.get(f"{stack.servers['orders'].url}/nope")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_huge_header_is_431_and_the_subgraph_serves_on(stack: Stack) -> None:
    # hypercorn's own h11 limit answers this before the app sees the request, with an
    # empty body (docs/security.md, "Head"): the router's JSON 431 cannot be given here
    url = stack.url("promotions")
    huge = await stack.http.post(
        url,
        json={"query": "{ activePromotions { code } }"},
        headers={"Authorization": "Bearer " + "a" * 1_000_000},
    )
    assert (huge.status_code, huge.headers["connection"], huge.content) == (431, "close", b"")
    after = await stack.http.post(url, json={"query": "{ activePromotions { code } }"})
    assert (after.status_code, after.json()) == (200, {"data": {"activePromotions": []}})
