"""Every conformance case, deferred: each selection set's fields after the first wrapped
in `... @defer { }` (nested selection sets give nested defers), run through the
incremental executor over the scenario's real subgraphs. Wherever the plain answer has no
error, the merged payloads must equal it exactly, with no error in any payload; the
cases compared are counted per scenario (COMPARED), each delivered in several payloads."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import (
    DirectiveNode,
    FieldNode,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

from router.core import Router
from router.executor.incremental import deferred_node
from tests.conformance.kit import SubgraphServer
from tests.conformance.scenarios import Case, Scenario, load_scenarios
from tests.router.test_defer_execution import merged

# Cases whose deferred answer differs from the plain one by design, not by mistake.
DIFFERENT = {
    # @provides: the deferred fragment is fetched from the field's owner by an entity
    # fetch (no provides path there), and these scenarios' owners answer other values
    # than the providers on purpose ("*" marks the provided ones)
    "external-mixed": "provides",
    "pattern-nested-provides": "provides",
    "pattern-provides-on-union": "provides",
    "pattern-provides-only-requested": "provides",
    "provides-abstract": "provides",
    "provides-nested": "provides",
    # an entity that comes back null: null propagation stops at the deferred fragment
    # instead of nulling its parent
    "null-entities": "null propagation",
    # the kit's subgraph has no reference resolver for the type the deferred entity
    # fetch asks (the plain plan never asks it): it answers nulls
    "keys-composite": "no reference resolver for Variant in catalog",
    "pattern-override-with-requires": "no reference resolver for Refund in orders",
    "pattern-typename": "its reference resolver answers nothing, on purpose",
}
DEFER = DirectiveNode(name=NameNode(value="defer"), arguments=())
SCENARIOS = [s for s in load_scenarios() if s.name not in DIFFERENT]
# The cases compared per scenario (the plain answer has no error and the deferred plan
# defers something with the case's variables: a deferred fragment whose fields the
# variables or literals all @skip is not deferred); 0: none does (mutations, errors).
COMPARED = {
    "abstract-interfaces": 5,
    "abstract-unions": 4,
    "circular-references": 5,
    "directives-skip-include": 7,
    "entity-chain-linear": 6,
    "entity-lists-batching": 7,
    "entity-roundtrip": 8,
    "enum-partial-values": 5,
    "errors-subgraph-failures": 0,
    "errors-validation": 1,
    "executable-directive-defaults": 1,
    "external-fed1": 7,
    "external-never-read": 3,
    "inaccessible-implementations": 3,
    "inaccessible-members": 4,
    "input-partial-fields": 4,
    "interface-object-indirect": 4,
    "interface-object-media": 4,
    "interface-object-shared-field": 0,
    "interface-without-implementations": 0,
    "introspection-api-schema": 1,
    "keys-multiple": 8,
    "keys-single": 4,
    "keys-unresolvable": 5,
    "mismatch-field-types": 7,
    "mutations-ordering": 0,
    "node-relay-lookup": 6,
    "operations-aliases-fragments": 15,
    "override-billing": 5,
    "override-interfaces": 5,
    "override-labels": 3,
    "override-retired-source": 4,
    "parent-entity-keyless": 5,
    "pattern-abstract-types": 10,
    "pattern-child-type-mismatch": 5,
    "pattern-circular-reference-interface": 4,
    "pattern-complex-entity-call": 4,
    "pattern-external-extensions": 4,
    "pattern-include-skip": 5,
    "pattern-keys-mashup": 5,
    "pattern-mutations": 0,
    "pattern-node-shared": 7,
    "pattern-null-keys": 4,
    "pattern-parent-entity-call": 4,
    "pattern-provides-on-interface": 1,
    "pattern-requires-circular": 5,
    "pattern-requires-requires": 4,
    "pattern-requires-with-argument": 7,
    "pattern-requires-with-fragments": 3,
    "pattern-shared-root": 1,
    "pattern-union-interface-distributed": 2,
    "pattern-union-intersection": 5,
    "provides-interface-parent": 2,
    "requires-arguments": 6,
    "requires-chain": 4,
    "requires-conflicting-args": 7,
    "requires-interface-object": 3,
    "requires-nested": 6,
    "requires-scalar": 7,
    "shareable-catalog": 9,
    "shareable-shipping": 6,
    "skip-include-alternatives": 0,
    "union-members-per-subgraph": 1,
}


class _Defer(Visitor):
    """Defers every field of a (non-root) selection set but the first."""

    def leave_selection_set(self, node: SelectionSetNode, _key: Any, parent: Any, *_: Any) -> Any:
        if isinstance(parent, OperationDefinitionNode):
            return None
        fields = [s for s in node.selections if isinstance(s, FieldNode)]
        if len(fields) < 2:
            return None
        rest = tuple(s for s in node.selections if s is not fields[0])
        deferred = InlineFragmentNode(
            type_condition=None,
            directives=(DEFER,),
            selection_set=SelectionSetNode(selections=rest),
        )
        return SelectionSetNode(selections=(fields[0], deferred))


def deferred(query: str) -> str:
    """The query with its selection sets deferred (see `_Defer`)."""
    return print_ast(visit(parse(query), _Defer()))


@pytest.fixture(scope="module")
def server() -> Iterator[SubgraphServer]:
    with SubgraphServer() as served:
        for s in SCENARIOS:
            for name, resolvers in s.resolvers.items():
                served.mount(s.name, name, s.subgraph_sdls[name], resolvers)
        yield served


async def _compare(router: Router, case: Case) -> tuple[Any, Any] | None:
    """(plain data, merged payloads) of one case; None when it has nothing to compare
    (an error in the plain answer, nothing deferred). Where the deferred plan defers
    with the case's variables, the answer must come in more than one payload."""
    plain = await router.execute(case.query, case.variables, case.operation_name)
    if plain.get("errors") or plain.get("data") is None:
        return None
    prepared = router.prepare(deferred(case.query), case.operation_name)
    variables = router.coerce_variables(prepared, case.variables)
    defers = deferred_node(prepared.plan, variables) is not None
    stream = router.execute_incremental(prepared, variables)
    assert (stream is not None) is defers, case.name
    if stream is None:
        return None
    payloads = [payload async for payload in stream]
    assert len(payloads) > 1, case.name
    assert not any(p.get("errors") for p in payloads)
    assert not any(i.get("errors") for p in payloads for i in p.get("incremental", ()))
    return plain["data"], merged(payloads)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_deferred_cases_merge_to_the_plain_answer(
    server: SubgraphServer, scenario: Scenario
) -> None:
    async def run() -> int:
        compared = 0
        router = Router.from_supergraph(
            scenario.supergraph, subgraph_urls=server.subgraph_urls(scenario.name)
        )
        try:
            for case in scenario.cases:
                if case.headers:
                    continue
                result = await _compare(router, case)
                if result is not None:
                    assert result[1] == result[0], case.name
                    compared += 1
        finally:
            await router.aclose()
        return compared

    assert asyncio.run(run()) == COMPARED[scenario.name]


def test_every_scenario_has_its_count() -> None:
    assert sorted(COMPARED) == sorted(s.name for s in SCENARIOS)
    assert sum(COMPARED.values()) == 277
