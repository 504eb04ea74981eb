"""Planning where a subgraph sees an interface as an object (@interfaceObject)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from router.operation import Field, SelectionSet
from router.planner.costs import INF, PlanningError, SubgraphCosts, signature
from router.planner.groups import Group, PlanState
from router.planner.inputs import key_input, merge_input
from router.planner.position import Position
from router.planner.provided import Provided

if TYPE_CHECKING:  # the planner calls in here and is called back
    from router.planner.build import QueryPlanner


@dataclass
class _InterfaceFields:
    """Where the fields asked at an @interfaceObject position come from."""

    # fields this subgraph answers on the interface; one key may come from several
    # type conditions with other sub-selections or @skip/@include: all are planned
    local: dict[tuple, Field] = field(default_factory=dict)
    # fields another subgraph that sees the interface as an object answers, by key
    shared: dict[str, Field] = field(default_factory=dict)
    # per object type, the fields only a subgraph that owns the interface answers
    needs: dict[str, list[Field]] = field(default_factory=dict)
    # where each key selected on the interface itself comes from: local, shared or owner
    placed: dict[str, str] = field(default_factory=dict)
    needs_typename: bool = False


def _field_shape(f: Field) -> tuple:
    """What a field asks for (arguments, conditions, sub-selection), for deduplication."""
    sub: tuple = ()
    if f.selection is not None:
        sub = tuple(
            (type_name, tuple(_field_shape(g) for g in fields))
            for type_name, fields in f.selection.by_type.items()
        )
    return (f.response_key, f.name, signature(f)[1], f.conditions, sub)


def plan_interface_object(
    planner: QueryPlanner, state: PlanState, at: Position, selection: SelectionSet
) -> set[Group]:
    """A position where this subgraph only knows the interface `at.s_type`
    (@interfaceObject).

    Fields of the interface it resolves come from here for every object; the
    concrete type (`__typename`, fields under a type condition, fields it lacks)
    comes from a subgraph that owns the interface, through its key.
    """
    touched: set[Group] = {at.group}
    interface = at.s_type
    found = _interface_fields(planner.costs, at.subgraph, interface, selection, at.provided)
    missing = {key for key, where in found.placed.items() if where == "owner"}
    if missing and not selection.by_type:
        names = ", ".join(sorted(missing))
        raise PlanningError(f"cannot plan {interface}.{names}: no subgraph resolves it")
    if found.local:
        touched |= planner.plan_fields(state, at, found.local.values())
    shared_groups: set[Group] = set()
    if found.shared:
        before = len(state.groups)
        touched |= planner.plan_remote(state, at, list(found.shared.values()))
        # a key also asked under a type condition is answered, for that type, by the
        # owner, whose fetch runs after the interface object's: its value is the one
        # kept, whatever the subgraphs' timing
        narrowed = {f.response_key for fields in found.needs.values() for f in fields}
        if narrowed & found.shared.keys():
            shared_groups = {g for g in state.groups[before:] if g.path == at.path}
    if not found.needs and not found.needs_typename:
        return touched
    return touched | _plan_through_owner(planner, state, at, found.needs, shared_groups)


def _interface_fields(
    costs: SubgraphCosts,
    subgraph: str,
    interface: str,
    selection: SelectionSet,
    provided: Provided | None,
) -> _InterfaceFields:
    """Sort the fields asked where `subgraph` sees `interface` as an object by where
    they come from: here, another interface object, or an owner of the interface."""
    # type conditions need the real type
    found = _InterfaceFields(needs_typename=selection.uniform is None)
    for f in selection.uniform or ():
        if f.is_typename:
            found.needs_typename = True
        else:
            _place(costs, found, subgraph, interface, f, provided)
    for type_name, fields in selection.by_type.items():
        wide = selection.interface_keys.get(type_name, ())
        for f in fields:
            if f.is_typename:
                continue
            if selection.uniform is not None or f.response_key in wide:
                on_interface = replace(f, parent_type=interface)
                if _place(costs, found, subgraph, interface, on_interface, provided) == "owner":
                    found.needs.setdefault(type_name, []).append(f)
            elif costs.field_cost(subgraph, interface, f, provided) < INF:
                found.local.setdefault(_field_shape(f), replace(f, parent_type=interface))
            else:
                found.needs.setdefault(type_name, []).append(f)
    return found


def _place(
    costs: SubgraphCosts,
    found: _InterfaceFields,
    subgraph: str,
    interface: str,
    f: Field,
    provided: Provided | None,
) -> str:
    """Where `f`, selected on the interface itself, comes from ("local", "shared" or
    "owner"), decided at the first occurrence of its response key."""
    key = f.response_key
    if key not in found.placed:
        if costs.field_cost(subgraph, interface, f, provided) < INF:
            found.placed[key], found.local[_field_shape(f)] = "local", f
        elif _served_by_interface_object(costs, subgraph, interface, f):
            # another subgraph that sees the interface as an object answers
            # it by key, without learning the concrete type
            found.placed[key], found.shared[key] = "shared", f
        else:
            found.placed[key] = "owner"
    return found.placed[key]


def _served_by_interface_object(
    costs: SubgraphCosts, subgraph: str, interface: str, f: Field
) -> bool:
    """Whether another subgraph that sees `interface` as an object resolves `f`."""
    return any(
        target != subgraph
        and target_type == interface
        and costs.sg.is_interface_object(interface, target)
        and costs.field_cost(target, interface, f, None, requires_met=True) < INF
        for target, target_type in costs.resolvers(interface, f.name)
    )


def _plan_through_owner(
    planner: QueryPlanner,
    state: PlanState,
    at: Position,
    needs: dict[str, list[Field]],
    after: set[Group],
) -> set[Group]:
    """Jump from an interface object to a subgraph that owns the interface for the
    concrete type and the fields only it has (`needs`), after the groups `after`."""
    subgraph, interface, path = at.subgraph, at.s_type, at.path
    owner = planner.costs.interface_owner(subgraph, interface)
    if owner is None:
        raise PlanningError(
            f"cannot plan {interface} from {subgraph!r}: the query needs the concrete "
            "type, and no subgraph that knows it can be reached by key"
        )
    owner_graph, key = owner
    key_fields = planner.internal_fields(state, path, interface, key.selection)
    producers = planner.plan_fields(state, at, key_fields)
    at.sub.add(None, "__typename", "__typename")
    child = state.entity_group(owner_graph, path, at.group, producers | after)
    child.inputs[interface] = merge_input(child.inputs.get(interface), key_input(key_fields))
    child.type_map[interface] = interface
    child.selection.add(interface, "__typename", "__typename")
    touched = set(producers)
    for type_name, fields in needs.items():
        there = Position(child, child.selection, path, type_name, type_name, type_name)
        touched |= planner.plan_fields(state, there, [f for f in fields if not f.is_typename])
    return touched
