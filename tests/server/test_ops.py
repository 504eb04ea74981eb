"""The ops surface: /health, /ready, Prometheus /metrics, JSON request logs with the
request id, OpenTelemetry spans per subgraph fetch, and the playground's HTTP side."""

from __future__ import annotations

import io
import json
import logging
import re

from router.config import LoggingConfig
from router.planner.plan_json import plan_json
from router.server.logs import configure_logging
from tests.server.conftest import serve
from tests.server.echo_subgraph import EchoSubgraphs, closed_port_url

BOTH = "query Both { alphaHeaders betaHeaders }"


async def test_health_and_ready(echo: EchoSubgraphs):
    async with serve(echo) as (client, _):
        health = await client.get("/health")
        ready = await client.get("/ready")
    assert (health.status_code, health.json()) == (
        200,
        {"status": "pass", "service": "router", "checks": {}},
    )
    assert health.headers["content-type"].startswith("application/health+json")
    assert (ready.status_code, ready.json()) == (
        200,
        {
            "status": "pass",
            "service": "router",
            "checks": {
                "supergraph": {"status": "pass"},
                "subgraph:alpha": {"status": "pass"},
                "subgraph:beta": {"status": "pass"},
            },
        },
    )


async def test_not_ready_names_the_unreachable_subgraph(echo: EchoSubgraphs):
    urls = {"alpha": echo.url("alpha"), "beta": closed_port_url()}
    async with serve(echo, urls=urls) as (client, _):
        ready = await client.get("/ready")
        health = await client.get("/health")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "fail",
        "service": "router",
        "checks": {
            "supergraph": {"status": "pass"},
            "subgraph:alpha": {"status": "pass"},
            "subgraph:beta": {"status": "fail", "output": "ConnectError"},
        },
    }
    assert health.status_code == 200  # alive, just not ready


class _Samples(dict[str, float]):
    """Sample values by name and labels. Label order carries no meaning in the text
    format (prometheus_client sorts them), so keys are looked up with sorted labels."""

    def __getitem__(self, sample: str) -> float:
        return super().__getitem__(_sorted_labels(sample))


def _sorted_labels(sample: str) -> str:
    name, _, labels = sample.partition("{")
    return f"{name}{{{','.join(sorted(labels[:-1].split(',')))}}}" if labels else name


def _samples(text: str) -> dict[str, float]:
    samples = _Samples()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[_sorted_labels(name)] = float(value)
    return samples


async def test_metrics(echo: EchoSubgraphs):
    echo.behaviour["beta"].mode = "status"
    config = {"traffic": {"retries": 0}}
    async with serve(echo, config) as (client, _):
        for _ in range(2):
            await client.post("/graphql", json={"query": BOTH, "operationName": "Both"})
        await client.post("/graphql", json={"query": "{ nope }"})
        response = await client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = _samples(response.text)
    assert samples['shopgraph_requests_total{operation="Both",status="200"}'] == 2
    # refused before an operation was found: one label whatever the client named
    assert samples['shopgraph_requests_total{operation="__unknown__",status="200"}'] == 1
    assert samples['shopgraph_request_duration_seconds_count{operation="Both"}'] == 2
    assert samples['shopgraph_request_duration_seconds_bucket{operation="Both",le="+Inf"}'] == 2
    fetch = "shopgraph_subgraph_fetch_duration_seconds_count"
    assert samples[f'{fetch}{{subgraph="alpha",outcome="ok"}}'] == 2
    assert samples[f'{fetch}{{subgraph="beta",outcome="SUBREQUEST_HTTP_ERROR"}}'] == 2
    assert samples['shopgraph_errors_total{code="SUBREQUEST_HTTP_ERROR"}'] == 2
    assert samples['shopgraph_errors_total{code="GRAPHQL_VALIDATION_FAILED"}'] == 1
    assert samples['shopgraph_plan_cache_total{result="hit"}'] == 1
    assert samples['shopgraph_plan_cache_total{result="miss"}'] == 2
    for line in response.text.splitlines():  # every line is a comment or a valid sample
        assert line.startswith("# ") or re.fullmatch(r"[a-z_]+(\{[^}]*\})? [0-9.e+-]+", line)


