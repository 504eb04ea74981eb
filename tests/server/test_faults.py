"""Failing subgraphs: one that hangs, one that answers 500, one that is down. The router
answers with partial data and coded errors (never a 500), retries only what is safe, and
its circuit breaker fails fast while a subgraph keeps failing."""

from __future__ import annotations

import time

from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs, closed_port_url

BOTH = "{ alphaHeaders betaHeaders }"
NO_BREAKER = {"circuit_breaker": {"enabled": False}}


def _only_error(body: dict) -> dict:
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


async def test_hanging_subgraph_times_out_with_partial_data(echo: EchoSubgraphs):
    echo.behaviour["beta"].mode = "hang"
    config = {"traffic": NO_BREAKER, "subgraphs": {"beta": {"timeout": 0.3}}}
    async with serve(echo, config) as (client, _):
        started = time.monotonic()
        response = await client.post("/graphql", json={"query": BOTH})
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["betaHeaders"] is None
    assert body["data"]["alphaHeaders"] is not None
    assert _only_error(body) == {
        "message": "request to subgraph 'beta' timed out after 0.3 s",
        "path": ["betaHeaders"],
        "extensions": {"code": "SUBREQUEST_TIMEOUT", "serviceName": "beta"},
    }
    assert elapsed < 5  # the 0.3 s timeout applied, not the 10 s default
    assert len(echo.behaviour["beta"].requests) == 1  # a read timeout is not retried


async def test_subgraph_500_gives_partial_data_and_is_not_retried(echo: EchoSubgraphs):
    echo.behaviour["beta"].mode = "status"
    async with serve(echo, {"traffic": NO_BREAKER}) as (client, _):
        response = await client.post(
            "/graphql",
            json={"query": BOTH},
            headers={"accept": "application/graphql-response+json"},
        )
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["betaHeaders"] is None and body["data"]["alphaHeaders"]
    assert _only_error(body) == {
        "message": "HTTP fetch failed from 'beta': 500: Internal Server Error",
        "extensions": {
            "code": "SUBREQUEST_HTTP_ERROR",
            "serviceName": "beta",
            "http": {"status": 500},
        },
    }
    assert len(echo.behaviour["beta"].requests) == 1


async def test_unavailable_subgraph_is_retried_for_queries(echo: EchoSubgraphs):
    behaviour = echo.behaviour["beta"]
    behaviour.mode, behaviour.status, behaviour.fail_times = "status", 503, 2
    config = {"traffic": {**NO_BREAKER, "retries": 2, "retry_backoff": 0.01}}
    async with serve(echo, config) as (client, _):
        body = (await client.post("/graphql", json={"query": BOTH})).json()
    assert "errors" not in body
    assert body["data"]["betaHeaders"] is not None
    assert len(behaviour.requests) == 3


async def test_retries_are_limited(echo: EchoSubgraphs):
    behaviour = echo.behaviour["beta"]
    behaviour.mode, behaviour.status = "status", 503
    config = {"traffic": NO_BREAKER, "subgraphs": {"beta": {"retries": 1}}}
    async with serve(echo, config) as (client, _):
        body = (await client.post("/graphql", json={"query": BOTH})).json()
    assert _only_error(body)["extensions"]["http"] == {"status": 503}
    assert len(behaviour.requests) == 2


async def test_down_subgraph_gives_partial_data(echo: EchoSubgraphs):
    urls = {"alpha": echo.url("alpha"), "beta": closed_port_url()}
    config = {"traffic": {**NO_BREAKER, "retry_backoff": 0.01}}
    async with serve(echo, config, urls) as (client, _):
        response = await client.post("/graphql", json={"query": BOTH})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"alphaHeaders": body["data"]["alphaHeaders"], "betaHeaders": None}
    assert body["data"]["alphaHeaders"]
    assert _only_error(body) == {
        "message": "HTTP fetch failed from 'beta': ConnectError",
        "path": ["betaHeaders"],
        "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "serviceName": "beta"},
    }


async def test_circuit_breaker_fails_fast_then_recovers(echo: EchoSubgraphs):
    behaviour = echo.behaviour["beta"]
    behaviour.mode = "status"
    config = {
        "traffic": {
            "retries": 0,
            "circuit_breaker": {"failure_threshold": 3, "open_seconds": 0.5},
        }
    }
    async with serve(echo, config) as (client, app):
        codes = []
        for _ in range(5):
            body = (await client.post("/graphql", json={"query": "{ betaHeaders }"})).json()
            codes.append(_only_error(body)["extensions"]["code"])
        assert codes == ["SUBREQUEST_HTTP_ERROR"] * 3 + ["SUBREQUEST_CIRCUIT_OPEN"] * 2
        assert len(behaviour.requests) == 3  # the open circuit sent nothing
        assert app.breakers is not None and app.breakers.states() == {"beta": "open"}
        open_error = _only_error(body)
        assert open_error["message"] == (
            "subgraph 'beta' is failing; requests to it are paused (circuit breaker open)"
        )
        # alpha is unaffected while beta's circuit is open
        alpha = (await client.post("/graphql", json={"query": "{ alphaHeaders }"})).json()
        assert "errors" not in alpha

        behaviour.mode = "ok"
        time.sleep(0.6)  # past open_seconds: one trial request goes through and succeeds
        healed = (await client.post("/graphql", json={"query": "{ betaHeaders }"})).json()
        assert "errors" not in healed
        assert app.breakers.states() == {"alpha": "closed", "beta": "closed"}
