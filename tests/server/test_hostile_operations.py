"""Hostile operations are refused before they cost anything (issue 10, findings 1-3):
fragment-spread bombs, alias floods, token floods and deep nesting are measured on the
parsed document, refused with a coded 400, never cached, and never reach the planner;
the deepest operation the limits allow runs through every stage without overflowing
the stack. Real subgraph over real HTTP; the router app in-process."""

from __future__ import annotations

import asyncio
import threading
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
    router = Router.from_supergraph(
        result.supergraph_sdl, limits=parsed.limits, plan_cache_mib=parsed.plan_cache_mib
    )
    app = create_app(router, config=parsed)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://router") as client:
        yield client, app
    await app.router.aclose()


def _bomb(levels: int) -> str:
    """`levels` fragments, each spreading the next twice: 2**levels fields expanded."""
    fragments = [f"fragment B{i} on Node {{ ...B{i + 1} ...B{i + 1} }}" for i in range(levels)]
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


async def test_the_plan_cache_is_bounded_by_the_length_of_its_texts(nodes: SubgraphServer):
    # one comment is one token: the token limit does not bound a text's length
    padded = ["#" + str(i) * 1_000_000 + '\n{ node(id: "1") { id } }' for i in range(6)]
    async with serve(nodes, {"plan_cache_mib": 10}) as (client, app):
        for query in padded:
            body = (await client.post("/graphql", json={"query": query})).json()
            assert body == {"data": {"node": {"id": "1"}}}
        assert len(app.router._cache) == 2  # each weighs ~4 MB of the 10 MiB
        assert app.router._cache.weight <= 10 * 1024 * 1024


async def test_an_operation_name_no_operation_can_have_is_refused_unechoed(
    nodes: SubgraphServer,
):
    name = "N" + "x" * 1_000_000
    async with serve(nodes) as (client, _):
        response = await client.post(
            "/graphql", json={"query": "{ __typename }", "operationName": name}, headers=SPEC
        )
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "'operationName' must be a GraphQL name of at most 256 characters.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
    assert "xxxx" not in metrics


class _HeldPlanner:
    """Spies on Router._prepare: records what it prepares, in order, and holds the
    planner thread on the first call until released."""

    def __init__(self, prepare: Any) -> None:
        self.prepare = prepare
        self.release = threading.Event()
        self.started = threading.Event()
        self.prepared: list[str] = []

    def __call__(self, query: str, *args: Any) -> Any:
        if not self.prepared:
            self.started.set()
            self.release.wait(30)
        self.prepared.append(query)
        return self.prepare(query, *args)


def _op(id_: str, pad: int = 0) -> str:
    return '{ node(id: "' + id_ + '") { id } }' + " " * pad


async def _held(app: RouterApp, monkeypatch: pytest.MonkeyPatch) -> _HeldPlanner:
    held = _HeldPlanner(app.router._prepare)
    monkeypatch.setattr(app.router, "_prepare", held)
    return held


async def test_a_full_planning_queue_is_a_503_for_cold_operations_only(
    nodes: SubgraphServer, monkeypatch: pytest.MonkeyPatch
):
    async with serve(nodes, {"limits": {"planning_queue": 1}}) as (client, app):
        warm = (await client.post("/graphql", json={"query": _op("w")})).json()
        held = await _held(app, monkeypatch)
        first = asyncio.create_task(client.post("/graphql", json={"query": _op("1")}))
        await asyncio.to_thread(held.started.wait, 30)
        queued = asyncio.create_task(client.post("/graphql", json={"query": _op("2")}))
        await asyncio.sleep(0.2)  # let it reach the queue
        refused = await client.post("/graphql", json={"query": _op("3")}, headers=SPEC)
        cached = await client.post("/graphql", json={"query": _op("w")})
        held.release.set()
        answers = [(await first).json(), (await queued).json()]
    assert warm == {"data": {"node": {"id": "w"}}}
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["errors"][0]["extensions"] == {"code": "PLANNER_BUSY"}
    assert cached.json() == warm
    assert answers == [{"data": {"node": {"id": "1"}}}, {"data": {"node": {"id": "2"}}}]


