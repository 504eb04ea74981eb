"""Operation limits on the subgraphs themselves (issue 10, finding 10).

A subgraph reached directly measures every document the router's way before
validating it: over a limit is a 400 with the limit's code, graphql-core never
validates it (a spy counts validations) and it is never cached; the router's
own fetches for operations at its limits pass.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from graphql import DocumentNode, GraphQLSchema
from orders_helpers import add_to_cart, checkout
from subgraph_stack import Stack, admin_token, customer_token, make_product

from router import Router
from router.authorization.access import Access
from router.config import LimitsConfig
from subgraphs.common import endpoint as endpoint_module
from subgraphs.common.endpoint import GraphQLEndpoint, RequestError
from subgraphs.common.limits import LimitsSettingError, default_limits, parse_limits
from subgraphs.stack import SUBGRAPHS
from tests.paths import SCHEMA_DIR

ROUTER = LimitsConfig()


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[DocumentNode]:
    """Every document graphql-core validates for the subgraphs served in this process.

    A spy, not a mock: it records the document and calls the real `validate`.
    """
    seen: list[DocumentNode] = []
    real = endpoint_module.validate

    def counting(schema: GraphQLSchema, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        seen.append(document)
        return real(schema, document, *args, **kwargs)

    monkeypatch.setattr(endpoint_module, "validate", counting)
    return seen


async def _refused(
    stack: Stack, name: str, query: str, validations: list[DocumentNode]
) -> dict[str, Any]:
    """The 400 body for `query`, after checking it was refused before any validation."""
    headers = {"Authorization": f"Bearer {admin_token()}"}
    response = await stack.http.post(stack.url(name), json={"query": query}, headers=headers)
    assert response.status_code == 400, response.text[:500]
    assert validations == []
    # the spy does see what reaches validation: a fresh document is validated once
    fresh = f"{{ v{uuid.uuid4().hex}: __typename }}"
    answer = await stack.http.post(stack.url(name), json={"query": fresh}, headers=headers)
    assert answer.status_code == 200 and len(validations) == 1
    body: dict[str, Any] = response.json()
    return body


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body["errors"]]


async def test_thousands_of_aliased_root_fields_are_refused_unvalidated(
    stack: Stack, validations: list[DocumentNode]
) -> None:
    # 3,900 aliased root fields, each a cart read (5,000 took 9.1 s of the subgraph before
    # the limits). Its 23,402 tokens and 7,800 fields are within the subgraph's 30,000 and
    # 8,000: it is refused for its aliases and root fields alone.
    query = "{ " + " ".join(f"a{i}: cart {{ updatedAt }}" for i in range(3_900)) + " }"
    body = await _refused(stack, "orders", query, validations)
    assert body == {
        "errors": [
            {
                "message": "Maximum aliases limit exceeded: the operation has 3900 aliases, "
                "the limit is 128.",
                "extensions": {"code": "MAX_ALIASES_LIMIT"},
            },
            {
                "message": "Maximum root fields limit exceeded: the operation selects 3900 "
                "root fields, the limit is 32.",
                "extensions": {"code": "MAX_ROOT_FIELDS_LIMIT"},
            },
        ]
    }


async def test_five_thousand_aliases_are_refused_unvalidated(
    stack: Stack, validations: list[DocumentNode]
) -> None:
    query = "{ cart { " + " ".join(f"a{i}: totalQuantity" for i in range(5_000)) + " } }"
    body = await _refused(stack, "orders", query, validations)
    assert body == {
        "errors": [
            {
                "message": "Maximum aliases limit exceeded: the operation has 5000 aliases, "
                "the limit is 128.",
                "extensions": {"code": "MAX_ALIASES_LIMIT"},
            }
        ]
    }


async def test_a_fragment_bomb_is_refused_without_expanding_it(
    stack: Stack, validations: list[DocumentNode]
) -> None:
    levels = 30  # 2**30 fields once expanded: a kilobyte of text
    fragments = " ".join(
        f"fragment B{i} on Product {{ ...B{i + 1} ...B{i + 1} }}" for i in range(levels)
    )
    query = (
        "{ products { nodes { ...B0 } } } " + fragments + f" fragment B{levels} on Product {{ id }}"
    )
    body = await _refused(stack, "products", query, validations)
    # the exact 2**30 + 2 is counted by weight: expanding it would need gigabytes
    assert body == {
        "errors": [
            {
                "message": "Maximum fields limit exceeded: the document selects 1073741826 "
                "fields once its fragments are expanded, the limit is 8000.",
                "extensions": {"code": "MAX_FIELDS_LIMIT"},
            }
        ]
    }


@pytest.mark.parametrize(
    ("name", "query", "code"),
    [
        (
            "orders",
            "{ orders { nodes { "
            + "customer { orders { nodes { " * 11
            + "id"
            + " } } }" * 11
            + " } } }",
            "MAX_DEPTH_LIMIT",
        ),
        ("products", "{ " + "categories { slug } " * 33 + "}", "MAX_ROOT_FIELDS_LIMIT"),
        ("products", "{ categories { slug } " + "__typename " * 30_000 + "}", "MAX_TOKENS_LIMIT"),
        ("accounts", "{ me " + "{ id " * 70 + "}" * 71, "MAX_NESTING_LIMIT"),
        (
            "products",
            "{ categories { slug } } "
            + " ".join(f"fragment F{i} on Query {{ categories {{ slug }} }}" for i in range(300)),
            "MAX_FRAGMENTS_LIMIT",
        ),
    ],
)
async def test_every_router_limit_is_enforced(
    stack: Stack, validations: list[DocumentNode], name: str, query: str, code: str
) -> None:
    body = await _refused(stack, name, query, validations)
    assert _codes(body) == [code]


async def test_within_the_limits_nothing_changes(stack: Stack) -> None:
    product = await make_product(stack)
    aliases = " ".join(f"a{i}: id" for i in range(128))
    query = "{ products { nodes { " + aliases + " } } }"
    response = await stack.http.post(stack.url("products"), json={"query": query})
    assert response.status_code == 200
    nodes = [{f"a{i}": product["id"] for i in range(128)}]
    assert response.json() == {"data": {"products": {"nodes": nodes}}}


def test_refused_documents_are_not_cached() -> None:
    from subgraphs.products.schema import schema

    endpoint = GraphQLEndpoint(schema, LimitsConfig(max_aliases=2))
    query = "{ a: categories { slug } b: categories { slug } c: categories { slug } }"
    for _ in range(2):
        with pytest.raises(RequestError) as refused:
            endpoint.prepare(query)
        assert refused.value.body["errors"][0]["extensions"]["code"] == "MAX_ALIASES_LIMIT"
    assert len(endpoint._prepared) == 0
    endpoint.prepare("{ a: categories { slug } b: categories { slug } }")
    assert len(endpoint._prepared) == 1


def test_the_limits_are_the_routers_with_room_for_its_fetches() -> None:
    limits = default_limits()
    assert (limits.max_depth, limits.max_root_fields) == (ROUTER.max_depth, ROUTER.max_root_fields)
    assert (limits.max_nesting, limits.max_fragments) == (ROUTER.max_nesting, ROUTER.max_fragments)
    assert limits.max_aliases == 2 * ROUTER.max_aliases
    assert limits.max_tokens == 2 * ROUTER.max_tokens
    assert limits.max_fields == 2 * ROUTER.max_fields
    tuned = parse_limits(" max_aliases=256, max_depth=48 ", limits)
    assert (tuned.max_aliases, tuned.max_depth, tuned.max_tokens) == (256, 48, limits.max_tokens)
    for bad, message in [
        ("max_planes=3", "SHOPGRAPH_SUBGRAPH_LIMITS: unknown limit 'max_planes'"),
        ("max_depth=deep", "SHOPGRAPH_SUBGRAPH_LIMITS: max_depth must be an integer, got 'deep'"),
        ("max_tokens=0", "SHOPGRAPH_SUBGRAPH_LIMITS: max_tokens must be >= 1, got 0"),
    ]:
        with pytest.raises(LimitsSettingError) as caught:
            parse_limits(bad, limits)
        assert str(caught.value).startswith(message)


async def test_the_routers_fetches_at_its_limits_pass_the_subgraphs(stack: Stack) -> None:
    """Operations at the router's limits, planned by the router, answer without errors."""
    products = [await make_product(stack, name=f"Mug {i}", stock=3) for i in range(3)]
    customer = customer_token()
    await add_to_cart(stack, customer, products[0]["id"])
    assert (await checkout(stack, customer, "deep-1"))["userErrors"] == []
    sdl = (SCHEMA_DIR / "supergraph.graphql").read_text()
    urls = {name: stack.url(name) for name in SUBGRAPHS}
    fields = "id name sku price { amount currencyCode } stock { available onHand } inStock"
    wide = (
        "query Wide { "
        + " ".join(
            f"r{i}: products(first: 3) {{ nodes {{ ...P x{i}: name }} }}"
            for i in range(ROUTER.max_root_fields - 1)
        )
        + " categories { slug } } fragment P on Product { "
        + fields
        + " }"
    )
    # 2 + 3 * 9 + 3 = 32 fields deep; the innermost product's name comes from products
    deep = (
        "query Deep { orders { nodes { "
        + "customer { orders { nodes { " * 9
        + "lines { product { name } }"
        + " } } }" * 9
        + " } } }"
    )
    async with httpx.AsyncClient(timeout=30) as client:
        router = Router.from_supergraph(sdl, subgraph_urls=urls, http_client=client)
        headers = {"authorization": f"Bearer {admin_token()}"}
        # the router's edge auth would verify the token; an embedder passes its access
        admin = Access(authenticated=True, scopes=frozenset({"admin"}))
        for query in (wide, deep):
            result = await router.execute(query, headers=headers, access=admin)
            assert "errors" not in result, result["errors"][:3]
        wide_result, deep_result = [
            await router.execute(q, headers=headers, access=admin) for q in (wide, deep)
        ]
        assert len(wide_result["data"]["r0"]["nodes"]) == 3
        assert wide_result["data"]["r30"]["nodes"][0]["stock"]["available"] == 2
        innermost = deep_result["data"]["orders"]["nodes"][0]
        for _ in range(9):
            innermost = innermost["customer"]["orders"]["nodes"][0]
        assert innermost["lines"] == [{"product": {"name": "Mug 0"}}]
