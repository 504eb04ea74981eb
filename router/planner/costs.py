"""What each subgraph can resolve, and what it costs to resolve a selection there.

Costs are "number of extra fetches", computed with the same rules the builder
uses, so choices (which subgraph for a shared root field, which subgraph to jump
to, which key) prefer the fewest fetches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from graphql import (
    SelectionSetNode,
    print_ast,
)

from router.federation.typeref import named_type
from router.operation import Field, SelectionSet, normalize_field_set
from router.planner.groups import Jump, PlanState
from router.planner.provided import Provided
from router.supergraph.model import Kind, Supergraph

# A cost is "extra fetches" first, then the fields those fetches bring: between plans
# with as many fetches, the one that resolves more fields earlier (in fetches already
# made) wins, as in the reference planners.
FETCH = 1 << 16
INF = 1 << 48
MAX_HOPS = 4


class PlanningError(Exception):
    """The operation cannot be planned with this supergraph."""


def signature(f: Field) -> tuple[str, str]:
    """(name, printed arguments): two fields at one response key must agree on it."""
    return f.name, "".join(print_ast(a) for a in f.arguments)


def weight(fields: Iterable[Field]) -> int:
    """How many fields a fetch of `fields` returns, sub-selections included."""
    total = 0
    for f in fields:
        total += 1
        if f.selection is not None:
            for sub in f.selection.by_type.values():
                total += weight(sub)
    return total


def count_fields(selection: SelectionSet) -> int:
    """How many fields `selection` asks for directly, over all its types, `__typename` aside."""
    return sum(1 for fields in selection.by_type.values() for f in fields if not f.is_typename)


class SubgraphCosts:
    """Schema questions and costs, per subgraph; planning builds on them."""

    def __init__(self, supergraph: Supergraph) -> None:
        self.sg = supergraph
        self.graph_order = {name: i for i, name in enumerate(supergraph.graphs)}
        # keyed by object ids: each entry also holds its objects, so that an id cannot
        # be reused by a new object while the entry exists
        self._fieldset_cache: dict[tuple[str, int], tuple[SelectionSetNode, SelectionSet]] = {}
        self._cost_cache: dict[tuple[Any, ...], tuple[Any, Any, int]] = {}
        self._api_interfaces: dict[str, tuple[str, ...]] = {}
        # progressive-override labels enabled for the plan being built
        self.labels: frozenset[str] = frozenset()

    def start_plan(self, labels: frozenset[str]) -> None:
        """Forget the costs of the previous plan (keyed by its objects' ids) and plan
        with these progressive-override labels enabled."""
        self._cost_cache.clear()
        self.labels = labels

    # -- schema questions -----------------------------------------------------------------

    def type_matches(self, type_name: str, condition: str) -> bool:
        """Whether an object of `type_name` falls under the type condition `condition`."""
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
        """The interfaces `type_name` implements in any subgraph or in the API schema."""
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
        """The object types `subgraph` may return where it declares an `s_decl`."""
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
        """The named type `subgraph` gives the field `s_type.name` (PlanningError if none)."""
        fdef = self.sg.field(s_type, name)
        if fdef is None:
            raise PlanningError(f"unknown field {s_type}.{name}")
        placement = fdef.placements.get(subgraph)
        if placement is not None and placement.type_ref:
            return named_type(placement.type_ref)
        return named_type(fdef.type_ref)

    def defined_locally(
        self, subgraph: str, s_type: str, name: str, provided: Provided | None
    ) -> bool:
        """Whether `subgraph` itself resolves `s_type.name` (with the labels enabled, or
        as an @external field a @provides along the path covers)."""
        fdef = self.sg.field(s_type, name)
        if fdef is None:
            return False
        placement = fdef.placements.get(subgraph)
        if placement is None:
            return False
        if placement.serves(self.labels):
            return True
        if placement.override_label is not None and not placement.external:
            return False  # not while its override label says otherwise
        # An @external field is only resolvable where a @provides covers it. (Key
        # fields of Fed1 extensions are not marked external by composition.)
        return provided is not None and provided.has(s_type, name)

    def child_provided(
        self, subgraph: str, s_type: str, name: str, provided: Provided | None
    ) -> Provided | None:
        """What stays provided below `s_type.name` in `subgraph`: its own @provides and
        the part of `provided` that reaches that far; None when nothing is."""
        nodes: list[SelectionSetNode] = []
        placement = self.sg.placement(s_type, name, subgraph)
        if placement is not None and placement.provides is not None:
            nodes.append(placement.provides)
        if provided is not None:
            inner = provided.child(s_type, name)
            if inner is not None:
                nodes.extend(inner.nodes)
        return Provided(self.type_matches, tuple(nodes)) if nodes else None

    def resolvers(self, type_name: str, name: str) -> list[tuple[str, str]]:
        """(subgraph, type name there) pairs that can resolve `type_name.name`."""
        out: list[tuple[str, str]] = []
        fdef = self.sg.field(type_name, name)
        if fdef is not None:
            out.extend((g, type_name) for g in fdef.resolvable_with(self.labels))
        for interface in self.interfaces_of(type_name):
            itype = self.sg.types.get(interface)
            if itype is None or not itype.interface_object_in:
                continue
            ifield = itype.fields.get(name)
            if ifield is None:
                continue
            out.extend(
                (g, interface)
                for g in itype.interface_object_in
                if g in ifield.resolvable_with(self.labels)
            )
        out.sort(key=lambda p: self.graph_order.get(p[0], 0))
        return out

    def fieldset_fields(self, type_name: str, node: SelectionSetNode) -> tuple[Field, ...]:
        """A key or @requires field set of `type_name` as normalized fields (cached)."""
        key = (type_name, id(node))
        entry = self._fieldset_cache.get(key)
        if entry is None:
            gtype = self.sg.schema.get_type(type_name)
            if gtype is None:
                raise PlanningError(f"unknown type {type_name} in a field set")
            entry = (node, normalize_field_set(self.sg.schema, gtype, node))
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
        """Extra fetches (FETCH each) needed to resolve `f` (and its selection) in `subgraph`,
        plus the fields they fetch; INF if it cannot be resolved there at all. A field with
        @requires is only resolvable where its requirements were sent along (`requires_met`:
        an entity-fetch entry)."""
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
        """Extra fetches (and their fields) to resolve `selection` where `subgraph` returns
        an `s_decl`; INF when no plan can. Memoized for the plan being built."""
        key = (subgraph, s_decl, id(selection), provided.key if provided else (), depth)
        cached = self._cost_cache.get(key)
        if cached is not None:
            return cached[2]
        # INF meanwhile: guards against recursion through the same position
        self._cost_cache[key] = (selection, provided, INF)
        if self.sg.is_interface_object(s_decl, subgraph):
            total = self._interface_object_cost(subgraph, s_decl, selection, provided, depth)
        else:
            total = self._object_selection_cost(subgraph, s_decl, selection, provided, depth)
        total = min(total, INF)
        self._cost_cache[key] = (selection, provided, total)
        return total

    def _object_selection_cost(
        self,
        subgraph: str,
        s_decl: str,
        selection: SelectionSet,
        provided: Provided | None,
        depth: int,
    ) -> int:
        """`selection_cost` where `subgraph` knows the concrete types: each possible type's
        fields here, or through jumps for those it lacks."""
        total = 0
        possible = self.possible(subgraph, s_decl)
        if not selection.by_type and selection.uniform:
            # no object type can be returned here: a field no subgraph reaches is
            # never needed (see QueryPlanner.plan_selection)
            costs = [
                self.field_cost(subgraph, s_decl, f, provided, depth) for f in selection.uniform
            ]
            reachable = [c for c in costs if c < INF]
            if reachable or self.any_excluded_reachable(subgraph, s_decl, selection):
                total += sum(reachable)
            else:
                total += INF
        for type_name, fields in selection.by_type.items():
            if type_name not in possible:
                continue
            remote: list[Field] = []
            for f in fields:
                c = self.field_cost(subgraph, type_name, f, provided, depth)
                if c < INF:
                    total += c
                    continue
                here, there = self.split_field(subgraph, type_name, f, provided, deep=True)
                if here is None or there is None:
                    remote.append(f)
                else:
                    total += self.field_cost(subgraph, type_name, here, provided, depth)
                    remote.append(there)
            if remote:
                total += self.remote_cost(subgraph, type_name, type_name, remote, depth)
            if total >= INF:
                break
        return total

    def any_excluded_reachable(self, subgraph: str, s_decl: str, selection: SelectionSet) -> bool:
        """Whether a field a literal @skip/@include excludes could be asked here: the
        reference planners then plan the selection (and ask the subgraph) all the same."""
        return any(
            self.field_cost(subgraph, s_decl, f, None) < INF
            for f in selection.excluded.get(s_decl, ())
        )

    def _interface_object_cost(
        self,
        subgraph: str,
        s_decl: str,
        selection: SelectionSet,
        provided: Provided | None,
        depth: int,
    ) -> int:
        """`selection_cost` where `subgraph` sees the interface `s_decl` as an object: its
        fields here, plus one fetch to an owner when the concrete type is needed."""
        total = 0
        needs_owner = selection.uniform is None  # type conditions need the concrete type
        groups = [selection.uniform] if selection.uniform is not None else []
        for fields in groups or selection.by_type.values():
            for f in fields:
                if f.is_typename:
                    needs_owner = True
                    continue
                c = self.field_cost(subgraph, s_decl, f, provided, depth)
                if c >= INF:
                    if not selection.by_type:
                        return INF
                    needs_owner = True
                else:
                    total += c
        if needs_owner:
            if self.interface_owner(subgraph, s_decl) is None:
                return INF
            total += FETCH
        return total

    def remote_cost(
        self, subgraph: str, type_name: str, s_type: str, fields: list[Field], depth: int
    ) -> int:
        """What fetching `fields` of a `type_name` from other subgraphs costs, jump after
        jump from `subgraph`; INF past MAX_HOPS or when some field is out of reach."""
        if depth >= MAX_HOPS:
            return INF
        total = 0
        remaining = list(fields)
        while remaining:
            jump = self.choose_jump(subgraph, type_name, s_type, remaining, depth, None)
            if jump is None:
                return INF
            # the fields weigh less than one fetch, however many there are
            total += FETCH + min(weight(jump.covered), FETCH - 1) + jump.cost
            remaining = jump.remaining(remaining)
        return total

    def fieldset_cost(
        self, subgraph: str, type_name: str, s_type: str, node: SelectionSetNode, depth: int
    ) -> int:
        """What `subgraph` pays to provide a key or @requires field set of `type_name`
        (the fields it lacks fetched one hop deeper)."""
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

    # -- jumps ------------------------------------------------------------------------------

    def choose_jump(
        self,
        subgraph: str,
        type_name: str,
        s_type: str,
        fields: list[Field],
        depth: int,
        state: PlanState | None,
        path: tuple[str, ...] = (),
    ) -> Jump | None:
        """The entity jump from `subgraph` that takes on most of `fields` (a `type_name`
        there called `s_type`), the cheapest among equals; None when none can."""
        best: tuple[tuple[int, ...], Jump] | None = None
        targets = self._jump_targets(subgraph, type_name, s_type, fields)
        for (target, target_type), target_fields in targets.items():
            keys = self.sg.types[target_type].resolvable_keys(target)
            if not keys:
                continue
            coverage = self._jump_coverage(
                subgraph, type_name, s_type, target, target_type, target_fields, depth
            )
            if coverage is None:
                continue
            covered, consumed, leftovers, cost = coverage
            key_choice = self._cheapest_key(subgraph, type_name, s_type, keys, depth)
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
                jump = Jump(
                    target,
                    target_type,
                    key_choice[1],
                    tuple(covered),
                    cost + key_choice[0],
                    frozenset(consumed),
                    tuple(leftovers),
                )
                best = (score, jump)
        return best[1] if best else None

    def _jump_targets(
        self, subgraph: str, type_name: str, s_type: str, fields: list[Field]
    ) -> dict[tuple[str, str], list[Field]]:
        """The fields each other (subgraph, its name for the type) resolves; back into
        `subgraph` itself only for a field that needs its requirements sent."""
        candidates: dict[tuple[str, str], list[Field]] = {}
        for f in fields:
            if f.is_typename:
                continue
            for target in self.resolvers(type_name, f.name):
                if target == (subgraph, s_type):
                    placement = self.sg.placement(s_type, f.name, subgraph)
                    if placement is None or placement.requires is None:
                        continue
                candidates.setdefault(target, []).append(f)
        return candidates

    def _jump_coverage(
        self,
        subgraph: str,
        type_name: str,
        s_type: str,
        target: str,
        target_type: str,
        fields: list[Field],
        depth: int,
    ) -> tuple[list[Field], set[int], list[Field], int] | None:
        """What a jump to `target` takes on of `fields`: (what it resolves, the ids of the
        fields it consumes, the parts of them it leaves, its cost); None when nothing."""
        covered: list[Field] = []
        consumed: set[int] = set()
        leftovers: list[Field] = []
        cost = 0
        for f in fields:
            # the query's own depth is finite: only key hops count towards MAX_HOPS
            c = self.field_cost(target, target_type, f, None, requires_met=True)
            if c >= INF:
                # a value type spread over subgraphs: take the part the target has
                here, there = self.split_field(target, target_type, f, None, deep=True)
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
            return None
        return covered, consumed, leftovers, cost

    def _cheapest_key(
        self, subgraph: str, type_name: str, s_type: str, keys: Iterable[Any], depth: int
    ) -> tuple[int, Any] | None:
        """(cost, key) of the key `subgraph` provides for least; None when it has none."""
        choice: tuple[int, Any] | None = None
        for key in keys:
            kc = self.fieldset_cost(subgraph, type_name, s_type, key.selection, depth)
            if kc < INF and (choice is None or kc < choice[0]):
                choice = (kc, key)
        return choice

    def interface_owner(self, subgraph: str, interface: str) -> tuple[str, Any] | None:
        """(subgraph, key) of the first subgraph that knows the concrete types of
        `interface` and that `subgraph` can reach by key; None when there is none."""
        itype = self.sg.types[interface]
        for owner in sorted(itype.graphs, key=lambda g: self.graph_order.get(g, 0)):
            if owner == subgraph or owner in itype.interface_object_in:
                continue
            for key in itype.resolvable_keys(owner):
                fields = self.fieldset_fields(interface, key.selection)
                if all(self.field_cost(subgraph, interface, f, None) < INF for f in fields):
                    return owner, key
        return None

    # -- splitting value types ------------------------------------------------------------

    def split_field(
        self,
        subgraph: str,
        s_type: str,
        f: Field,
        provided: Provided | None,
        deep: bool = False,
    ) -> tuple[Field | None, Field | None]:
        """`f` cut in two: the sub-fields `subgraph` resolves without fetching, the rest;
        (None, None) when it cannot be cut.

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
            parts = self._split_fields(subgraph, selection, type_name, fields, provided, deep)
            if parts is None:
                return None, None
            here[type_name], there[type_name] = parts
        if not any(any(not g.is_typename for g in fs) for fs in here.values()) or not any(
            any(not g.is_typename for g in fs) for fs in there.values()
        ):
            return None, None
        return (
            replace(f, selection=SelectionSet(selection.type_name, here)),
            replace(f, selection=SelectionSet(selection.type_name, there)),
        )

    def _split_fields(
        self,
        subgraph: str,
        selection: SelectionSet,
        type_name: str,
        fields: tuple[Field, ...],
        provided: Provided | None,
        deep: bool,
    ) -> tuple[tuple[Field, ...], tuple[Field, ...]] | None:
        """One type's `fields` cut as `split_field` cuts them (`__typename` on both
        sides); None when a field must not be cut from the rest."""
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
                g_here, g_there = self.split_field(subgraph, type_name, g, provided, deep=True)
                if g_here is not None and g_there is not None:
                    mine.append(g_here)
                    rest.append(g_there)
                    continue
            if (
                deep
                and type_name != selection.type_name
                and self.sg.types[type_name].is_entity
                and (selection.uniform is not None or g.response_key in selection.wide_keys)
            ):
                # a field asked of the interface must be answered for every type the
                # subgraph may return here; another subgraph's copy would be a guess
                return None
            rest.append(g)
        return tuple(mine), tuple(rest)
