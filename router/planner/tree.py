"""From fetch groups to the plan tree: Fetch/Flatten nodes layered into Sequence/Parallel."""

from __future__ import annotations

from graphql import (
    VariableDefinitionNode,
    print_ast,
)

from router.operation import Operation
from router.planner.costs import PlanningError
from router.planner.groups import Group, PlanState
from router.planner.nodes import (
    Condition,
    Fetch,
    Flatten,
    Parallel,
    PlanNode,
    Sequence,
    Subscribe,
)


def _print_variable(definition: VariableDefinitionNode) -> str:
    text = f"${definition.variable.name.value}: {print_ast(definition.type)}"
    if definition.default_value is not None:
        text += f" = {print_ast(definition.default_value)}"
    return text


def fetch_node(group: Group, operation: Operation) -> Fetch:
    """The group's request: its operation text, variables and representation shapes."""
    variables: set[str] = set()
    group.selection.variables(variables)
    usages = tuple(v for v in operation.variable_definitions if v in variables)
    var_defs = [_print_variable(operation.variable_definitions[v]) for v in usages]
    name = ""
    if operation.name:
        name = f"{operation.name}__{group.subgraph}__{group.id}"
    entities_variable = "representations"
    while entities_variable in operation.variable_definitions:
        entities_variable = "_" + entities_variable
    if group.entity:
        var_defs.insert(0, f"${entities_variable}: [_Any!]!")
        body = group.selection.print("  ")
        selection = f"{{\n  _entities(representations: ${entities_variable}) {body}\n}}"
        kind = "query"
    else:
        selection = group.selection.print()
        kind = operation.kind  # "query", "mutation" or "subscription"
    header = kind
    if name:
        header += " " + name
    if var_defs:
        header += "(" + ", ".join(var_defs) + ")"
    text = selection if header == "query" else f"{header} {selection}"
    return Fetch(
        id=group.id,
        service=group.subgraph,
        operation=text,
        operation_kind=kind,
        variable_usages=usages,
        requires=dict(group.inputs),
        type_map=dict(group.type_map),
        renames=group.selection.renames(),
        entities_variable=entities_variable,
    )


def plan_node(group: Group, operation: Operation) -> PlanNode:
    """The group's fetch, under a Flatten for entities and the conditions all its
    fields share."""
    fetch = fetch_node(group, operation)
    node: PlanNode = Flatten(group.path, fetch) if group.entity else fetch
    # a fetch all of whose fields are skipped is not sent at all
    for variable, want in reversed(group.common_condition()):
        node = Condition(variable, node, None) if want else Condition(variable, None, node)
    return node


def layers(groups: list[Group]) -> list[list[Group]]:
    """Groups in dependency order: each layer only needs what earlier layers fetched."""
    remaining = [g for g in groups if not g.selection.is_empty()]
    ids = {g.id for g in remaining}
    done: set[int] = set()
    ordered: list[list[Group]] = []
    while remaining:
        layer = [
            g
            for g in remaining
            if all(d.id in done or d.id not in ids for d in g.depends_on if d is not g)
        ]
        if not layer:
            raise PlanningError("circular dependency between fetches")
        ordered.append(layer)
        done.update(g.id for g in layer)
        remaining = [g for g in remaining if g.id not in done]
    return ordered


def sequence(layered: list[list[Group]], operation: Operation) -> PlanNode | None:
    """Layers run in order, the groups of one layer in parallel; None when empty."""
    steps: list[PlanNode] = []
    for layer in layered:
        nodes = [plan_node(g, operation) for g in layer]
        steps.append(nodes[0] if len(nodes) == 1 else Parallel(tuple(nodes)))
    if not steps:
        return None
    return steps[0] if len(steps) == 1 else Sequence(tuple(steps))


def build_tree(state: PlanState, operation: Operation) -> PlanNode | None:
    """The plan tree of the groups; a mutation's root fields run one after the other."""
    if operation.kind == "subscription":
        return subscribe_node(state, operation)
    if operation.kind != "mutation":
        return sequence(layers(state.groups), operation)
    by_root: dict[int, list[Group]] = {}
    for g in state.groups:
        by_root.setdefault(g.root_index, []).append(g)
    parts = [
        node
        for _, groups in sorted(by_root.items())
        if (node := sequence(layers(groups), operation)) is not None
    ]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Sequence(tuple(parts))


def subscribe_node(state: PlanState, operation: Operation) -> Subscribe | None:
    """A subscription's plan: its one root fetch is the subscribing stream; everything
    after it (entity fetches completing each event) is the rest, run once per event."""
    layered = layers(state.groups)
    if not layered:
        return None  # only `__typename`: nothing to subscribe to
    first = layered[0]
    if len(first) != 1 or first[0].entity:
        # a root field split over subgraphs cannot be one stream
        raise PlanningError("a subscription's root field must be resolved by one subgraph")
    primary = fetch_node(first[0], operation)
    if not isinstance(plan_node(first[0], operation), Fetch):
        raise PlanningError("a subscription's root field cannot be under @skip/@include")
    return Subscribe(primary, sequence(layered[1:], operation))
