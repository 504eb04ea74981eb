"""Stage 3: plan a normalized operation across subgraphs.

Each field of the normalized operation is assigned to a *fetch group*: one
request to one subgraph at one response path. A field is kept in the current
group when that subgraph can resolve it (and its whole sub-selection, jumping
out only at entities); otherwise the planner jumps to another subgraph through
an entity key (`_entities`), adding the key and any `@requires` fields to the
parent group as inputs. Groups depend on the groups that produce their inputs;
the dependency graph becomes Sequence/Parallel/Flatten/Fetch nodes (tree.py).

Where there is a choice (which subgraph for a shared root field, which subgraph
to jump to, which key), the costs of costs.py decide: the fewest fetches. The
root fields' subgraphs are chosen in roots.py; positions where a subgraph sees an
interface as an object are planned in interface_object.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from graphql import (
    ArgumentNode,
    DirectiveNode,
    NameNode,
    SelectionSetNode,
    VariableNode,
)

from router.budget import UNLIMITED, Budget
from router.federation.typeref import list_depth
from router.operation import Conjunction, Field, Operation, SelectionSet
from router.planner.costs import (
    INF,
    PlanningError,
    SubgraphCosts,
    signature,
)
from router.planner.groups import Group, Jump, PlanState, conflicting
from router.planner.inputs import InputSelection, input_selection, key_input, merge_input
from router.planner.interface_object import plan_interface_object
from router.planner.nodes import QueryPlan
from router.planner.position import Position
from router.planner.roots import RootChoice
from router.planner.tree import build_tree
from router.supergraph.model import Supergraph

__all__ = ["PlanningError", "QueryPlanner"]


def _condition_directives(f: Field) -> tuple[DirectiveNode, ...]:
    if f.conditions is None or len(f.conditions) != 1:
        return f.directives
    (conjunction,) = tuple(f.conditions)
    return _conjunction_directives(conjunction) + f.directives


def _conjunction_directives(conjunction: Conjunction) -> tuple[DirectiveNode, ...]:
    # @skip and @include are not repeatable: one of each goes to the subgraph (it may
    # fetch a field the client excludes; the response shaper applies every condition)
    chosen: dict[bool, str] = {}
    for var, want in conjunction:
        chosen.setdefault(want, var)
    out = [
        DirectiveNode(
            name=NameNode(value="include" if want else "skip"),
            arguments=(
                ArgumentNode(
                    name=NameNode(value="if"), value=VariableNode(name=NameNode(value=var))
                ),
            ),
        )
        for want, var in sorted(chosen.items(), reverse=True)
    ]
    return tuple(out)


# Past this many alternative conditions a leaf is fetched unconditionally (the shaper
# still applies them): one aliased copy each would let a document grow subgraph queries.
MAX_ALTERNATIVES = 8


def _root_group(
    state: PlanState, root_groups: list[Group], kind: str, subgraph: str, index: int
) -> Group:
    """The root fetch that takes a root field `subgraph` answers: a query's fields share
    one per subgraph, a mutation's only the previous fetch (they run in order)."""
    group: Group | None = None
    if kind == "mutation":
        if root_groups and root_groups[-1].subgraph == subgraph:
            group = root_groups[-1]
    else:
        group = next((g for g in root_groups if g.subgraph == subgraph), None)
    if group is None:
        group = state.new_group(subgraph, (), False, None, index)
        root_groups.append(group)
    return group


