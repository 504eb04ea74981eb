"""Hostile operations are refused before they cost anything (issue 10, findings 1-3):
fragment-spread bombs, alias floods, token floods and deep nesting are measured on the
parsed document, refused with a coded 400, never cached, and never reach the planner;
the deepest operation the limits allow runs through every stage without overflowing
the stack. Real subgraph over real HTTP; the router app in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest

from router import Router
from router.composition import SubgraphSource, compose
from router.config import NESTING_CEILING, parse_config
from router.server import RouterApp, create_app
from tests.conformance.kit import Resolvers, SubgraphServer

SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { node(id: ID!): Node  echo(value: Deep): String }
type Node @key(fields: "id") { id: ID! name: String child: Node }
input Deep { value: String next: Deep }
"""
SPEC = {"accept": "application/graphql-response+json"}
SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def _child(node: dict[str, Any], _info: Any) -> dict[str, Any]:
    number = int(node["id"]) + 1
    return {"id": str(number), "name": f"n{number}"}


def _echo(_info: Any, value: Any = None) -> str:
    return "deep" if value is not None else "none"


@pytest.fixture(scope="module")
def nodes() -> Iterator[SubgraphServer]:
    resolvers = Resolvers(
        query={"node": lambda _info, id: {"id": id, "name": f"n{id}"}, "echo": _echo},
        fields={"Node": {"child": _child}},
    )
    with SubgraphServer() as server:
        server.mount("hostile", "nodes", SDL, resolvers)
        yield server


@asynccontextmanager
async def serve(
    server: SubgraphServer, config: dict[str, Any] | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, RouterApp]]:
    parsed = parse_config(config or {})
    result = compose([SubgraphSource("nodes", server.url("hostile", "nodes"), SDL)])
    assert result.supergraph_sdl is not None, result.errors
    router = Router.from_supergraph(result.supergraph_sdl, limits=parsed.limits)
    app = create_app(router, config=parsed)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        yield client, app
    await app.router.aclose()


def _bomb(levels: int) -> str:
    """`levels` fragments, each spreading the next twice: 2**levels fields expanded."""
    fragments = [
        f"fragment B{i} on Node {{ ...B{i + 1} ...B{i + 1} }}" for i in range(levels)
    ]
    fragments.append(f"fragment B{levels} on Node {{ id name }}")
    return '{ node(id: "1") { ...B0 } }\n' + "\n".join(fragments)


def _deep(levels: int) -> str:
    """A selection `levels` fields deep: node { child { child ... { id } } }."""
    return '{ node(id: "0") { ' + "child { " * (levels - 2) + "id" + " }" * (levels - 1) + " }"


