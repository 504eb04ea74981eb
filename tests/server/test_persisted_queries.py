"""Persisted queries through the router's app over HTTP: APQ (miss, register, hash-only
GET hit, mismatch, limits, LRU bound) and the manifest safelist, plus the command
that writes the manifest."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from router import cli
from router.persisted_queries import PersistedQueries
from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs

QUERY = "query Alpha { alphaHeaders }"
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _ext(digest: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_apq_miss_register_then_hash_only_get(echo: EchoSubgraphs):
    async with serve(echo) as (client, _):
        miss = await client.post("/graphql", json={"extensions": _ext(_sha(QUERY))})
        register = await client.post(
            "/graphql", json={"query": QUERY, "extensions": _ext(_sha(QUERY))}
        )
        hit = await client.get("/graphql", params={"extensions": json.dumps(_ext(_sha(QUERY)))})
    assert (miss.status_code, miss.json()) == (200, NOT_FOUND)
    assert register.status_code == 200 and "alphaHeaders" in register.json()["data"]
    assert hit.status_code == 200 and hit.json() == {
        "data": {"alphaHeaders": hit.json()["data"]["alphaHeaders"]}
    }
    assert hit.json()["data"]["alphaHeaders"] is not None
    assert len(echo.behaviour["alpha"].requests) == 2


async def test_hash_mismatch_and_bad_version_are_coded_400(echo: EchoSubgraphs):
    async with serve(echo) as (client, app):
        mismatch = await client.post(
            "/graphql", json={"query": QUERY, "extensions": _ext("0" * 64)}
        )
        version = await client.post("/graphql", json={"extensions": _ext(_sha(QUERY), 2)})
        assert len(app.persisted.cache) == 0
    assert mismatch.status_code == 400
    assert mismatch.json() == {
        "errors": [
            {
                "message": "provided sha does not match query",
                "extensions": {"code": "PERSISTED_QUERY_HASH_MISMATCH"},
            }
        ]
    }
    assert (version.status_code, _codes(version.json())) == (
        400,
        ["PERSISTED_QUERY_VERSION_NOT_SUPPORTED"],
    )
    assert echo.behaviour["alpha"].requests == []


async def test_refused_query_is_not_registered(echo: EchoSubgraphs):
    deep = "query Deep { __schema { types { fields { type { name } } } } }"
    async with serve(echo, {"limits": {"max_depth": 2}}) as (client, app):
        refused = await client.post(
            "/graphql", json={"query": deep, "extensions": _ext(_sha(deep))}
        )
        again = await client.post("/graphql", json={"extensions": _ext(_sha(deep))})
        assert len(app.persisted.cache) == 0
    assert _codes(refused.json()) == ["MAX_DEPTH_LIMIT"]
    assert (again.status_code, again.json()) == (200, NOT_FOUND)


async def test_cache_is_bounded_least_recently_used_first(echo: EchoSubgraphs):
    queries = [f"query Q{i} {{ alphaHeaders }}" for i in range(3)]
    config = {"persisted_queries": {"cache_entries": 2}}
    async with serve(echo, config) as (client, app):
        for query in queries[:2]:
            await client.post("/graphql", json={"query": query, "extensions": _ext(_sha(query))})
        # Q0 used again, so Q1 is the least recently used when Q2 arrives
        await client.post("/graphql", json={"extensions": _ext(_sha(queries[0]))})
        await client.post(
            "/graphql", json={"query": queries[2], "extensions": _ext(_sha(queries[2]))}
        )
        answers = [
            (await client.post("/graphql", json={"extensions": _ext(_sha(q))})).json()
            for q in queries
        ]
        assert len(app.persisted.cache) == 2
    assert [("errors" in a) for a in answers] == [False, True, False]


def test_cache_is_bounded_in_bytes():
    from router.config import PersistedQueriesConfig

    store = PersistedQueries(PersistedQueriesConfig(cache_entries=100, cache_bytes=200))
    for i in range(5):
        store.register(f"{i:064d}", "x" * 60)
    assert len(store.cache) == 1 and store.cache.weight <= 200


def _manifest(tmp_path: Path, *bodies: str) -> str:
    operations = [
        {"id": _sha(body), "name": f"Op{i}", "type": "query", "body": body}
        for i, body in enumerate(bodies)
    ]
    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        )
    )
    return str(path)


async def test_safelist_allows_listed_and_refuses_others(echo: EchoSubgraphs, tmp_path: Path):
    config = {"persisted_queries": {"manifest": _manifest(tmp_path, QUERY), "safelist": True}}
    other = "query Beta { betaHeaders }"
    async with serve(echo, config) as (client, _):
        listed = await client.post("/graphql", json={"query": QUERY})
        by_id = await client.get("/graphql", params={"extensions": json.dumps(_ext(_sha(QUERY)))})
        refused = await client.post("/graphql", json={"query": other})
        apq = await client.post("/graphql", json={"query": other, "extensions": _ext(_sha(other))})
    assert listed.json()["data"]["alphaHeaders"] is not None
    assert by_id.json()["data"]["alphaHeaders"] is not None
    expected = {
        "errors": [
            {
                "message": "PersistedQueryNotInList",
                "extensions": {"code": "PERSISTED_QUERY_NOT_IN_LIST"},
            }
        ]
    }
    assert (refused.status_code, refused.json()) == (400, expected)
    assert (apq.status_code, apq.json()) == (400, expected)
    assert echo.behaviour["beta"].requests == []


async def test_safelist_log_only_runs_logs_and_counts(
    echo: EchoSubgraphs, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    config = {"persisted_queries": {"manifest": _manifest(tmp_path, QUERY), "safelist": "log"}}
    other = "query Beta { betaHeaders }"
    async with serve(echo, config) as (client, _):
        with caplog.at_level("WARNING", logger="shopgraph.router.persisted_queries"):
            ran = await client.post("/graphql", json={"query": other})
            await client.post("/graphql", json={"query": QUERY})
        metrics = (await client.get("/metrics")).text
    assert ran.status_code == 200 and ran.json()["data"]["betaHeaders"] is not None
    logged = [r for r in caplog.records if r.name == "shopgraph.router.persisted_queries"]
    assert [r.getMessage() for r in logged] == ["operation not in the persisted query list"]
    assert logged[0].query_hash == _sha(other)  # type: ignore[attr-defined]
    assert "shopgraph_persisted_query_not_in_list_total 1.0" in metrics


def test_manifest_command_writes_apollo_manifest(tmp_path: Path, capsys):
    ops = tmp_path / "ops"
    (ops / "nested").mkdir(parents=True)
    (ops / "a.graphql").write_text("query A { alphaHeaders ...F }\n")
    (ops / "nested" / "b.graphql").write_text(
        "fragment F on Query { betaHeaders }\nmutation B { alphaHeaders }\n"
    )
    out = tmp_path / "manifest.json"
    assert cli.main(["persisted-queries", str(ops), "-o", str(out)]) == 0
    body_a = "query A {\n  alphaHeaders\n  ...F\n}\n\nfragment F on Query {\n  betaHeaders\n}"
    body_b = "mutation B {\n  alphaHeaders\n}"
    assert json.loads(out.read_text()) == {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": _sha(body_a), "name": "A", "type": "query", "body": body_a},
            {"id": _sha(body_b), "name": "B", "type": "mutation", "body": body_b},
        ],
    }


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.graphql": "{ alphaHeaders }"}, "anonymous operation: give every operation a name"),
        (
            {"a.graphql": "query A { alphaHeaders }", "b.graphql": "query A { betaHeaders }"},
            "operation A is also in",
        ),
        ({"a.graphql": "query A { ...Missing }"}, "unknown fragment Missing"),
    ],
)
def test_manifest_command_refuses_bad_folders(
    tmp_path: Path, capsys, files: dict[str, str], message: str
):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert cli.main(["persisted-queries", str(tmp_path)]) == 1
    assert message in capsys.readouterr().err


async def test_disabled_apq_says_not_supported(echo: EchoSubgraphs):
    async with serve(echo, {"persisted_queries": {"enabled": False}}) as (client, app):
        hashed = await client.post("/graphql", json={"extensions": _ext(_sha(QUERY))})
        with_query = await client.post(
            "/graphql", json={"query": QUERY, "extensions": _ext(_sha(QUERY))}
        )
        assert len(app.persisted.cache) == 0
    assert (hashed.status_code, _codes(hashed.json())) == (400, ["PERSISTED_QUERY_NOT_SUPPORTED"])
    assert with_query.json()["data"]["alphaHeaders"] is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "is not JSON"),
        ('{"format": "other", "version": 1, "operations": []}', "not an apollo-persisted"),
        (
            '{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{}]}',
            "operations[0] needs string 'id' and 'body'",
        ),
    ],
)
def test_a_bad_manifest_stops_the_router(tmp_path: Path, content: str, message: str):
    from router.config import ConfigError, PersistedQueriesConfig

    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(message)):
        PersistedQueries(PersistedQueriesConfig(manifest=str(path)))
