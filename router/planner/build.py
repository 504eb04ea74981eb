"""Stage 3: plan a normalized operation across subgraphs.

Each field of the normalized operation is assigned to a *fetch group*: one
request to one subgraph at one response path. A field is kept in the current
group when that subgraph can resolve it (and its whole sub-selection, jumping
out only at entities); otherwise the planner jumps to another subgraph through
an entity key (`_entities`), adding the key and any `@requires` fields to the
parent group as inputs. Groups depend on the groups that produce their inputs;
the dependency graph becomes Sequence/Parallel/Flatten/Fetch nodes.

Costs are "number of extra fetches", computed with the same rules the builder
uses, so choices (which subgraph for a shared root field, which subgraph to jump
to, which key) prefer the fewest fetches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    FieldNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLOutputType,
    InlineFragmentNode,
    NameNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    print_ast,
)

from router.operation import Conditions, Conjunction, Field, Operation, SelectionSet, _Normalizer
from router.planner.inputs import InputField, InputSelection
from router.planner.nodes import (
    Condition,
    Fetch,
    Flatten,
    Parallel,
    PlanNode,
    QueryPlan,
    Sequence,
)
from router.planner.subquery import SubSelection
from router.supergraph.model import Kind, Supergraph

INF = 1 << 30
MAX_HOPS = 4


class PlanningError(Exception):
    """The operation cannot be planned with this supergraph."""


# --- @provides -----------------------------------------------------------------------


class Provided:
    """The part of a `@provides` field set that applies at one position."""

    __slots__ = ("key", "nodes", "planner")

    def __init__(self, planner: QueryPlanner, nodes: tuple[SelectionSetNode, ...]) -> None:
        self.planner = planner
        self.nodes = nodes
        # the nodes belong to the supergraph's field sets, alive as long as the planner
        self.key = tuple(id(node) for node in nodes)

    def _fields(self, s_type: str, name: str) -> list[FieldNode]:
        found: list[FieldNode] = []
        for node in self.nodes:
            self._scan(node, s_type, name, found)
        return found

    def _scan(self, node: SelectionSetNode, s_type: str, name: str, out: list[FieldNode]) -> None:
        for sel in node.selections:
            if isinstance(sel, FieldNode):
                if sel.name.value == name:
                    out.append(sel)
            elif isinstance(sel, InlineFragmentNode):
                tc = sel.type_condition.name.value if sel.type_condition else None
                if tc is None or self.planner.type_matches(s_type, tc):
                    self._scan(sel.selection_set, s_type, name, out)

    def has(self, s_type: str, name: str) -> bool:
        return bool(self._fields(s_type, name))

    def child(self, s_type: str, name: str) -> Provided | None:
        nodes = tuple(f.selection_set for f in self._fields(s_type, name) if f.selection_set)
        return Provided(self.planner, nodes) if nodes else None


# --- fetch groups ----------------------------------------------------------------------


@dataclass(eq=False)
class Group:
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
    subgraph: str
    s_type: str  # the type name the target subgraph uses (interface object or T)
    key: Any  # KeyDef
    covered: tuple[Field, ...]
    cost: int
    consumed: frozenset[int] = frozenset()  # ids of the requested fields it takes on
    leftovers: tuple[Field, ...] = ()  # parts of those fields the target cannot resolve

    def remaining(self, fields: list[Field]) -> list[Field]:
        return [f for f in fields if id(f) not in self.consumed] + list(self.leftovers)


class _PlanState:
    def __init__(self) -> None:
        self.groups: list[Group] = []
        # response keys already used at (path, type) -> field signature
        self.position_keys: dict[tuple[tuple[str, ...], str], dict[str, tuple[str, str]]] = {}

    def new_group(
        self, subgraph: str, path: tuple[str, ...], entity: bool, parent: Group | None, root: int
    ) -> Group:
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
        for g in self.groups:
            if (
                g.entity
                and g.subgraph == subgraph
                and g.path == path
                and g.parent is parent
                and g not in deps
                and not any(d.depends_transitively(g) for d in deps)
                and (inputs is None or not _conflicting(g.inputs.get(inputs[0]), inputs[1]))
            ):
                g.depends_on |= deps
                return g
        group = self.new_group(subgraph, path, True, parent, parent.root_index)
        group.depends_on |= deps
        return group


def _conflicting(current: InputSelection | None, new: InputSelection) -> bool:
    """Whether one representation cannot carry both: the same field required with
    different arguments (each needs its own `_entities` fetch)."""
    if current is None:
        return False
    keys = {f.name: f.data_key for f in current.fields}
    return any(keys.get(f.name, f.data_key) != f.data_key for f in new.fields)


def _signature(f: Field) -> tuple[str, str]:
    return f.name, "".join(print_ast(a) for a in f.arguments)


def _list_depth(t: GraphQLOutputType) -> int:
    depth = 0
    while True:
        if isinstance(t, GraphQLNonNull):
            t = t.of_type
        elif isinstance(t, GraphQLList):
            depth += 1
            t = t.of_type
        else:
            return depth


def _count_fields(selection: SelectionSet) -> int:
    return sum(1 for fields in selection.by_type.values() for f in fields if not f.is_typename)


def _named(type_ref: str) -> str:
    return type_ref.replace("[", "").replace("]", "").replace("!", "").strip()


def _condition_directives(f: Field) -> tuple[DirectiveNode, ...]:
    if f.conditions is None or len(f.conditions) != 1:
        return f.directives
    (conjunction,) = tuple(f.conditions)
    out = [
        DirectiveNode(
            name=NameNode(value="include" if want else "skip"),
            arguments=(
                ArgumentNode(
                    name=NameNode(value="if"), value=VariableNode(name=NameNode(value=var))
                ),
            ),
        )
        for var, want in conjunction
    ]
    return tuple(out) + f.directives


def _print_variable(definition: VariableDefinitionNode) -> str:
    text = f"${definition.variable.name.value}: {print_ast(definition.type)}"
    if definition.default_value is not None:
        text += f" = {print_ast(definition.default_value)}"
    return text


class QueryPlanner:
    def __init__(self, supergraph: Supergraph) -> None:
        self.sg = supergraph
        self.graph_order = {name: i for i, name in enumerate(supergraph.graphs)}
        self._fieldset_normalizer = _Normalizer(supergraph.schema, {})
        # keyed by object ids: each entry also holds its objects, so that an id cannot
        # be reused by a new object while the entry exists
        self._fieldset_cache: dict[tuple[str, int], tuple[SelectionSetNode, SelectionSet]] = {}
        self._cost_cache: dict[tuple[Any, ...], tuple[Any, Any, int]] = {}
        self._api_interfaces: dict[str, tuple[str, ...]] = {}

    # -- schema questions -----------------------------------------------------------------

    def type_matches(self, type_name: str, condition: str) -> bool:
        if type_name == condition:
            return True
        cond = self.sg.types.get(condition)
        t = self.sg.types.get(type_name)
        if cond is None or t is None:
            return False
        if cond.kind == Kind.UNION:
            return any(type_name in m for m in cond.members.values())
        if cond.kind == Kind.INTERFACE:
            return any(condition in i for i in t.implements.values()) or (
                t.kind == Kind.INTERFACE and condition == type_name
            )
        return False

    def interfaces_of(self, type_name: str) -> tuple[str, ...]:
        cached = self._api_interfaces.get(type_name)
        if cached is None:
            t = self.sg.types.get(type_name)
            names: set[str] = set()
            if t is not None:
                for group in t.implements.values():
                    names.update(group)
            gtype = self.sg.schema.get_type(type_name)
            names.update(i.name for i in getattr(gtype, "interfaces", ()) or ())
            cached = tuple(sorted(names))
            self._api_interfaces[type_name] = cached
        return cached

    def possible(self, subgraph: str, s_decl: str) -> frozenset[str]:
        t = self.sg.types.get(s_decl)
        if t is None:
            return frozenset()
        if t.kind == Kind.OBJECT:
            return frozenset({s_decl})
        return self.sg.possible_types_in(s_decl, subgraph)

    def type_ref(self, subgraph: str, s_type: str, name: str) -> str:
        """The field's type as `subgraph` declares it, e.g. "[Product!]"."""
        fdef = self.sg.field(s_type, name)
        if fdef is None:
            return ""
        placement = fdef.placements.get(subgraph)
        if placement is not None and placement.type_ref:
            return placement.type_ref
        return fdef.type_ref

    def child_type(self, subgraph: str, s_type: str, name: str) -> str:
        fdef = self.sg.field(s_type, name)
        if fdef is None:
            raise PlanningError(f"unknown field {s_type}.{name}")
        placement = fdef.placements.get(subgraph)
        if placement is not None and placement.type_ref:
            return _named(placement.type_ref)
        return _named(fdef.type_ref)

    def defined_locally(
        self, subgraph: str, s_type: str, name: str, provided: Provided | None
    ) -> bool:
        fdef = self.sg.field(s_type, name)
        if fdef is None:
            return False
        placement = fdef.placements.get(subgraph)
        if placement is None:
            return False
        if not placement.external and not placement.used_overridden:
            return True
        if provided is not None and provided.has(s_type, name):
            return True
        # Fed1 extensions mark key fields @external; the subgraph still knows them.
        return placement.external and name in self.sg.key_field_names(s_type, subgraph)

    def child_provided(
        self, subgraph: str, s_type: str, name: str, provided: Provided | None
    ) -> Provided | None:
        nodes: list[SelectionSetNode] = []
        placement = self.sg.placement(s_type, name, subgraph)
        if placement is not None and placement.provides is not None:
            nodes.append(placement.provides)
        if provided is not None:
            inner = provided.child(s_type, name)
            if inner is not None:
                nodes.extend(inner.nodes)
        return Provided(self, tuple(nodes)) if nodes else None

    def resolvers(self, type_name: str, name: str) -> list[tuple[str, str]]:
        """(subgraph, type name there) pairs that can resolve `type_name.name`."""
        out: list[tuple[str, str]] = []
        fdef = self.sg.field(type_name, name)
        if fdef is not None:
            out.extend((g, type_name) for g in fdef.resolvable_in)
        for interface in self.interfaces_of(type_name):
            itype = self.sg.types.get(interface)
            if itype is None or not itype.interface_object_in:
                continue
            ifield = itype.fields.get(name)
            if ifield is None:
                continue
            out.extend(
                (g, interface) for g in itype.interface_object_in if g in ifield.resolvable_in
            )
        out.sort(key=lambda p: self.graph_order.get(p[0], 0))
        return out

    def fieldset_fields(self, type_name: str, node: SelectionSetNode) -> tuple[Field, ...]:
        key = (type_name, id(node))
        entry = self._fieldset_cache.get(key)
        if entry is None:
            gtype = self.sg.schema.get_type(type_name)
            if gtype is None:
                raise PlanningError(f"unknown type {type_name} in a field set")
            entry = (node, self._fieldset_normalizer.selection_set(gtype, [(node, ())]))
            self._fieldset_cache[key] = entry
        cached = entry[1]
        fields = cached.fields_for(type_name)
        if not fields and cached.uniform:
            fields = cached.uniform
        return fields

    # -- costs ------------------------------------------------------------------------------

    def field_cost(
        self,
        subgraph: str,
        s_type: str,
        f: Field,
        provided: Provided | None,
        depth: int = 0,
        requires_met: bool = False,
    ) -> int:
        """Extra fetches needed to resolve `f` (and its selection) in `subgraph`; INF if
        it cannot be resolved there at all. A field with @requires is only resolvable
        where its requirements were sent along (`requires_met`: an entity-fetch entry)."""
        if f.is_typename:
            return 0
        if not self.defined_locally(subgraph, s_type, f.name, provided):
            return INF
        if not requires_met:
            placement = self.sg.placement(s_type, f.name, subgraph)
            if placement is not None and placement.requires is not None:
                return INF
        if f.selection is None:
            return 0
        child_decl = self.child_type(subgraph, s_type, f.name)
        child_provided = self.child_provided(subgraph, s_type, f.name, provided)
        return self.selection_cost(subgraph, child_decl, f.selection, child_provided, depth)

    def selection_cost(
        self,
        subgraph: str,
        s_decl: str,
        selection: SelectionSet,
        provided: Provided | None,
        depth: int = 0,
    ) -> int:
        key = (subgraph, s_decl, id(selection), provided.key if provided else (), depth)
        cached = self._cost_cache.get(key)
        if cached is not None:
            return cached[2]
        # INF meanwhile: guards against recursion through the same position
        self._cost_cache[key] = (selection, provided, INF)
        total = 0
        if self.sg.is_interface_object(s_decl, subgraph):
            total = self._interface_object_cost(subgraph, s_decl, selection, provided, depth)
        else:
            possible = self.possible(subgraph, s_decl)
            for type_name, fields in selection.by_type.items():
                if type_name not in possible:
                    continue
                remote: list[Field] = []
                for f in fields:
                    c = self.field_cost(subgraph, type_name, f, provided, depth)
                    if c < INF:
                        total += c
                        continue
                    here, there = self._split(subgraph, type_name, f, provided, deep=True)
                    if here is None or there is None:
                        remote.append(f)
                    else:
                        total += self.field_cost(subgraph, type_name, here, provided, depth)
                        remote.append(there)
                if remote:
                    total += self.remote_cost(subgraph, type_name, type_name, remote, depth)
                if total >= INF:
                    break
        total = min(total, INF)
        self._cost_cache[key] = (selection, provided, total)
        return total

    def _interface_object_cost(
        self,
        subgraph: str,
        s_decl: str,
        selection: SelectionSet,
        provided: Provided | None,
        depth: int,
    ) -> int:
        total = 0
        needs_owner = False
        for fields in selection.by_type.values():
            for f in fields:
                if f.is_typename:
                    needs_owner = True
                    continue
                c = self.field_cost(subgraph, s_decl, f, provided, depth)
                if c >= INF:
                    needs_owner = True
                else:
                    total += c
        if needs_owner:
            if self._interface_owner(subgraph, s_decl) is None:
                return INF
            total += 1
        return total

    def remote_cost(
        self, subgraph: str, type_name: str, s_type: str, fields: list[Field], depth: int
    ) -> int:
        if depth >= MAX_HOPS:
            return INF
        total = 0
        remaining = list(fields)
        while remaining:
            jump = self.choose_jump(subgraph, type_name, s_type, remaining, depth, None)
            if jump is None:
                return INF
            total += 1 + jump.cost
            remaining = jump.remaining(remaining)
        return total

    def fieldset_cost(
        self, subgraph: str, type_name: str, s_type: str, node: SelectionSetNode, depth: int
    ) -> int:
        fields = self.fieldset_fields(type_name, node)
        total = 0
        remote: list[Field] = []
        for f in fields:
            c = self.field_cost(subgraph, s_type, f, None, depth + 1)
            if c >= INF:
                remote.append(f)
            else:
                total += c
        if remote:
            total += self.remote_cost(subgraph, type_name, s_type, remote, depth + 1)
        return min(total, INF)

    def choose_jump(
        self,
        subgraph: str,
        type_name: str,
        s_type: str,
        fields: list[Field],
        depth: int,
        state: _PlanState | None,
        path: tuple[str, ...] = (),
    ) -> Jump | None:
        candidates: dict[tuple[str, str], list[Field]] = {}
        for f in fields:
            if f.is_typename:
                continue
            for target in self.resolvers(type_name, f.name):
                if target == (subgraph, s_type):
                    # back into the same subgraph only to bring a field its requirements
                    placement = self.sg.placement(s_type, f.name, subgraph)
                    if placement is None or placement.requires is None:
                        continue
                candidates.setdefault(target, []).append(f)
        best: tuple[tuple[int, ...], Jump] | None = None
        for (target, target_type), target_fields in candidates.items():
            ttype = self.sg.types[target_type]
            keys = ttype.resolvable_keys(target)
            if not keys:
                continue
            covered: list[Field] = []
            consumed: set[int] = set()
            leftovers: list[Field] = []
            cost = 0
            for f in target_fields:
                # the query's own depth is finite: only key hops count towards MAX_HOPS
                c = self.field_cost(target, target_type, f, None, requires_met=True)
                if c >= INF:
                    # a value type spread over subgraphs: take the part the target has
                    here, there = self._split(target, target_type, f, None, deep=True)
                    if here is None or there is None:
                        continue
                    covered.append(here)
                    consumed.add(id(f))
                    leftovers.append(there)
                    cost += self.field_cost(target, target_type, here, None, requires_met=True)
                    continue
                placement = self.sg.placement(target_type, f.name, target)
                if placement is not None and placement.requires is not None:
                    rc = self.fieldset_cost(subgraph, type_name, s_type, placement.requires, depth)
                    if rc >= INF:
                        continue
                    c += rc
                covered.append(f)
                consumed.add(id(f))
                cost += c
            if not covered:
                continue
            key_choice: tuple[int, Any] | None = None
            for key in keys:
                kc = self.fieldset_cost(subgraph, type_name, s_type, key.selection, depth)
                if kc < INF and (key_choice is None or kc < key_choice[0]):
                    key_choice = (kc, key)
            if key_choice is None:
                continue
            reuse = 0
            if state is not None and any(
                g.entity and g.subgraph == target and g.path == path for g in state.groups
            ):
                reuse = -1
            score = (
                -len(covered),
                cost + key_choice[0],
                reuse,
                self.graph_order.get(target, 0),
            )
            if best is None or score < best[0]:
                best = (
                    score,
                    Jump(
                        target,
                        target_type,
                        key_choice[1],
                        tuple(covered),
                        cost + key_choice[0],
                        frozenset(consumed),
                        tuple(leftovers),
                    ),
                )
        return best[1] if best else None

    def _interface_owner(self, subgraph: str, interface: str) -> tuple[str, Any] | None:
        itype = self.sg.types[interface]
        for owner in sorted(itype.graphs, key=lambda g: self.graph_order.get(g, 0)):
            if owner == subgraph or owner in itype.interface_object_in:
                continue
            for key in itype.resolvable_keys(owner):
                fields = self.fieldset_fields(interface, key.selection)
                if all(self.field_cost(subgraph, interface, f, None) < INF for f in fields):
                    return owner, key
        return None

    # -- building -----------------------------------------------------------------------------

    def plan(self, operation: Operation) -> QueryPlan:
        self._cost_cache.clear()  # costs are per operation (keyed by its objects' ids)
        state = _PlanState()
        root = operation.root_type
        fields = [
            f
            for f in operation.selection.fields_for(root)
            if f.name not in ("__typename", "__schema", "__type")
        ]
        self._record_keys(state, (), root, fields)
        root_groups: list[Group] = []
        for index, f in enumerate(fields):
            pending = [f]
            while pending:
                part = pending.pop(0)
                subgraph = self._choose_root_subgraph(root, part, root_groups, operation.kind)
                if self.field_cost(subgraph, root, part, None) >= INF:
                    # a shared root field whose (key-less) result no subgraph has in full:
                    # each subgraph answers its part of the same field, merged afterwards
                    here, there = self._split(subgraph, root, part, None, deep=True)
                    if here is None or there is None or operation.kind == "mutation":
                        raise PlanningError(
                            f"cannot plan {root}.{f.name}: no subgraph resolves its selection"
                        )
                    part = here
                    pending.append(there)
                group: Group | None = None
                if operation.kind == "mutation":
                    if root_groups and root_groups[-1].subgraph == subgraph:
                        group = root_groups[-1]
                else:
                    group = next((g for g in root_groups if g.subgraph == subgraph), None)
                if group is None:
                    group = state.new_group(subgraph, (), False, None, index)
                    root_groups.append(group)
                group.top_conditions.append(part.conditions)
                self.plan_fields(state, group, group.selection, None, (), root, root, [part], None)
        node = self._build_tree(state, operation)
        return QueryPlan(node)

    def _choose_root_subgraph(self, root: str, f: Field, existing: list[Group], kind: str) -> str:
        fdef = self.sg.field(root, f.name)
        if fdef is None:
            raise PlanningError(f"unknown root field {root}.{f.name}")
        candidates = sorted(fdef.resolvable_in, key=lambda g: self.graph_order.get(g, 0))
        if not candidates:
            raise PlanningError(f"no subgraph resolves {root}.{f.name}")
        used = {g.subgraph for g in existing}
        if kind == "mutation" and existing:
            used = {existing[-1].subgraph}

        def rank(graph: str) -> tuple[int, int, int, int, int]:
            cost = self.field_cost(graph, root, f, None)
            covered = 0
            if cost >= INF:  # how much of the selection it could answer
                here, _ = self._split(graph, root, f, None, deep=True)
                covered = _count_fields(here.selection) if here and here.selection else 0
            return (
                cost >= INF,
                self._unreachable_types(graph, root, f),
                cost,
                -covered,
                (0 if graph in used else 1) * 1000 + self.graph_order.get(graph, 0),
            )

        return min(candidates, key=rank)

    def _unreachable_types(self, graph: str, root: str, f: Field) -> int:
        """Concrete types the query asks fields of that `graph` can never return here
        (a shared `node(id:)` whose subgraphs each know their own types)."""
        if f.selection is None:
            return 0
        possible = self.possible(graph, self.child_type(graph, root, f.name))
        return sum(
            1
            for type_name, fields in f.selection.by_type.items()
            if type_name not in possible and any(not g.is_typename for g in fields)
        )

    def _record_keys(
        self, state: _PlanState, path: tuple[str, ...], type_name: str, fields: Iterable[Field]
    ) -> None:
        keys = state.position_keys.setdefault((path, type_name), {})
        for f in fields:
            keys.setdefault(f.response_key, _signature(f))

    def _internal_fields(
        self, state: _PlanState, path: tuple[str, ...], type_name: str, node: SelectionSetNode
    ) -> tuple[Field, ...]:
        """Fields of a key/@requires set, aliased where the client uses the same key."""
        keys = state.position_keys.setdefault((path, type_name), {})
        out: list[Field] = []
        for f in self.fieldset_fields(type_name, node):
            sig = _signature(f)
            key = f.response_key
            n = 0
            while key in keys and keys[key] != sig:
                n += 1
                key = f"{f.name}__{n}"
            keys[key] = sig
            out.append(f if key == f.response_key else replace(f, response_key=key))
        return tuple(out)

    def _to_input(self, fields: Iterable[Field]) -> InputSelection:
        out: list[InputField] = []
        for f in fields:
            sub: InputSelection | None = None
            if f.selection is not None:
                sel = f.selection
                if len(sel.by_type) == 1 and sel.type_name in sel.by_type:
                    sub = self._to_input(sel.fields_for(sel.type_name))
                else:
                    sub = InputSelection(
                        (InputField("__typename", "__typename"),),
                        tuple(
                            (t, self._to_input(fs).fields) for t, fs in sel.by_type.items() if fs
                        ),
                    )
            out.append(InputField(f.name, f.response_key, sub))
        return InputSelection(tuple(out))

    def plan_fields(
        self,
        state: _PlanState,
        group: Group,
        sub: SubSelection,
        frag: str | None,
        path: tuple[str, ...],
        type_name: str,
        s_type: str,
        fields: Iterable[Field],
        provided: Provided | None,
        requires_met: bool = False,
    ) -> set[Group]:
        touched: set[Group] = {group}
        subgraph = group.subgraph
        remote: list[Field] = []
        local: list[tuple[Field, int]] = []
        for f in fields:
            if f.is_typename:
                sub.add(frag, f.response_key, "__typename", (), _condition_directives(f))
                continue
            cost = self.field_cost(subgraph, s_type, f, provided, 0, requires_met)
            if cost < INF:
                local.append((f, cost))
                continue
            here, there = self._split(subgraph, s_type, f, provided, deep=True)
            if here is None or there is None:
                remote.append(f)
            else:
                local.append((here, self.field_cost(subgraph, s_type, here, provided)))
                remote.append(there)
        if remote and any(cost for _, cost in local):
            local = self._ride_along(subgraph, type_name, s_type, local, remote, provided)
        for f, _ in local:
            sf = sub.add(
                frag,
                f.response_key,
                f.name,
                f.arguments,
                _condition_directives(f),
                composite=f.selection is not None,
                type_ref=self.type_ref(subgraph, s_type, f.name),
            )
            if f.selection is not None and sf.selection is not None:
                child_decl = self.child_type(subgraph, s_type, f.name)
                child_provided = self.child_provided(subgraph, s_type, f.name, provided)
                child_path = (*path, f.response_key, *("@",) * _list_depth(f.type))
                touched |= self.plan_selection(
                    state, group, sf.selection, child_path, f.selection, child_decl, child_provided
                )
        if remote:
            touched |= self.plan_remote(
                state, group, sub, frag, path, type_name, s_type, remote, provided
            )
        return touched

    def _ride_along(
        self,
        subgraph: str,
        type_name: str,
        s_type: str,
        local: list[tuple[Field, int]],
        remote: list[Field],
        provided: Provided | None,
    ) -> list[tuple[Field, int]]:
        """Local fields whose sub-selection needs fetches of its own move to a jump that
        is made anyway when that subgraph resolves them for less (e.g. a @provides
        that covers only part of a selection)."""
        targets: list[tuple[str, str]] = []
        pending = list(remote)
        while pending:
            jump = self.choose_jump(subgraph, type_name, s_type, pending, 0, None)
            if jump is None:
                return local
            targets.append((jump.subgraph, jump.s_type))
            covered = {id(f) for f in jump.covered}
            pending = [f for f in pending if id(f) not in covered]
        kept: list[tuple[Field, int]] = []
        for f, cost in local:
            if not cost:
                kept.append((f, cost))
                continue
            here, there = self._split(subgraph, s_type, f, provided)
            for target, target_type in targets:
                # keep what this subgraph has, fetch the rest with the jump
                if (
                    there is not None
                    and here is not None
                    and self.field_cost(target, target_type, there, None, requires_met=True) == 0
                ):
                    kept.append((here, 0))
                    remote.append(there)
                    break
                if self.field_cost(target, target_type, f, None, requires_met=True) < cost:
                    remote.append(f)
                    break
            else:
                kept.append((f, cost))
        return kept

    def _split(
        self,
        subgraph: str,
        s_type: str,
        f: Field,
        provided: Provided | None,
        deep: bool = False,
    ) -> tuple[Field | None, Field | None]:
        """`f` cut in two: the sub-fields `subgraph` resolves without fetching, the rest.

        With `deep`, the part it resolves at all (jumps included), cutting nested
        value-type fields the same way: what a shared (key-less) type offers in
        several subgraphs is then fetched from each of them and merged.
        """
        selection = f.selection
        if selection is None:
            return None, None
        placement = self.sg.placement(s_type, f.name, subgraph)
        if placement is None or placement.requires is not None:
            return None, None
        if deep and not self.defined_locally(subgraph, s_type, f.name, provided):
            return None, None
        child_decl = self.child_type(subgraph, s_type, f.name)
        if self.sg.is_interface_object(child_decl, subgraph):
            return None, None
        provided = self.child_provided(subgraph, s_type, f.name, provided)
        possible = self.possible(subgraph, child_decl)
        here: dict[str, tuple[Field, ...]] = {}
        there: dict[str, tuple[Field, ...]] = {}
        for type_name, fields in selection.by_type.items():
            if type_name not in possible:
                there[type_name] = fields
                continue
            mine: list[Field] = []
            rest: list[Field] = []
            for g in fields:
                if g.is_typename:
                    mine.append(g)
                    rest.append(g)
                    continue
                cost = self.field_cost(subgraph, type_name, g, provided)
                if cost == 0 or (deep and cost < INF):
                    mine.append(g)
                    continue
                if deep and g.selection is not None:
                    g_here, g_there = self._split(subgraph, type_name, g, provided, deep=True)
                    if g_here is not None and g_there is not None:
                        mine.append(g_here)
                        rest.append(g_there)
                        continue
                rest.append(g)
            here[type_name] = tuple(mine)
            there[type_name] = tuple(rest)
        if not any(any(not g.is_typename for g in fs) for fs in here.values()) or not any(
            any(not g.is_typename for g in fs) for fs in there.values()
        ):
            return None, None
        return (
            replace(f, selection=SelectionSet(selection.type_name, here)),
            replace(f, selection=SelectionSet(selection.type_name, there)),
        )

    def plan_selection(
        self,
        state: _PlanState,
        group: Group,
        sub: SubSelection,
        path: tuple[str, ...],
        selection: SelectionSet,
        s_decl: str,
        provided: Provided | None,
    ) -> set[Group]:
        subgraph = group.subgraph
        for type_name, fields in selection.by_type.items():
            self._record_keys(state, path, type_name, fields)
        if self.sg.is_interface_object(s_decl, subgraph):
            return self.plan_interface_object(state, group, sub, path, selection, s_decl, provided)
        touched: set[Group] = {group}
        decl_type = self.sg.types.get(s_decl)
        api_type = self.sg.types.get(selection.type_name)
        if (decl_type is not None and decl_type.is_abstract) or (
            api_type is not None and api_type.is_abstract
        ):
            sub.add(None, "__typename", "__typename")
        possible = self.possible(subgraph, s_decl)
        for type_name, fields in selection.by_type.items():
            if type_name not in possible or not fields:
                continue
            frag = None if type_name == s_decl else type_name
            touched |= self.plan_fields(
                state, group, sub, frag, path, type_name, type_name, fields, provided
            )
        return touched

    def plan_interface_object(
        self,
        state: _PlanState,
        group: Group,
        sub: SubSelection,
        path: tuple[str, ...],
        selection: SelectionSet,
        interface: str,
        provided: Provided | None,
    ) -> set[Group]:
        """A position where this subgraph only knows the interface (@interfaceObject)."""
        subgraph = group.subgraph
        touched: set[Group] = {group}
        needs: dict[str, list[Field]] = {}
        local: dict[str, Field] = {}
        for type_name, fields in selection.by_type.items():
            for f in fields:
                if not f.is_typename and self.field_cost(subgraph, interface, f, provided) < INF:
                    if f.response_key not in local:
                        local[f.response_key] = replace(f, parent_type=interface)
                else:
                    needs.setdefault(type_name, []).append(f)
        if local:
            touched |= self.plan_fields(
                state, group, sub, None, path, interface, interface, local.values(), provided
            )
        if not needs:
            return touched
        owner = self._interface_owner(subgraph, interface)
        if owner is None:
            return touched  # nothing can tell the concrete type; the shaper falls back
        owner_graph, key = owner
        key_fields = self._internal_fields(state, path, interface, key.selection)
        producers = self.plan_fields(
            state, group, sub, None, path, interface, interface, key_fields, provided
        )
        sub.add(None, "__typename", "__typename")
        child = state.entity_group(owner_graph, path, group, producers)
        child.inputs[interface] = self._merge_input(
            child.inputs.get(interface),
            InputSelection((InputField("__typename", "__typename"),)).merged(
                self._to_input(key_fields)
            ),
        )
        child.type_map[interface] = interface
        child.selection.add(interface, "__typename", "__typename")
        touched |= producers
        for type_name, fields in needs.items():
            touched |= self.plan_fields(
                state,
                child,
                child.selection,
                type_name,
                path,
                type_name,
                type_name,
                [f for f in fields if not f.is_typename],
                None,
            )
        return touched

    @staticmethod
    def _merge_input(current: InputSelection | None, new: InputSelection) -> InputSelection:
        return new if current is None else current.merged(new)

    def plan_remote(
        self,
        state: _PlanState,
        group: Group,
        sub: SubSelection,
        frag: str | None,
        path: tuple[str, ...],
        type_name: str,
        s_type: str,
        fields: list[Field],
        provided: Provided | None,
    ) -> set[Group]:
        touched: set[Group] = set()
        remaining = list(fields)
        while remaining:
            jump = self.choose_jump(group.subgraph, type_name, s_type, remaining, 0, state, path)
            if jump is None:
                names = ", ".join(f"{type_name}.{f.name}" for f in remaining)
                raise PlanningError(
                    f"cannot plan {names}: no subgraph reachable from {group.subgraph!r} "
                    "resolves it"
                )
            key_fields = self._internal_fields(state, path, type_name, jump.key.selection)
            producers = self.plan_fields(
                state, group, sub, frag, path, type_name, s_type, key_fields, provided
            )
            sub.add(frag, "__typename", "__typename")
            key_input = InputSelection((InputField("__typename", "__typename"),)).merged(
                self._to_input(key_fields)
            )
            # Fields whose requirements clash (one field needed with different
            # arguments) cannot share a representation: one fetch per compatible batch.
            batches: list[tuple[InputSelection, set[Group], list[Field]]] = []
            for f in jump.covered:
                needed, needed_by = key_input, set(producers)
                placement = self.sg.placement(jump.s_type, f.name, jump.subgraph)
                if placement is not None and placement.requires is not None:
                    required = self._internal_fields(state, path, type_name, placement.requires)
                    if f.conditions is not None:
                        # only needed when the field needing them is: same @skip/@include
                        required = tuple(replace(r, conditions=f.conditions) for r in required)
                    needed_by |= self.plan_fields(
                        state, group, sub, frag, path, type_name, s_type, required, provided
                    )
                    needed = needed.merged(self._to_input(required))
                for index, (inputs, deps, fields) in enumerate(batches):
                    if not _conflicting(inputs, needed):
                        batches[index] = (inputs.merged(needed), deps | needed_by, [*fields, f])
                        break
                else:
                    batches.append((needed, needed_by, [f]))
            for needed, needed_by, fields in batches:
                child = state.entity_group(
                    jump.subgraph, path, group, needed_by, (jump.s_type, needed)
                )
                child.inputs[jump.s_type] = self._merge_input(child.inputs.get(jump.s_type), needed)
                child.type_map[type_name] = jump.s_type
                child.top_conditions.extend(f.conditions for f in fields)
                touched |= needed_by
                touched |= self.plan_fields(
                    state,
                    child,
                    child.selection,
                    jump.s_type,
                    path,
                    type_name,
                    jump.s_type,
                    fields,
                    None,
                    requires_met=True,
                )
            remaining = jump.remaining(remaining)
        return touched

    # -- plan tree --------------------------------------------------------------------------

    def _fetch(self, group: Group, operation: Operation) -> Fetch:
        variables: set[str] = set()
        group.selection.variables(variables)
        usages = tuple(v for v in operation.variable_definitions if v in variables)
        var_defs = [_print_variable(operation.variable_definitions[v]) for v in usages]
        name = ""
        if operation.name:
            name = f"{operation.name}__{group.subgraph}__{group.id}"
        if group.entity:
            var_defs.insert(0, "$representations: [_Any!]!")
            body = group.selection.print("  ")
            selection = "{\n  _entities(representations: $representations) " + body + "\n}"
            kind = "query"
        else:
            selection = group.selection.print()
            kind = "mutation" if operation.kind == "mutation" else "query"
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
        )

    def _node(self, group: Group, operation: Operation) -> PlanNode:
        fetch = self._fetch(group, operation)
        node: PlanNode = Flatten(group.path, fetch) if group.entity else fetch
        # a fetch all of whose fields are skipped is not sent at all
        for variable, want in reversed(group.common_condition()):
            node = Condition(variable, node, None) if want else Condition(variable, None, node)
        return node

    def _layers(self, groups: list[Group]) -> list[list[Group]]:
        remaining = [g for g in groups if not g.selection.is_empty()]
        ids = {g.id for g in remaining}
        done: set[int] = set()
        layers: list[list[Group]] = []
        while remaining:
            layer = [
                g
                for g in remaining
                if all(d.id in done or d.id not in ids for d in g.depends_on if d is not g)
            ]
            if not layer:
                raise PlanningError("circular dependency between fetches")
            layers.append(layer)
            done.update(g.id for g in layer)
            remaining = [g for g in remaining if g.id not in done]
        return layers

    def _sequence(self, layers: list[list[Group]], operation: Operation) -> PlanNode | None:
        steps: list[PlanNode] = []
        for layer in layers:
            nodes = [self._node(g, operation) for g in layer]
            steps.append(nodes[0] if len(nodes) == 1 else Parallel(tuple(nodes)))
        if not steps:
            return None
        return steps[0] if len(steps) == 1 else Sequence(tuple(steps))

    def _build_tree(self, state: _PlanState, operation: Operation) -> PlanNode | None:
        if operation.kind != "mutation":
            return self._sequence(self._layers(state.groups), operation)
        by_root: dict[int, list[Group]] = {}
        for g in state.groups:
            by_root.setdefault(g.root_index, []).append(g)
        parts = [
            node
            for _, groups in sorted(by_root.items())
            if (node := self._sequence(self._layers(groups), operation)) is not None
        ]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Sequence(tuple(parts))