async def _refused(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    # generous: a refusal takes milliseconds; before the fix these ran for minutes
    response = await asyncio.wait_for(client.post(path, json=body, headers=SPEC), 60)
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert len(errors) == 1
    return errors[0]


def _requests(server: SubgraphServer) -> int:
    return len(server.requests("hostile").get("nodes", []))


async def test_a_fragment_spread_bomb_is_refused_unexpanded(nodes: SubgraphServer):
    before = _requests(nodes)
    async with serve(nodes) as (client, app):
        error = await _refused(client, "/graphql", {"query": _bomb(40)})
        assert error == {
            "message": "Maximum fields limit exceeded: the document selects "
            f"{2**41 + 1} fields once its fragments are expanded, the limit is 4000.",
            "extensions": {"code": "MAX_FIELDS_LIMIT"},
        }
        assert len(app.router._cache) == 0
    assert _requests(nodes) == before


async def test_a_bomb_within_the_field_limit_still_answers(nodes: SubgraphServer):
    async with serve(nodes) as (client, _):
        body = (await client.post("/graphql", json={"query": _bomb(8)})).json()
    assert body == {"data": {"node": {"id": "1", "name": "n1"}}}


async def test_limits_are_checked_before_planning_and_refusals_are_not_cached(
    nodes: SubgraphServer,
):
    aliases = '{ node(id: "1") { ' + " ".join(f"a{i}: name" for i in range(3000)) + " } }"
    async with serve(nodes) as (client, app):
        error = await _refused(client, "/graphql", {"query": aliases})
        assert error["extensions"] == {"code": "MAX_ALIASES_LIMIT"}
        # the planner never saw it: nothing prepared, nothing kept
        assert len(app.router._cache) == 0
        assert app.router._cache.weight == 0


async def test_a_token_flood_stops_the_parser(nodes: SubgraphServer):
    flood = "{ " + "__typename " * 100_000 + "}"
    async with serve(nodes) as (client, app):
        error = await _refused(client, "/graphql", {"query": flood})
        assert error["message"] == (
            "Syntax Error: Document contains more than 15000 tokens. Parsing aborted."
        )
        assert error["extensions"] == {"code": "MAX_TOKENS_LIMIT"}
        assert len(app.router._cache) == 0


async def test_too_many_fragments_are_refused(nodes: SubgraphServer):
    spreads = " ".join(f"...F{i}" for i in range(300))
    fragments = "\n".join(f"fragment F{i} on Node {{ id }}" for i in range(300))
    query = f'{{ node(id: "1") {{ {spreads} }} }}\n{fragments}'
    async with serve(nodes) as (client, _):
        error = await _refused(client, "/graphql", {"query": query})
    assert error == {
        "message": "Maximum fragments limit exceeded: the document defines 300 fragments, "
        "the limit is 256.",
        "extensions": {"code": "MAX_FRAGMENTS_LIMIT"},
    }


@pytest.mark.parametrize("levels", [152, 190])
async def test_deep_operations_are_a_coded_400_even_without_a_depth_limit(
    nodes: SubgraphServer, levels: int
):
    async with serve(nodes, {"limits": {"max_depth": 0}}) as (client, _):
        error = await _refused(client, "/graphql", {"query": _deep(levels)})
    assert error == {
        "message": f"Maximum nesting limit exceeded: the document nests {levels} levels "
        "deep, the limit is 64.",
        "extensions": {"code": "MAX_NESTING_LIMIT"},
    }


async def test_a_chain_of_spreads_counts_as_nesting(nodes: SubgraphServer):
    chain = "\n".join(f"fragment C{i} on Query {{ ...C{i + 1} }}" for i in range(200))
    query = "{ ...C0 }\n" + chain + '\nfragment C200 on Query { node(id: "1") { id } }'
    async with serve(nodes) as (client, _):
        error = await _refused(client, "/graphql", {"query": query})
    assert error["extensions"] == {"code": "MAX_NESTING_LIMIT"}
    assert "nests 203 levels deep" in error["message"]


async def test_the_deepest_allowed_operation_runs_every_stage(nodes: SubgraphServer):
    limits = {"max_depth": 0, "max_nesting": NESTING_CEILING}
    async with serve(nodes, {"limits": limits}) as (client, _):
        response = await client.post("/graphql", json={"query": _deep(NESTING_CEILING)})
    assert response.status_code == 200
    node = response.json()["data"]["node"]
    for _ in range(NESTING_CEILING - 2):
        assert list(node) == ["child"]
        node = node["child"]
    assert node == {"id": str(NESTING_CEILING - 2)}


async def test_deeply_nested_variables_are_refused_before_coercion(nodes: SubgraphServer):
    value: dict[str, Any] = {"value": "bottom"}
    for _ in range(500):
        value = {"next": value}
    query = "query Q($v: Deep) { echo(value: $v) }"
    async with serve(nodes) as (client, _):
        error = await _refused(client, "/graphql", {"query": query, "variables": {"v": value}})
        shallow = {"next": {"value": "x"}}
        body = (
            await client.post("/graphql", json={"query": query, "variables": {"v": shallow}})
        ).json()
    assert error == {
        "message": "Maximum nesting limit exceeded: the variables nest deeper than 64 levels.",
        "extensions": {"code": "MAX_NESTING_LIMIT"},
    }
    assert body == {"data": {"echo": "deep"}}


async def test_plan_goes_through_the_same_limits(nodes: SubgraphServer):
    async with serve(nodes) as (client, app):
        error = await _refused(client, "/plan", {"query": _bomb(30)})
        assert error["extensions"] == {"code": "MAX_FIELDS_LIMIT"}
        aliases = '{ node(id: "1") { ' + " ".join(f"a{i}: id" for i in range(100)) + " } }"
        error = await _refused(client, "/plan", {"query": aliases})
        assert error["extensions"] == {"code": "MAX_ALIASES_LIMIT"}
        assert len(app.router._cache) == 0


async def test_plan_needs_a_token_when_the_router_requires_one(nodes: SubgraphServer):
    config = {"auth": {"jwt": {"secret": SECRET, "required": True}}}
    token = jwt.encode({"sub": "u1"}, SECRET, algorithm="HS256")
    query = {"query": '{ node(id: "1") { id } }'}
    async with serve(nodes, config) as (client, _):
        anonymous = await client.post("/plan", json=query)
        forged = await client.post(
            "/plan", json=query, headers={"authorization": "Bearer not.a.token"}
        )
        allowed = await client.post(
            "/plan", json=query, headers={"authorization": f"Bearer {token}"}
        )
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert forged.status_code == 401
    assert allowed.status_code == 200
    assert allowed.json()["plan"].startswith("QueryPlan {")


async def test_concurrent_cold_requests_prepare_once(
    nodes: SubgraphServer, monkeypatch: pytest.MonkeyPatch
):
    query = '{ node(id: "7") { id name child { id } } }'
    async with serve(nodes) as (client, app):
        real = app.router._prepare
        prepared: list[str] = []

        def counting(text: str, *rest: Any) -> Any:  # a spy: counts, then really prepares
            prepared.append(text)
            return real(text, *rest)

        monkeypatch.setattr(app.router, "_prepare", counting)
        bodies = await asyncio.gather(
            *(client.post("/graphql", json={"query": query}) for _ in range(20))
        )
    expected = {"data": {"node": {"id": "7", "name": "n7", "child": {"id": "8"}}}}
    assert [b.json() for b in bodies] == [expected] * 20
    assert prepared == [query]


async def test_a_bug_in_preparation_is_a_coded_answer_and_nothing_sticks(
    nodes: SubgraphServer, monkeypatch: pytest.MonkeyPatch
):
    query = '{ node(id: "3") { id } }'

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("planner bug")

    async with serve(nodes) as (client, app):
        monkeypatch.setattr(app.router.planner, "plan", broken)
        failed = await client.post("/graphql", json={"query": query})
        monkeypatch.undo()
        healed = await client.post("/graphql", json={"query": query})
    assert failed.status_code == 500
    assert failed.json() == {
        "errors": [
            {"message": "Internal router error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ]
    }
    assert healed.json() == {"data": {"node": {"id": "3"}}}
