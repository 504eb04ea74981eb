"""Router tests reuse the conformance kit: real subgraphs over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario, load_scenarios


def scenario(name: str) -> Scenario:
    return next(s for s in load_scenarios([name]) if s.name == name)


@pytest.fixture(scope="session")
def keys_single() -> Scenario:
    return scenario("keys-single")


@pytest.fixture(scope="session")
def keys_server(keys_single: Scenario) -> Iterator[SubgraphServer]:
    with SubgraphServer() as server:
        for name, resolvers in keys_single.resolvers.items():
            server.mount(keys_single.name, name, keys_single.subgraph_sdls[name], resolvers)
        yield server
