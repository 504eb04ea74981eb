"""POST /plan: the plan's text and its tree, and persisted queries resolved as /graphql
resolves them (APQ hashes, manifest ids, the safelist)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from router.planner.plan_json import plan_json
from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs

QUERY = "query Alpha { alphaHeaders }"
OTHER = "query Beta { betaHeaders }"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _ext(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": _sha(text)}}


def _error(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


async def test_plan_answers_text_and_tree(echo: EchoSubgraphs):
    async with serve(echo) as (client, app):
        answer = await client.post("/plan", json={"query": QUERY})
    plan = app.router.plan(QUERY)
    assert answer.status_code == 200
    assert answer.json() == {"plan": str(plan), "tree": plan_json(plan)}
    assert answer.json()["tree"]["node"]["service"] == "alpha"


async def test_plan_by_apq_hash_miss_register_hit(echo: EchoSubgraphs):
    async with serve(echo) as (client, app):
        miss = await client.post("/plan", json={"extensions": _ext(QUERY)})
        register = await client.post("/plan", json={"query": QUERY, "extensions": _ext(QUERY)})
        hit = await client.post("/plan", json={"extensions": _ext(QUERY)})
        ran = await client.post("/graphql", json={"extensions": _ext(QUERY)})
        mismatch = await client.post("/plan", json={"query": OTHER, "extensions": _ext(QUERY)})
    expected = {"plan": app.router.plan_text(QUERY), "tree": plan_json(app.router.plan(QUERY))}
    assert (miss.status_code, miss.json()) == (
        200,
        _error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND"),
    )
    assert (register.status_code, register.json()) == (200, expected)
    assert (hit.status_code, hit.json()) == (200, expected)
    # what /plan registered, /graphql runs: one store
    assert ran.status_code == 200 and ran.json()["data"]["alphaHeaders"] is not None
    assert (mismatch.status_code, mismatch.json()) == (
        400,
        _error("provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH"),
    )
    assert echo.behaviour["beta"].requests == []


async def test_plan_refuses_what_the_safelist_refuses(echo: EchoSubgraphs, tmp_path: Path):
    manifest = tmp_path / "manifest.json"
    operation = {"id": _sha(QUERY), "name": "Alpha", "type": "query", "body": QUERY}
    manifest.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [operation]}
        )
    )
    config = {"persisted_queries": {"manifest": str(manifest), "safelist": True}}
    async with serve(echo, config) as (client, app):
        listed = await client.post("/plan", json={"query": QUERY})
        by_id = await client.post("/plan", json={"extensions": _ext(QUERY)})
        refused = await client.post("/plan", json={"query": OTHER})
        apq = await client.post("/plan", json={"query": OTHER, "extensions": _ext(OTHER)})
        after = await client.post("/plan", json={"extensions": _ext(OTHER)})
    expected = {"plan": app.router.plan_text(QUERY), "tree": plan_json(app.router.plan(QUERY))}
    assert (listed.status_code, listed.json()) == (200, expected)
    assert (by_id.status_code, by_id.json()) == (200, expected)
    not_listed = _error("PersistedQueryNotInList", "PERSISTED_QUERY_NOT_IN_LIST")
    assert (refused.status_code, refused.json()) == (400, not_listed)
    assert (apq.status_code, apq.json()) == (400, not_listed)
    # the refused text was not registered: its hash is still unknown
    assert (after.status_code, after.json()) == (
        200,
        _error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND"),
    )
