"""Every scenario case through router.Router, compared with Apollo Gateway's recording.

A case passes when the router's response equals the recorded one exactly (data,
errors, list order and the order of fields in data), and, when the case says so,
each subgraph received exactly the stated number of requests / _entities batch
sizes, and the printed plan matches.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.kit import SubgraphServer, entity_batches
from tests.conformance.scenarios import Case, Scenario, load_scenarios

SCENARIOS = load_scenarios()
CASES = [case for scenario in SCENARIOS for case in scenario.cases]

# Cases the router is known to get wrong (one `<scenario>/<case>` per line): run as
# strict xfail, so a fix shows up as XPASS and the line must then be removed.
_KNOWN_FAILURES_FILE = Path(__file__).with_name("known_failures.txt")
KNOWN_FAILURES = (
    {
        line.strip()
        for line in _KNOWN_FAILURES_FILE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    if _KNOWN_FAILURES_FILE.is_file()
    else set()
)

# Each case runs on Apollo's composition (the recorded fixture) and on ours.
SOURCES = ("apollo", "shopgraph")


def _params() -> list[Any]:
    params = []
    for case in CASES:
        for source in SOURCES:
            marks = (
                [pytest.mark.xfail(strict=True, reason="known router bug (known_failures.txt)")]
                if case.id in KNOWN_FAILURES
                else []
            )
            params.append(pytest.param(case, source, id=f"{case.id}@{source}", marks=marks))
    return params


_BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


@pytest.fixture(scope="session")
def subgraph_server() -> Iterator[SubgraphServer]:
    with SubgraphServer() as server:
        for scenario in SCENARIOS:
            for name, resolvers in scenario.resolvers.items():
                server.mount(scenario.name, name, scenario.subgraph_sdls[name], resolvers)
        yield server


def _our_composition(scenario: Scenario) -> str:
    """The scenario's subgraphs composed by shopgraph's own composer."""
    from router.composition import SubgraphSource, compose

    result = compose(
        [
            SubgraphSource(name, f"http://subgraphs.invalid/{scenario.name}/{name}", sdl)
            for name, sdl in scenario.subgraph_sdls.items()
        ]
    )
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]
    return result.supergraph_sdl


class Routers:
    """One router per scenario, built on first use and shared by its cases."""

    def __init__(self, server: SubgraphServer) -> None:
        self._server = server
        self._routers: dict[str, Any] = {}

    def get(self, scenario: Scenario, source: str = "apollo", batched: bool = False) -> Any:
        """The scenario's router; `batched`: one that sends parallel entity fetches to one
        subgraph as one request (the recordings count Apollo Gateway's requests, which
        never batches, so the cases are checked on a router that does not either)."""
        key = f"{scenario.name}@{source}{'+batched' if batched else ''}"
        if key not in self._routers:
            # imported here so a missing or broken router fails each case, not collection
            from router import Router

            supergraph = scenario.supergraph if source == "apollo" else _our_composition(scenario)
            self._routers[key] = Router.from_supergraph(
                supergraph,
                subgraph_urls=self._server.subgraph_urls(scenario.name),
                batch_fetches=batched,
            )
        return self._routers[key]

    async def aclose(self) -> None:
        for router in self._routers.values():
            await router.aclose()
        self._routers.clear()


@pytest.fixture(scope="session")
async def routers(subgraph_server: SubgraphServer) -> AsyncIterator[Routers]:
    cache = Routers(subgraph_server)
    yield cache
    await cache.aclose()


def _key_order(value: Any) -> Any:
    """The response with every object reduced to its ordered keys (for order checks)."""
    if isinstance(value, dict):
        return [(key, _key_order(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_key_order(item) for item in value]
    return None


# Subgraph URLs carry the server's ephemeral port (e.g. Apollo Gateway's HTTP-error
# extensions.response.url): compare them without it, or such cases could never pass.
_SUBGRAPH_PORT = re.compile(r"(http://127\.0\.0\.1):\d+/")


def _without_ports(value: Any) -> Any:
    return json.loads(_SUBGRAPH_PORT.sub(r"\1:PORT/", json.dumps(value)))


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _code(error: Any) -> Any:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None


_ROUTER_ERRORS_KEYS = {"reason", "code_reason", "errors"}


def _with_router_errors(recorded: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """The recording with shopgraph's wording of the same errors (see scenarios.py).

    Every replacement error carries extensions.code exactly as the router returns it (the
    response is compared with it like any other field). Where that code is not the
    recorded one, the entry must say why in `code_reason`; where it is, it must not.
    """
    unknown = set(override) - _ROUTER_ERRORS_KEYS
    assert not unknown, f"router_errors.json: unknown keys {sorted(unknown)}"
    assert isinstance(override.get("reason"), str) and override["reason"].strip(), (
        "a router_errors.json entry must say why its errors differ (reason)"
    )
    ours, theirs = override["errors"], recorded.get("errors", [])
    assert len(ours) == len(theirs), "router_errors.json must keep the number of errors"
    differing = []
    for index, (mine, recorded_error) in enumerate(zip(ours, theirs, strict=True)):
        for key in ("path", "locations"):
            assert mine.get(key) == recorded_error.get(key), (
                f"router_errors.json must keep each error's {key}"
            )
        assert isinstance(_code(mine), str) and _code(mine), (
            f"router_errors.json: error {index} must carry extensions.code as the router returns it"
        )
        if _code(mine) != _code(recorded_error):
            differing.append(f"error {index}: {_code(mine)} (recorded {_code(recorded_error)})")
    if differing:
        assert isinstance(override.get("code_reason"), str) and override["code_reason"].strip(), (
            "router_errors.json: extensions.code differs from the recording"
            f" ({'; '.join(differing)}); say why in code_reason"
        )
    else:
        assert "code_reason" not in override, (
            "router_errors.json: code_reason given but every extensions.code equals the recording"
        )
    return {**recorded, "errors": ours}


@pytest.mark.parametrize(("case", "source"), _params())
async def test_case(
    case: Case, source: str, routers: Routers, subgraph_server: SubgraphServer
) -> None:
    scenario = _BY_NAME[case.scenario]
    assert case.name in scenario.expected, (
        f"no recorded response: run python -m tests.conformance.record {case.scenario}"
    )
    expected = _without_ports(scenario.expected[case.name])
    override = scenario.router_errors.get(case.name)
    if override is not None:
        expected = _with_router_errors(expected, override)
    router = routers.get(scenario, source)

    subgraph_server.reset(case.scenario)
    response = await _answer(router, case)
    received = subgraph_server.requests(case.scenario)

    codes = [_code(error) for error in response.get("errors", [])]
    want_codes = [_code(error) for error in expected.get("errors", [])]
    assert codes == want_codes, (
        f"extensions.code {codes} != {want_codes}\nresponse:\n{_dump(response)}"
        f"\nexpected:\n{_dump(expected)}"
    )
    assert response == expected, f"response:\n{_dump(response)}\nexpected:\n{_dump(expected)}"
    assert _key_order(response.get("data")) == _key_order(expected.get("data")), (
        "fields are not in request order"
    )
    if case.requests is not None:
        want = {name: count for name, count in case.requests.items() if count}
        got = {name: len(bodies) for name, bodies in received.items() if bodies}
        assert got == want, f"requests per subgraph {got} != {want}\n{_dump(received)}"
    if case.entity_batches is not None:
        want_batches = {name: list(sizes) for name, sizes in case.entity_batches.items() if sizes}
        got_batches = entity_batches(received)
        assert got_batches == want_batches, (
            f"_entities batch sizes {got_batches} != {want_batches}\n{_dump(received)}"
        )
    if case.plan is not None:
        assert router.plan_text(case.query, case.operation_name).strip() == case.plan.strip()
    # a second time: the response is shaped by the operation's compiled walk
    # (router/executor/shape_source.py), and a third time through a router that batches
    # parallel entity fetches (router/executor/batch.py): both must answer the same
    batching = routers.get(scenario, source, batched=True)
    for label, again_router in (("second", router), ("batched", batching)):
        subgraph_server.reset(case.scenario)
        again = await _answer(again_router, case)
        assert again == response, f"{label} answer:\n{_dump(again)}\nfirst:\n{_dump(response)}"
        assert _key_order(again.get("data")) == _key_order(response.get("data"))
    batched = subgraph_server.requests(case.scenario)
    assert sum(map(len, batched.values())) <= sum(map(len, received.values()))


async def _answer(router: Any, case: Case) -> dict[str, Any]:
    """The router's answer to the case's request, ports left out."""
    response = await router.execute(
        case.query,
        variables=dict(case.variables) if case.variables is not None else None,
        operation_name=case.operation_name,
        headers=dict(case.headers) if case.headers is not None else None,
    )
    return _without_ports(response)


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.router_errors], ids=lambda s: s.name
)
def test_router_errors_entries(scenario: Scenario) -> None:
    """router_errors.json overrides existing cases only, and says why case by case: a
    reason (or code_reason) repeated across cases is a blanket sentence, not a reason."""
    cases = {case.name for case in scenario.cases}
    stale = sorted(set(scenario.router_errors) - cases)
    assert not stale, f"router_errors.json names no such case: {stale}"
    for key in ("reason", "code_reason"):
        texts = [entry[key] for entry in scenario.router_errors.values() if key in entry]
        repeated = sorted({text for text in texts if texts.count(text) > 1})
        assert not repeated, f"router_errors.json: the same {key} for several cases: {repeated}"
