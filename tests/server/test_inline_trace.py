"""The inline trace (`shopgraph-trace: 1` -> `extensions.trace`) over real HTTP: a
`shopgraph router` process over three real subgraphs, open to everyone (development)
or to callers whose verified token has the `admin` scope; ignored silently otherwise."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml

from router.config import parse_config
from subgraphs.commands.router_config import with_dev_trace, write_router_config
from tests.conformance.kit import SubgraphServer
from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs, closed_port_url
from tests.server.router_process import RouterServer, router_process
from tests.server.trace_graph import ENTITY_DELAY, QUERY, SCENARIO, supergraph, trace_subgraphs

SECRET = "inline-trace-test-secret-of-enough-length"
TRACE = {"shopgraph-trace": "1"}
DATA = {
    "topProducts": [
        {"name": f"name-{upc}", "reviews": [{"body": f"about {upc}"}], "inStock": True}
        for upc in ["p1", "p2", "p1", "p3"]
    ]
}


@pytest.fixture(scope="module")
def subgraphs() -> Iterator[SubgraphServer]:
    with trace_subgraphs() as server:
        yield server


@pytest.fixture(scope="module")
def dev_router(
    subgraphs: SubgraphServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RouterServer]:
    config = {"telemetry": {"inline_trace": {"enabled": True, "allow": "development"}}}
    graph = supergraph(subgraphs.subgraph_urls(SCENARIO))
    with router_process(tmp_path_factory.mktemp("dev"), graph, config) as router:
        yield router


@pytest.fixture(scope="module")
def scoped_router(
    subgraphs: SubgraphServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RouterServer]:
    """Traces for admins only; inventory is down (its URL a closed port)."""
    config = {
        "auth": {"jwt": {"secret": SECRET}},
        "telemetry": {"inline_trace": {"enabled": True, "allow": "scopes", "scopes": ["admin"]}},
    }
    urls = {**subgraphs.subgraph_urls(SCENARIO), "inventory": closed_port_url()}
    with router_process(tmp_path_factory.mktemp("scoped"), supergraph(urls), config) as router:
        yield router


def _token(scope: str) -> dict[str, str]:
    claims = {"sub": "u-1", "scope": scope, "exp": int(time.time()) + 300}
    return {"authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


def _post(router: RouterServer, query: str, headers: dict[str, str]) -> dict[str, Any]:
    response = httpx.post(f"{router.url}/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _answer_sizes(subgraphs: SubgraphServer) -> dict[str, int]:
    """Each subgraph's answer size, in bytes, to the one request it got (sent again)."""
    sizes = {}
    for name, bodies in subgraphs.requests(SCENARIO).items():
        if bodies:
            assert len(bodies) == 1, (name, bodies)
            sizes[name] = len(httpx.post(subgraphs.url(SCENARIO, name), json=bodies[0]).content)
    return sizes


def _end(entry: dict[str, Any]) -> float:
    return float(entry["startMs"] + entry["durationMs"])


def test_development_traces_every_subgraph_call(
    dev_router: RouterServer, subgraphs: SubgraphServer
):
    subgraphs.reset(SCENARIO)
    body = _post(dev_router, QUERY, {"Shopgraph-Trace": "1"})
    sizes = _answer_sizes(subgraphs)
    assert body["data"] == DATA and "errors" not in body
    trace = body["extensions"]["trace"]
    assert set(trace) == {"version", "durationMs", "fetches"} and trace["version"] == 1
    root, first, second = trace["fetches"]
    shapes = [
        (f["service"], f["fetchId"], f["path"], f["entities"], f["deferred"], f["bytes"])
        for f in trace["fetches"]
    ]
    # the planner's ids (see `shopgraph plan`); three distinct products of four
    assert shapes == [
        ("products", 0, "", None, None, sizes["products"]),
        ("inventory", 1, "topProducts.@", 3, None, sizes["inventory"]),
        ("reviews", 2, "topProducts.@", 3, None, sizes["reviews"]),
    ]
    # the entity fetches wait for the root fetch, then run side by side
    assert 0 <= root["startMs"] <= _end(root) <= first["startMs"] <= second["startMs"]
    assert second["startMs"] < _end(first) and first["startMs"] < _end(second)
    assert min(first["durationMs"], second["durationMs"]) >= ENTITY_DELAY * 1000 * 0.9
    assert max(_end(first), _end(second)) <= trace["durationMs"]


