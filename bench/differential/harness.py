"""Run generated operations through the references and our router, scenario by scenario.

One `SubgraphServer` serves every selected scenario's subgraphs. Per scenario the
operations are generated first (no gateway needed), then Apollo Gateway and Hive
Gateway are started once, our router is built on both supergraph sources, and each
operation is sent to the four targets at once and judged (`compare.verdict`).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.differential import gateways
from bench.differential.compare import (
    ReferenceBug,
    Verdict,
    load_reference_bugs,
    split_side,
    verdict,
)
from bench.differential.generate import GenerationStats, Operation, generate_operations
from bench.differential.values import build_pool
from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Scenario

TARGETS = ("apollo", "hive", "ours@apollo", "ours@shopgraph")


@dataclass
class OperationResult:
    """One operation, the four answers and the verdict."""

    index: int  # 1-based position in the scenario's generated sequence
    operation: Operation
    verdict: Verdict
    differing: list[str]  # supergraph sources on which ours differs from the references
    responses: dict[str, Any]  # target (TARGETS) -> response
    # on a reference split: per supergraph source, which reference ours answers like
    sides: dict[str, str] = field(default_factory=dict)

    @property
    def side(self) -> str:
        """On a split: apollo, hive or neither (`mixed` when the two sources differ)."""
        found = set(self.sides.values())
        return found.pop() if len(found) == 1 else "mixed"

    @property
    def id(self) -> str:
        return f"op{self.index}"


@dataclass
class ScenarioResult:
    """Everything a scenario's run produced; `error` when it could not run."""

    name: str
    stats: GenerationStats = field(default_factory=GenerationStats)
    operations: list[OperationResult] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    crashes: dict[str, list[str]] = field(default_factory=dict)  # gateway -> log tails

    def count(self, kind: Verdict) -> int:
        return sum(result.verdict is kind for result in self.operations)


def scenario_rng(seed: int, scenario: str) -> random.Random:
    """The generator's random source for one scenario: the same whichever scenarios run."""
    return random.Random(f"{seed}:{scenario}")


def scenario_operations(
    scenario: Scenario, seed: int, count: int
) -> tuple[list[Operation], GenerationStats]:
    """The scenario's operations for `seed`: a run with a smaller count gets a prefix."""
    from router.supergraph.load import load_supergraph

    schema = load_supergraph(scenario.supergraph).api_schema
    pool = build_pool(schema, [(case.query, case.variables) for case in scenario.cases])
    stats = GenerationStats()
    operations = generate_operations(
        schema, pool, scenario_rng(seed, scenario.name), count, stats=stats
    )
    return operations, stats


async def _judge(
    index: int,
    operation: Operation,
    targets: dict[str, gateways.Target],
    known: Sequence[ReferenceBug] = (),
) -> OperationResult:
    answers = await asyncio.gather(
        *(targets[name].execute(operation.query, operation.variables) for name in TARGETS)
    )
    responses = dict(zip(TARGETS, answers, strict=True))
    ours = {source: responses[f"ours@{source}"] for source in gateways.OUR_SOURCES}
    kind, differing = verdict(responses["apollo"], responses["hive"], ours, known)
    sides = (
        {s: split_side(responses["apollo"], responses["hive"], r) for s, r in ours.items()}
        if kind is Verdict.SPLIT else {}
    )
    return OperationResult(index, operation, kind, differing, responses, sides)


async def run_scenario(
    scenario: Scenario,
    server: SubgraphServer,
    seed: int,
    count: int,
    references: gateways.References,
    when_ready: Callable[[], None] = lambda: None,
) -> ScenarioResult:
    """Generate the scenario's operations and judge each one against the references.

    `references` are the scenario's gateways, already spawned; `when_ready` is called
    once they answer (the harness boots the next scenario's gateways then).
    """
    started = time.monotonic()
    result = ScenarioResult(scenario.name)
    operations, result.stats = scenario_operations(scenario, seed, count)
    urls = server.subgraph_urls(scenario.name)
    ours = gateways.our_routers(scenario.name, scenario.supergraph, scenario.subgraph_sdls, urls)
    known = load_reference_bugs().get(scenario.name, [])
    try:
        running = await references.ready()
        when_ready()
        targets: dict[str, gateways.Target] = {
            **running,
            **{f"ours@{source}": router for source, router in ours.items()},
        }
        for index, operation in enumerate(operations, start=1):
            result.operations.append(await _judge(index, operation, targets, known))
            server.reset(scenario.name)  # drop the recorded request bodies
    finally:
        result.crashes = references.crashes
        for router in ours.values():
            await router.aclose()
        result.seconds = time.monotonic() - started
    return result


async def run(
    scenarios: Sequence[Scenario],
    seed: int,
    count: int,
    keep_going: bool = False,
    progress: Callable[[ScenarioResult], None] | None = None,
) -> list[ScenarioResult]:
    """Every scenario in turn. A scenario that cannot run stops the run unless `keep_going`.

    Each scenario's gateways boot while the previous scenario's operations run.
    """
    gateways.ensure_installed()
    results: list[ScenarioResult] = []
    spawned: dict[int, gateways.References] = {}
    with SubgraphServer() as server, tempfile.TemporaryDirectory(prefix="differential-") as tmp:
        for scenario in scenarios:
            for name, resolvers in scenario.resolvers.items():
                server.mount(scenario.name, name, scenario.subgraph_sdls[name], resolvers)
        async with httpx.AsyncClient() as client:

            def spawn(index: int) -> None:
                if index < len(scenarios) and index not in spawned:
                    scenario = scenarios[index]
                    spawned[index] = gateways.References(
                        scenario.name, scenario.supergraph,
                        server.subgraph_urls(scenario.name), Path(tmp), client,
                    )

            try:
                spawn(0)
                for index, scenario in enumerate(scenarios):
                    references = spawned[index]
                    try:
                        result = await run_scenario(
                            scenario, server, seed, count, references,
                            when_ready=lambda index=index: spawn(index + 1),
                        )
                    except Exception as error:
                        result = ScenarioResult(
                            scenario.name, error=f"{type(error).__name__}: {error}"
                        )
                    finally:
                        references.stop()
                    results.append(result)
                    if progress is not None:
                        progress(result)
                    if result.error is not None and not keep_going:
                        break
                    spawn(index + 1)
            finally:
                for references in spawned.values():
                    references.stop()
    return results