async def test_json_request_logs_carry_the_request_id(echo: EchoSubgraphs):
    stream = io.StringIO()
    logger = logging.getLogger("shopgraph")
    saved = (logger.level, logger.propagate)
    handler = configure_logging(LoggingConfig(format="json"), stream)
    try:
        async with serve(echo) as (client, _):
            await client.post(
                "/graphql", json={"query": BOTH}, headers={"x-request-id": "trace-me-1"}
            )
    finally:
        # leave logging as found: later tests capture "shopgraph" logs through the root
        logger.removeHandler(handler)
        handler.close()
        logger.level, logger.propagate = saved
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    requests = [e for e in entries if e["message"] == "graphql request"]
    assert len(requests) == 1
    entry = requests[0]
    assert (entry["request_id"], entry["operation"], entry["status"], entry["error_codes"]) == (
        "trace-me-1",
        "Both",
        200,
        [],
    )
    assert entry["level"] == "info" and entry["logger"] == "shopgraph.router.requests"


async def test_tracing_spans_per_subgraph_fetch(echo: EchoSubgraphs):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from router.server.tracing import Tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with serve(echo, tracing=Tracing(provider)) as (client, _):
        body = (await client.post("/graphql", json={"query": BOTH})).json()
    spans = exporter.get_finished_spans()
    request = next(s for s in spans if s.name == "graphql.request")
    fetches = sorted(
        (s for s in spans if s.name == "subgraph.fetch"),
        key=lambda s: s.attributes["shopgraph.subgraph"],
    )
    assert len(spans) == 3
    assert [s.attributes["shopgraph.subgraph"] for s in fetches] == ["alpha", "beta"]
    for span in fetches:
        assert span.parent is not None and span.parent.span_id == request.context.span_id
        assert span.attributes["shopgraph.outcome"] == "ok"
        assert span.attributes["http.response.status_code"] == 200
    assert request.attributes["graphql.operation.name"] == "Both"
    # the subgraph got the W3C trace context of its fetch span
    seen = json.loads(body["data"]["alphaHeaders"])
    alpha = fetches[0]
    assert seen["traceparent"] == (
        f"00-{alpha.context.trace_id:032x}-{alpha.context.span_id:016x}"
        f"-{int(alpha.context.trace_flags):02x}"
    )


async def test_playground_page_and_assets_are_local(echo: EchoSubgraphs):
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    async with serve(echo) as (client, _):
        page = await client.get("/graphql", headers={"accept": browser_accept})
        same = await client.get("/playground")
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assets = {src: await client.get(src) for src in sources}
        license_file = await client.get("/playground/static/licenses/graphiql.LICENSE")
        escape = await client.get("/playground/static/../../config.py")
        json_get = await client.get("/graphql", params={"query": "{ __typename }"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert same.text == page.text
    names = sorted(src.rsplit("/", 1)[1].split("?", 1)[0] for src in sources)
    assert names == [
        "graphiql.min.css",
        "graphiql.min.js",
        "plan-diagram.js",
        "playground.css",
        "playground.js",
        "react-dom.production.min.js",
        "react.production.min.js",
        "trace-waterfall.js",
    ]
    for src, response in assets.items():
        assert src.startswith("/playground/static/"), src
        assert response.status_code == 200, src
    assert "MIT License" in license_file.text
    assert escape.status_code == 404
    assert json_get.json() == {"data": {"__typename": "Query"}}  # curl/fetch still get JSON


async def test_plan_endpoint(echo: EchoSubgraphs):
    async with serve(echo) as (client, app):
        plan = await client.post("/plan", json={"query": BOTH})
        bad = await client.post("/plan", json={"query": "{ nope }"})
        get = await client.get("/plan")
    assert plan.json() == {
        "plan": app.router.plan_text(BOTH),
        "tree": plan_json(app.router.plan(BOTH)),
    }
    assert 'Fetch(service: "alpha")' in plan.json()["plan"]
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert get.status_code == 405