def test_get_is_traced_and_untraced_requests_carry_no_extension(
    dev_router: RouterServer, subgraphs: SubgraphServer
):
    query = "{ topProducts { name } }"
    subgraphs.reset(SCENARIO)
    get = httpx.get(f"{dev_router.url}/graphql", params={"query": query}, headers=TRACE)
    sizes = _answer_sizes(subgraphs)
    assert get.status_code == 200
    (entry,) = get.json()["extensions"]["trace"]["fetches"]
    assert (entry["service"], entry["path"], entry["entities"], entry["bytes"]) == (
        "products",
        "",
        None,
        sizes["products"],
    )
    plain = _post(dev_router, query, {})
    other_value = _post(dev_router, query, {"shopgraph-trace": "yes"})
    names = [{"name": f"name-{upc}"} for upc in ["p1", "p2", "p1", "p3"]]
    assert plain == other_value == {"data": {"topProducts": names}}


def test_subgraph_errors_are_reported_beside_the_trace(
    dev_router: RouterServer, subgraphs: SubgraphServer
):
    subgraphs.reset(SCENARIO)
    body = _post(dev_router, "{ broken }", TRACE)
    sizes = _answer_sizes(subgraphs)
    assert body["data"] == {"broken": None}
    assert [(e["message"], e["path"]) for e in body["errors"]] == [
        ("broken on purpose", ["broken"])
    ]
    (entry,) = body["extensions"]["trace"]["fetches"]
    assert (entry["service"], entry["bytes"]) == ("products", sizes["products"])


def test_scopes_allow_admins_only_and_ignore_the_others_silently(scoped_router: RouterServer):
    query = "{ topProducts { name } }"
    names = {"topProducts": [{"name": f"name-{upc}"} for upc in ["p1", "p2", "p1", "p3"]]}
    admin = _post(scoped_router, query, {**TRACE, **_token("admin")})
    refused = [
        _post(scoped_router, query, {**TRACE, **_token("customer")}),
        _post(scoped_router, query, TRACE),  # no token
        _post(scoped_router, query, _token("admin")),  # not asked
    ]
    assert admin["data"] == names
    assert [f["service"] for f in admin["extensions"]["trace"]["fetches"]] == ["products"]
    assert refused == [{"data": names}] * 3


def test_a_failed_call_is_traced_with_no_bytes(scoped_router: RouterServer):
    body = _post(scoped_router, "{ topProducts { name inStock } }", {**TRACE, **_token("admin")})
    assert body["data"] is None  # inStock is non-null: the failure nulls the list, then data
    codes = {(e["extensions"]["code"], e["extensions"]["serviceName"]) for e in body["errors"]}
    assert codes == {("SUBREQUEST_HTTP_ERROR", "inventory")}
    products, inventory = body["extensions"]["trace"]["fetches"]
    assert products["service"] == "products" and products["bytes"] > 0
    assert (inventory["service"], inventory["entities"], inventory["bytes"]) == ("inventory", 3, 0)
    assert inventory["startMs"] >= _end(products)


async def test_the_trace_is_off_unless_configured(echo: EchoSubgraphs):
    async with serve(echo) as (client, _):
        answer = await client.post("/graphql", json={"query": "{ alphaHeaders }"}, headers=TRACE)
    assert answer.status_code == 200 and set(answer.json()) == {"data"}


def test_shopgraph_dev_opens_the_trace_unless_the_user_configures_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SHOPGRAPH_JWT_SECRET", SECRET)  # the dev router reads it at load
    path, _ = write_router_config(tmp_path, None, {"SHOPGRAPH_JWT_SECRET": SECRET})
    config = parse_config(yaml.safe_load(path.read_text()))
    assert (config.telemetry.inline_trace.enabled, config.telemetry.inline_trace.allow) == (
        True,
        "development",
    )
    own = {"telemetry": {"inline_trace": {"enabled": False}, "metrics": False}}
    assert with_dev_trace(own) == own
    assert with_dev_trace({"telemetry": {"metrics": False}}) == {
        "telemetry": {"metrics": False, "inline_trace": {"enabled": True, "allow": "development"}}
    }