async def test_a_request_waits_for_its_plan_at_most_planning_wait_and_is_then_skipped(
    nodes: SubgraphServer, monkeypatch: pytest.MonkeyPatch
):
    async with serve(nodes, {"limits": {"planning_wait": 0.3}}) as (client, app):
        held = await _held(app, monkeypatch)
        first = asyncio.create_task(client.post("/graphql", json={"query": _op("1")}))
        await asyncio.to_thread(held.started.wait, 30)
        gave_up = await client.post("/graphql", json={"query": _op("2")}, headers=SPEC)
        held.release.set()
        await first
        later = (await client.post("/graphql", json={"query": _op("3", pad=5)})).json()
    assert gave_up.status_code == 503
    assert gave_up.json()["errors"][0]["extensions"] == {"code": "PLANNER_BUSY"}
    assert later == {"data": {"node": {"id": "3"}}}
    assert held.prepared == [_op("1"), _op("3", pad=5)]  # nobody waited for "2" any more


async def test_shorter_texts_are_planned_first(
    nodes: SubgraphServer, monkeypatch: pytest.MonkeyPatch
):
    async with serve(nodes) as (client, app):
        held = await _held(app, monkeypatch)
        first = asyncio.create_task(client.post("/graphql", json={"query": _op("1")}))
        await asyncio.to_thread(held.started.wait, 30)
        long = asyncio.create_task(client.post("/graphql", json={"query": _op("L", 5000)}))
        await asyncio.sleep(0.2)
        short = asyncio.create_task(client.post("/graphql", json={"query": _op("S")}))
        await asyncio.sleep(0.2)
        held.release.set()
        await asyncio.gather(first, long, short)
    assert held.prepared == [_op("1"), _op("S"), _op("L", 5000)]


async def test_names_of_operations_that_do_not_exist_share_one_metrics_label(
    nodes: SubgraphServer,
):
    async with serve(nodes) as (client, _):
        for i in range(5):
            body = {"query": "query Real { __typename }", "operationName": f"Ghost{i}"}
            refused = (await client.post("/graphql", json=body)).json()
            assert refused["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
        await client.post("/graphql", json={"query": "query Real { __typename }"})
        metrics = (await client.get("/metrics")).text
    assert "Ghost" not in metrics
    assert 'shopgraph_requests_total{operation="__unknown__",status="200"} 5' in metrics
    assert 'shopgraph_requests_total{operation="Real",status="200"} 1' in metrics


async def test_introspection_without_variables_is_answered_once_per_operation(
    nodes: SubgraphServer, monkeypatch: pytest.MonkeyPatch
):
    query = "{ a: __schema { types { name } } b: __schema { types { name } } }"
    async with serve(nodes) as (client, app):
        runs: list[str | None] = []
        introspect = app.router._introspect

        def counted(document: Any, name: str | None, variables: Any) -> Any:
            runs.append(name)
            return introspect(document, name, variables)

        monkeypatch.setattr(app.router, "_introspect", counted)
        bodies = [(await client.post("/graphql", json={"query": query})).json() for _ in range(3)]
        with_variable = "query T($n: String!) { __type(name: $n) { name } }"
        typed = [
            (
                await client.post("/graphql", json={"query": with_variable, "variables": {"n": n}})
            ).json()
            for n in ("Node", "Query")
        ]
    assert runs == [None, "T", "T"]  # once at preparation; per request when variables matter
    names = {t["name"] for t in bodies[0]["data"]["a"]["types"]}
    assert {"Node", "Query", "Deep"} <= names
    assert bodies[0] == bodies[1] == bodies[2]
    assert typed == [{"data": {"__type": {"name": n}}} for n in ("Node", "Query")]
