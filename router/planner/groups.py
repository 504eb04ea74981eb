"""Fetch groups: one request to one subgraph at one response path, while planning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.operation import Conditions, Conjunction, Field
from router.planner.inputs import InputSelection
from router.planner.subquery import SubSelection


@dataclass(eq=False)
class Group:
    """A fetch being planned; mutable while planning, then turned into a plan node."""

    id: int
    subgraph: str
    path: tuple[str, ...]
    entity: bool
    parent: Group | None
    root_index: int
    selection: SubSelection = field(default_factory=SubSelection)
    inputs: dict[str, InputSelection] = field(default_factory=dict)
    type_map: dict[str, str] = field(default_factory=dict)
    depends_on: set[Group] = field(default_factory=set)
    # skip/include conditions of the client fields this fetch exists for
    top_conditions: list[Conditions] = field(default_factory=list)

    def common_condition(self) -> Conjunction:
        """The variable conditions every field of this fetch is under (if any)."""
        common: set[tuple[str, bool]] | None = None
        for conditions in self.top_conditions:
            if conditions is None or len(conditions) != 1:
                return ()
            (conjunction,) = tuple(conditions)
            common = set(conjunction) if common is None else common & set(conjunction)
            if not common:
                return ()
        return tuple(sorted(common or ()))

    def __hash__(self) -> int:
        return self.id

    def depends_transitively(self, other: Group) -> bool:
        """Whether this fetch waits for `other`, directly or through others."""
        stack = list(self.depends_on)
        seen: set[int] = set()
        while stack:
            g = stack.pop()
            if g is other:
                return True
            if g.id in seen:
                continue
            seen.add(g.id)
            stack.extend(g.depends_on)
        return False


@dataclass(frozen=True)
class Jump:
    """An entity hop to another subgraph: its key and the fields it takes on."""

    subgraph: str
    s_type: str  # the type name the target subgraph uses (interface object or T)
    key: Any  # KeyDef
    covered: tuple[Field, ...]
    cost: int
    consumed: frozenset[int] = frozenset()  # ids of the requested fields it takes on
    leftovers: tuple[Field, ...] = ()  # parts of those fields the target cannot resolve

    def remaining(self, fields: list[Field]) -> list[Field]:
        """What is left of `fields` after this jump: those it did not take, and the parts
        of those it took that the target cannot resolve."""
        return [f for f in fields if id(f) not in self.consumed] + list(self.leftovers)


class PlanState:
    """The fetch groups of the plan being built, and the response keys used so far."""

    def __init__(self) -> None:
        self.groups: list[Group] = []
        # response keys already used at (path, type) -> field signature
        self.position_keys: dict[tuple[tuple[str, ...], str], dict[str, tuple[str, str]]] = {}

    def new_group(
        self, subgraph: str, path: tuple[str, ...], entity: bool, parent: Group | None, root: int
    ) -> Group:
        """A new group, numbered in creation order."""
        group = Group(len(self.groups), subgraph, path, entity, parent, root)
        self.groups.append(group)
        return group

    def entity_group(
        self,
        subgraph: str,
        path: tuple[str, ...],
        parent: Group,
        deps: set[Group],
        inputs: tuple[str, InputSelection] | None = None,
    ) -> Group:
        """The entity group of `subgraph` at `path` under `parent` that can also wait for
        `deps` (and take `inputs` without a clash), or a new one; it depends on `deps`."""
        for g in self.groups:
            if (
                g.entity
                and g.subgraph == subgraph
                and g.path == path
                and g.parent is parent
                and g not in deps
                and not any(d.depends_transitively(g) for d in deps)
                and (inputs is None or not conflicting(g.inputs.get(inputs[0]), inputs[1]))
            ):
                g.depends_on |= deps
                return g
        group = self.new_group(subgraph, path, True, parent, parent.root_index)
        group.depends_on |= deps
        return group


def conflicting(current: InputSelection | None, new: InputSelection) -> bool:
    """Whether one representation cannot carry both: the same field required with
    different arguments (each needs its own `_entities` fetch)."""
    if current is None:
        return False
    keys = {f.name: f.data_key for f in current.fields}
    return any(keys.get(f.name, f.data_key) != f.data_key for f in new.fields)