class QueryPlanner:
    """Plans operations over one supergraph; `plan` is its entry point (one thread at
    a time: its caches are per plan)."""

    def __init__(self, supergraph: Supergraph) -> None:
        self.sg = supergraph
        # what each subgraph resolves and at what cost: the planner's choices
        self.costs = SubgraphCosts(supergraph)
        self._budget = UNLIMITED
        # told of every `__typename` planned, with where: how the @defer planner finds
        # the positions of deferred fragments (None, the default: nobody listens)
        self.on_typename: Callable[[Position, Field], None] | None = None

    def plan(
        self,
        operation: Operation,
        labels: frozenset[str] = frozenset(),
        budget: Budget = UNLIMITED,
    ) -> QueryPlan:
        """The plan for `operation`, with these progressive-override labels enabled;
        BudgetExceeded when planning takes longer than `budget`."""
        state = self.begin(labels, budget)
        self.plan_roots(state, operation.root_type, operation.kind, operation.selection)
        node = build_tree(state, operation)
        return QueryPlan(node)

    def begin(self, labels: frozenset[str], budget: Budget) -> PlanState:
        """Start planning one operation: the labels and budget in force, a fresh state."""
        self.costs.start_plan(labels)
        self._budget = budget
        return PlanState()

    def plan_roots(
        self, state: PlanState, root: str, kind: str, selection: SelectionSet
    ) -> list[Group]:
        """Plan the root fields of `selection` into new root fetches; those fetches."""
        fields = [
            f
            for f in selection.fields_for(root)
            if f.name not in ("__typename", "__schema", "__type")
        ]
        self.record_keys(state, (), root, fields)
        roots = RootChoice(self.costs, root, kind, fields)
        root_groups: list[Group] = []
        for index, f in enumerate(fields):
            self._plan_root_field(state, roots, root_groups, f, index)
        return root_groups

    def _plan_root_field(
        self, state: PlanState, roots: RootChoice, root_groups: list[Group], f: Field, index: int
    ) -> None:
        """Plan the root field `f` (the `index`th) into the root fetch of the subgraph
        chosen for it, in parts when no one subgraph answers its whole selection."""
        root, kind = roots.root, roots.kind
        pending = [f]
        while pending:
            part = pending.pop(0)
            subgraph = roots.choose(part, root_groups)
            if self.costs.field_cost(subgraph, root, part, None) >= INF:
                # a shared root field whose (key-less) result no subgraph has in full:
                # each subgraph answers its part of the same field, merged afterwards
                here, there = self.costs.split_field(subgraph, root, part, None, deep=True)
                if here is None or there is None or kind == "mutation":
                    raise PlanningError(
                        f"cannot plan {root}.{f.name}: no subgraph resolves its selection"
                    )
                part = here
                pending.append(there)
            group = _root_group(state, root_groups, kind, subgraph, index)
            group.top_conditions.append(part.conditions)
            self.plan_fields(state, Position(group, group.selection, (), root, root), [part])

    def record_keys(
        self, state: PlanState, path: tuple[str, ...], type_name: str, fields: Iterable[Field]
    ) -> None:
        """Note the response keys `fields` use at (path, type), so the planner's own
        fields (keys, requirements) get aliases where they would collide."""
        keys = state.position_keys.setdefault((path, type_name), {})
        for f in fields:
            keys.setdefault(f.response_key, signature(f))

    def internal_fields(
        self, state: PlanState, path: tuple[str, ...], type_name: str, node: SelectionSetNode
    ) -> tuple[Field, ...]:
        """Fields of a key/@requires set, aliased where the client uses the same key."""
        keys = state.position_keys.setdefault((path, type_name), {})
        out: list[Field] = []
        for f in self.costs.fieldset_fields(type_name, node):
            sig = signature(f)
            key = f.response_key
            n = 0
            while key in keys and keys[key] != sig:
                n += 1
                key = f"{f.name}__{n}"
            keys[key] = sig
            out.append(f if key == f.response_key else replace(f, response_key=key))
        return tuple(out)

    def plan_fields(
        self,
        state: PlanState,
        at: Position,
        fields: Iterable[Field],
        requires_met: bool = False,
    ) -> set[Group]:
        """Plan `fields` at `at`: what the group's subgraph resolves there, the rest
        through entity jumps. The groups the fields were planned into or depend on."""
        local, remote = self._local_and_remote(at, fields, requires_met)
        if remote and any(cost for _, cost in local):
            local = self._ride_along(at, local, remote)
        touched = self._plan_local(state, at, local)
        if remote:
            touched |= self.plan_remote(state, at, remote)
        return touched

    def _local_and_remote(
        self, at: Position, fields: Iterable[Field], requires_met: bool
    ) -> tuple[list[tuple[Field, int]], list[Field]]:
        """`fields` the group's subgraph resolves (with what their sub-selections cost)
        and those to fetch elsewhere, a value type's field cut in two where it has only
        part of it. `__typename` goes straight into the selection."""
        subgraph, s_type, provided = at.subgraph, at.s_type, at.provided
        remote: list[Field] = []
        local: list[tuple[Field, int]] = []
        for f in fields:
            self._budget.check()
            if f.is_typename:
                at.sub.add(at.frag, f.response_key, "__typename", (), _condition_directives(f))
                if self.on_typename is not None:
                    self.on_typename(at, f)
                continue
            cost = self.costs.field_cost(subgraph, s_type, f, provided, 0, requires_met)
            if cost < INF:
                local.append((f, cost))
                continue
            here, there = self.costs.split_field(subgraph, s_type, f, provided, deep=True)
            if here is None or there is None:
                remote.append(f)
            else:
                local.append((here, self.costs.field_cost(subgraph, s_type, here, provided)))
                remote.append(there)
        return local, remote

    def _plan_local(
        self, state: PlanState, at: Position, local: list[tuple[Field, int]]
    ) -> set[Group]:
        """Add the fields the group's subgraph resolves to the selection, planning their
        sub-selections below; the groups touched, the group itself included."""
        touched: set[Group] = {at.group}
        subgraph, s_type = at.subgraph, at.s_type
        for f, _ in local:
            if (
                f.selection is None
                and f.conditions is not None
                and 1 < len(f.conditions) <= MAX_ALTERNATIVES
            ):
                self._add_alternatives(state, at, f)
                continue
            sf = at.sub.add(
                at.frag,
                f.response_key,
                f.name,
                f.arguments,
                _condition_directives(f),
                composite=f.selection is not None,
                type_ref=self.costs.type_ref(subgraph, s_type, f.name),
            )
            if f.selection is not None and sf.selection is not None:
                child_decl = self.costs.child_type(subgraph, s_type, f.name)
                child = Position(
                    at.group,
                    sf.selection,
                    (*at.path, f.response_key, *("@",) * list_depth(f.type)),
                    child_decl,
                    child_decl,
                    provided=self.costs.child_provided(subgraph, s_type, f.name, at.provided),
                )
                touched |= self.plan_selection(state, child, f.selection)
        return touched

    def _add_alternatives(self, state: PlanState, at: Position, f: Field) -> None:
        """A leaf the client selected under several alternative @skip/@include conditions:
        one copy per alternative (aliased, read back into the same key), so the subgraph
        resolves it only when the client includes it."""
        type_ref = self.costs.type_ref(at.subgraph, at.s_type, f.name)
        keys = state.position_keys.setdefault((at.path, at.type_name), {})
        n = 0
        for index, conjunction in enumerate(sorted(f.conditions or ())):
            key = f.response_key
            if index:
                while key in keys:  # never a key the client (or a requirement) uses here
                    n += 1
                    key = f"{f.response_key}__if{n}"
                keys[key] = signature(f)
            directives = _conjunction_directives(conjunction) + f.directives
            at.sub.add(
                at.frag,
                key,
                f.name,
                f.arguments,
                directives,
                type_ref=type_ref,
                data_key=f.response_key,
            )

    def _ride_along(
        self, at: Position, local: list[tuple[Field, int]], remote: list[Field]
    ) -> list[tuple[Field, int]]:
        """Local fields whose sub-selection needs fetches of its own move to a jump that
        is made anyway when that subgraph resolves them for less (e.g. a @provides
        that covers only part of a selection)."""
        subgraph, s_type = at.subgraph, at.s_type
        targets: list[tuple[str, str]] = []
        pending = list(remote)
        while pending:
            jump = self.costs.choose_jump(subgraph, at.type_name, s_type, pending, 0, None)
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
            here, there = self.costs.split_field(subgraph, s_type, f, at.provided)
            for target, target_type in targets:
                # keep what this subgraph has, fetch the rest with the jump
                if (
                    there is not None
                    and here is not None
                    and self.costs.field_cost(target, target_type, there, None, requires_met=True)
                    == 0
                ):
                    kept.append((here, 0))
                    remote.append(there)
                    break
                if self.costs.field_cost(target, target_type, f, None, requires_met=True) < cost:
                    remote.append(f)
                    break
            else:
                kept.append((f, cost))
        return kept

    def plan_selection(self, state: PlanState, at: Position, selection: SelectionSet) -> set[Group]:
        """Plan a field's sub-selection where the group's subgraph returns an `at.s_type`
        (no type condition yet); the groups touched."""
        subgraph, s_decl = at.subgraph, at.s_type
        for type_name, fields in selection.by_type.items():
            self.record_keys(state, at.path, type_name, fields)
        if self.sg.is_interface_object(s_decl, subgraph):
            return plan_interface_object(self, state, at, selection)
        touched: set[Group] = {at.group}
        decl_type = self.sg.types.get(s_decl)
        api_type = self.sg.types.get(selection.type_name)
        if (decl_type is not None and decl_type.is_abstract) or (
            api_type is not None and api_type.is_abstract
        ):
            at.sub.add(None, "__typename", "__typename")
        if not selection.by_type and selection.uniform:
            # an interface no object type implements: only its own fields can be asked,
            # and those no subgraph reaches from here are dropped, not refused: no object
            # can ever need them (the subgraph's answer, or its error, says the rest)
            answerable = [
                f
                for f in selection.uniform
                if self.costs.field_cost(subgraph, s_decl, f, at.provided) < INF
            ]
            if not answerable and not self.costs.any_excluded_reachable(
                subgraph, s_decl, selection
            ):
                # nothing at all can be asked there: refused, as the references refuse it
                answerable = list(selection.uniform)
            return touched | self.plan_fields(state, at, answerable)
        possible = self.costs.possible(subgraph, s_decl)
        for type_name, fields in selection.by_type.items():
            if type_name not in possible or not fields:
                continue
            touched |= self.plan_fields(state, at.of_type(type_name), fields)
        return touched

    def plan_remote(self, state: PlanState, at: Position, fields: list[Field]) -> set[Group]:
        """Plan `fields` the group's subgraph cannot resolve through entity jumps: the
        key (and any @requires) planned at `at` as inputs, the fields in entity groups.
        The groups touched; PlanningError when some field is out of reach."""
        touched: set[Group] = set()
        remaining = list(fields)
        while remaining:
            jump = self.costs.choose_jump(
                at.subgraph, at.type_name, at.s_type, remaining, 0, state, at.path
            )
            if jump is None:
                names = ", ".join(f"{at.type_name}.{f.name}" for f in remaining)
                raise PlanningError(
                    f"cannot plan {names}: no subgraph reachable from {at.subgraph!r} resolves it"
                )
            key_fields = self.internal_fields(state, at.path, at.type_name, jump.key.selection)
            producers = self.plan_fields(state, at, key_fields)
            at.sub.add(at.frag, "__typename", "__typename")
            batches = self._requirement_batches(state, at, jump, key_input(key_fields), producers)
            for needed, needed_by, batch in batches:
                touched |= needed_by
                touched |= self._plan_jump(state, at, jump, needed, needed_by, batch)
            remaining = jump.remaining(remaining)
        return touched

    def _requirement_batches(
        self,
        state: PlanState,
        at: Position,
        jump: Jump,
        representation: InputSelection,
        producers: set[Group],
    ) -> list[tuple[InputSelection, set[Group], list[Field]]]:
        """The fields a jump covers, batched by the representation they need: the key plus
        their @requires fields (planned at `at`), with the groups producing them.
        Fields whose requirements clash (one field needed with different arguments)
        cannot share a representation: one fetch per compatible batch."""
        batches: list[tuple[InputSelection, set[Group], list[Field]]] = []
        for f in jump.covered:
            needed, needed_by = representation, set(producers)
            placement = self.sg.placement(jump.s_type, f.name, jump.subgraph)
            if placement is not None and placement.requires is not None:
                required = self.internal_fields(state, at.path, at.type_name, placement.requires)
                if f.conditions is not None:
                    # only needed when the field needing them is: same @skip/@include
                    required = tuple(replace(r, conditions=f.conditions) for r in required)
                needed_by |= self.plan_fields(state, at, required)
                needed = needed.merged(input_selection(required))
            for index, (inputs, deps, fields) in enumerate(batches):
                if not conflicting(inputs, needed):
                    batches[index] = (inputs.merged(needed), deps | needed_by, [*fields, f])
                    break
            else:
                batches.append((needed, needed_by, [f]))
        return batches

    def _plan_jump(
        self,
        state: PlanState,
        at: Position,
        jump: Jump,
        needed: InputSelection,
        needed_by: set[Group],
        fields: list[Field],
    ) -> set[Group]:
        """Plan one batch of a jump's fields into an entity group of the target subgraph
        that gets the representation `needed` from the groups `needed_by`."""
        child = state.entity_group(
            jump.subgraph, at.path, at.group, needed_by, (jump.s_type, needed)
        )
        child.inputs[jump.s_type] = merge_input(child.inputs.get(jump.s_type), needed)
        child.type_map[at.type_name] = jump.s_type
        child.top_conditions.extend(f.conditions for f in fields)
        there = Position(child, child.selection, at.path, at.type_name, jump.s_type, jump.s_type)
        return self.plan_fields(state, there, fields, requires_met=True)
