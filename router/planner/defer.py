"""Plan operations with `@defer`: a primary plan plus one deferred part per fragment.

How a deferred fragment is planned (Apollo Router's approach):

- the operation is rewritten with every deferred fragment replaced by a marker (an
  aliased `__typename`), and that primary operation is planned as usual; the planner
  reports where each marker was planned (`QueryPlanner.on_typename`): the fetch and
  response path the deferred fragment hangs from;
- at that position the primary fetch also selects `__typename` and a key of the
  object's type in its subgraph, and the fragment's fields are planned in an entity
  fetch to that same subgraph (jumping on to other subgraphs from there as a query's
  fields would); when that entity fetch would ask for nothing but the key, it is
  left out and the jumps start from the primary's data;
- an object that is no entity in its subgraph cannot be fetched again on its own: its
  deferred fields are fetched with the primary and only delivered later;
- deferred root fields get root fetches of their own, which need nothing first;
- a fragment deferred inside a deferred one is planned from its parent's fetches.

`@defer(if: false)` is no defer at all; `@defer(if: $var)` plans both ways, under a
`Condition` on the variable (at most MAX_DEFER_VARIABLES distinct variables).

A fragment that `@skip`/`@include` literals exclude (on it, or on a field or fragment
around it), or whose fields they all exclude, is not deferred: nothing of it is planned.
With variables, each part carries the conditions under which the client selects it
(`ShapedPart.conditions`); the executor leaves out, per request, a part they exclude.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    print_ast,
    visit,
)
from graphql.language import BREAK, REMOVE, Visitor

from router.budget import Budget
from router.executor.shape import ResponseShape, SelectionShape, compile_shape
from router.federation.typeref import list_depth
from router.operation import (
    Conditions,
    Conjunction,
    Field,
    Operation,
    SelectionSet,
    both_conditions,
    directive_condition,
    normalize,
    normalize_selection,
    select_operation,
)
from router.planner.build import QueryPlanner
from router.planner.costs import INF, PlanningError
from router.planner.groups import Group, PlanState
from router.planner.inputs import key_input
from router.planner.nodes import Condition, Defer, DeferredPart, PlanNode, QueryPlan
from router.planner.position import Position
from router.planner.subquery import SubField, SubSelection
from router.planner.tree import build_tree, layers, sequence

MARKER = "__defer"  # response keys of the markers start with it (reserved: starts "__")
MAX_DEFER_VARIABLES = 4  # distinct `if: $var` variables: 2**4 plans at most


class _CannotDefer(Exception):
    """This deferred fragment cannot be planned apart from its parent."""

    def __init__(self, site: _Site) -> None:
        super().__init__("cannot defer")
        self.site = site


class DeferError(Exception):
    """The operation's @defer use is refused; `code` is its error code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ShapedPart(DeferredPart):
    """A deferred part with what the executor needs to deliver it."""

    shape: SelectionShape | None = None  # the fragment's projection, per object at `path`
    parent: int | None = None  # index of the enclosing deferred part (None: the primary)
    # the @skip/@include variables under which the client selects the fragment (None:
    # always); a request they exclude gets no payload for it, and no fetch
    conditions: Conditions = None


@dataclass(frozen=True)
class ShapedDefer(Defer):
    """A Defer node with the projection of its primary payload."""

    primary_shape: ResponseShape | None = field(default=None, compare=False)


@dataclass(frozen=True)
class DeferPlan(QueryPlan):
    """The plan of an operation that defers something, with `at_once`: the plan of the
    same operation without @defer, for a client that takes no incremental delivery
    (planned with it, so it is cached with it; a restricted variant's plan replaces
    both)."""

    at_once: QueryPlan = field(default_factory=lambda: QueryPlan(None), compare=False)


def immediate_plan(plan: QueryPlan) -> QueryPlan:
    """The plan to run for a client that takes the whole answer at once: @defer ignored."""
    return plan.at_once if isinstance(plan, DeferPlan) else plan


@dataclass
class _Site:
    """One deferred fragment at one response path."""

    node: InlineFragmentNode | FragmentSpreadNode
    label: str | None
    condition: bool | str  # True, or the `if` variable's name
    path: tuple[str, ...]  # response keys, "@" per list level
    declared: str  # the declared type of the selection set it is in
    on_type: str  # the type condition in force where it is
    parent: int | None  # the enclosing deferred fragment's site
    # per place the operation selects it (a fragment spread twice), the @skip/@include
    # variables of the fields and fragments from the root to it, its own included: the
    # client selects it when all of one place's hold
    conditions: set[Conjunction] = field(default_factory=set)
    marker: str = ""


def has_defer(document: DocumentNode) -> bool:
    """Whether the document uses @defer anywhere."""
    found = False

    class _Find(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: object) -> Any:
            nonlocal found
            if node.name.value == "defer":
                found = True
                return BREAK
            return None

    visit(document, _Find())
    return found


def without_defer(document: DocumentNode) -> DocumentNode:
    """The document with its @defer directives removed (fragments kept)."""

    class _Drop(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: object) -> Any:
            return REMOVE if node.name.value == "defer" else None

    return visit(document, _Drop())


def _defer_condition(directives: tuple[DirectiveNode, ...] | None) -> tuple[bool | str, Any]:
    """(condition, label) of a @defer among `directives`: condition False when there is
    none or it is `if: false`, True, or the `if` variable's name."""
    for directive in directives or ():
        if directive.name.value != "defer":
            continue
        condition: bool | str = True
        label = None
        for argument in directive.arguments or ():
            value = argument.value
            if argument.name.value == "label" and isinstance(value, StringValueNode):
                label = value.value
            elif argument.name.value == "if":
                if isinstance(value, BooleanValueNode):
                    condition = value.value
                elif isinstance(value, VariableNode):
                    condition = value.name.value
        return condition, label
    return False, None


class _Spreads(Visitor):
    """Collects the names of the fragments a node spreads."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.add(node.name.value)


def _spread_names(fragment: FragmentDefinitionNode) -> set[str]:
    collector = _Spreads()
    visit(fragment, collector)
    return collector.names


def _fragments_with_defer(fragments: Mapping[str, FragmentDefinitionNode]) -> set[str]:
    """The fragments that use @defer, directly or through the fragments they spread."""
    spreads: dict[str, set[str]] = {}
    found: set[str] = set()
    for name, fragment in fragments.items():
        spreads[name] = _spread_names(fragment)
        if has_defer(DocumentNode(definitions=(fragment,))):
            found.add(name)
    changed = True
    while changed:  # at most one round per fragment
        changed = False
        for name, names in spreads.items():
            if name not in found and names & found:
                found.add(name)
                changed = True
    return found


# (selection set, its declared type, the type in force, response path, enclosing site,
# fragments spread on the way, @skip/@include variables on the way)
_Pending = tuple[
    SelectionSetNode,
    GraphQLNamedType,
    GraphQLNamedType,
    tuple[str, ...],
    "int | None",
    frozenset[str],
    Conjunction,
]


def find_sites(
    schema: GraphQLSchema,
    document: DocumentNode,
    definition: OperationDefinitionNode,
    limit: int,
    budget: Budget,
) -> list[_Site]:
    """The deferred fragments of the operation, enclosing ones before those they enclose;
    DeferError past `limit` of them (a fragment spread in several places defers in each)."""
    return _SiteFinder(schema, document, limit, budget).run(definition)


class _SiteFinder:
    """Walks an operation (iteratively, into the fragments that defer something) for
    its deferred fragments."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, limit: int, budget: Budget
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.deferring = _fragments_with_defer(self.fragments)
        self.limit = limit
        self.budget = budget
        self.sites: list[_Site] = []
        self.seen: dict[tuple[int, tuple[str, ...], str], int] = {}  # site index per key

    def run(self, definition: OperationDefinitionNode) -> list[_Site]:
        """The sites of the operation `definition`."""
        root = self.schema.get_root_type(definition.operation)
        assert root is not None  # validated
        pending: list[_Pending] = [
            (definition.selection_set, root, root, (), None, frozenset(), ())
        ]
        while pending:
            self.budget.check()
            item = pending.pop()
            children: list[_Pending] = []
            for selection in item[0].selections:
                if isinstance(selection, FieldNode):
                    child = _field_child(selection, item)
                else:
                    child = self._fragment(selection, item)
                if child is not None:
                    children.append(child)
            pending.extend(reversed(children))  # depth first, in document order
        return self.sites

    def _fragment(self, selection: Any, item: _Pending) -> _Pending | None:
        """Where an inline fragment or a spread is walked next (None: nothing deferred
        in it, or @skip/@include literals exclude it), noting it as a site when it is
        deferred."""
        _, declared, on_type, path, enclosing, spread, conjunction = item
        inner, type_name, spread_here = _fragment_body(selection, self.fragments, spread)
        condition, label = _defer_condition(selection.directives)
        conjunction = _within(conjunction, selection.directives)
        if (
            inner is None
            or conjunction is None
            or (
                isinstance(selection, FragmentSpreadNode)
                and condition is False
                and selection.name.value not in self.deferring
            )
        ):
            return None
        inner_type = self.schema.get_type(type_name) if type_name else on_type
        here = enclosing
        key = (id(selection), path, on_type.name)
        if condition is not False and key in self.seen:
            here = self.seen[key]
            self.sites[here].conditions.add(conjunction)  # selected in one more place
        elif condition is not False:
            here = self.seen[key] = len(self.sites)
            site = _Site(selection, label, condition, path, declared.name, on_type.name, enclosing)
            site.conditions.add(conjunction)
            self.sites.append(site)
            if len(self.sites) > self.limit:
                raise DeferError(
                    f"The operation defers more than {self.limit} fragments: more than this "
                    "router's limits.max_deferred_parts allows.",
                    "MAX_DEFERRED_PARTS_LIMIT",
                )
        return (inner, declared, inner_type or on_type, path, here, spread_here, conjunction)


def _within(conjunction: Conjunction, directives: Any) -> Conjunction | None:
    """The @skip/@include variables on the way, with those of a node's `directives`
    (None: a literal, or a contradiction, excludes the node)."""
    own = directive_condition(directives)
    return None if own is None else both_conditions(conjunction, own)


def _field_child(node: FieldNode, item: _Pending) -> _Pending | None:
    """Where a composite field's selection set is walked next (None: a leaf, or a field
    @skip/@include literals exclude)."""
    _, _, on_type, path, enclosing, spread, conjunction = item
    if node.selection_set is None or not isinstance(
        on_type, GraphQLObjectType | GraphQLInterfaceType
    ):
        return None
    within = _within(conjunction, node.directives)
    if within is None:
        return None
    definition = on_type.fields.get(node.name.value)
    if definition is None:
        return None  # introspection: the router answers it, nothing is deferred there
    named = get_named_type(definition.type)
    if not is_composite_type(named):
        return None
    key = (node.alias or node.name).value
    child_path = (*path, key, *("@",) * list_depth(definition.type))
    return (node.selection_set, named, named, child_path, enclosing, spread, within)


def _fragment_body(
    node: Any, fragments: Mapping[str, FragmentDefinitionNode], spread: frozenset[str]
) -> tuple[SelectionSetNode | None, str | None, frozenset[str]]:
    """(selection set, type condition, fragments spread) of an inline fragment or a
    spread (None for a spread of a fragment already spread on the way)."""
    if isinstance(node, InlineFragmentNode):
        type_name = node.type_condition.name.value if node.type_condition else None
        return node.selection_set, type_name, spread
    name = node.name.value
    fragment = fragments.get(name)
    if fragment is None or name in spread:
        return None, None, spread
    return fragment.selection_set, fragment.type_condition.name.value, spread | {name}


# -- rewriting: deferred fragments out of the primary operation -------------------------


def _marker_field(marker: str) -> FieldNode:
    return FieldNode(alias=NameNode(value=marker), name=NameNode(value="__typename"))


class _Rewrite(Visitor):
    """Replace the active deferred fragments by their markers, remembering what each
    contained (itself rewritten: fragments deferred inside it are markers too)."""

    def __init__(self, markers: Mapping[int, str]) -> None:
        super().__init__()
        self.markers = markers
        self.entered: list[int] = []
        self.inner: dict[int, InlineFragmentNode | FragmentSpreadNode] = {}

    def enter_inline_fragment(self, node: InlineFragmentNode, *_: object) -> None:
        self.entered.append(id(node))

    def leave_inline_fragment(self, node: InlineFragmentNode, *_: object) -> Any:
        return self._leave(node)

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.entered.append(id(node))

    def leave_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> Any:
        return self._leave(node)

    def _leave(self, node: InlineFragmentNode | FragmentSpreadNode) -> Any:
        original = self.entered.pop()
        marker = self.markers.get(original)
        if marker is None:
            return None
        self.inner[original] = node
        return _marker_field(marker)


def _without_markers(node: Any) -> Any:
    """`node` with the markers removed (for printing)."""

    class _Strip(Visitor):
        def enter_field(self, field_node: FieldNode, *_: object) -> Any:
            alias = field_node.alias
            return REMOVE if alias is not None and alias.value.startswith(MARKER) else None

    return visit(node, _Strip())


def _is_marker(f: Field) -> bool:
    return f.is_typename and f.response_key.startswith(MARKER)


def strip_markers(
    selection: SelectionSet, memo: dict[int, SelectionSet] | None = None
) -> SelectionSet:
    """The normalized selection without the markers (what the client sees); the depth of
    the recursion is the operation's, bounded by the nesting limit."""
    memo = {} if memo is None else memo
    done = memo.get(id(selection))
    if done is not None:
        return done

    def fields(items: tuple[Field, ...]) -> tuple[Field, ...]:
        return tuple(
            f if f.selection is None else replace(f, selection=strip_markers(f.selection, memo))
            for f in items
            if not _is_marker(f)
        )

    stripped = replace(
        selection,
        by_type={t: fields(items) for t, items in selection.by_type.items()},
        uniform=None if selection.uniform is None else fields(selection.uniform),
        occurrence_order={
            t: tuple(o for o in order if not o[0].startswith(MARKER))
            for t, order in selection.occurrence_order.items()
        },
    )
    memo[id(selection)] = stripped
    return stripped


# -- planning ------------------------------------------------------------------------------


@dataclass
class _Variant:
    """One outcome of the `if` variables: the rewritten document and its parts."""

    sites: list[_Site]  # the active ones, enclosing before enclosed
    parents: list[int | None]  # per active site, the index of its active enclosing one
    document: DocumentNode
    inner: dict[int, InlineFragmentNode | FragmentSpreadNode]

    @property
    def fragments(self) -> dict[str, FragmentDefinitionNode]:
        """The rewritten document's fragments, by name."""
        return {
            d.name.value: d
            for d in self.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }


def _variant(document: DocumentNode, sites: list[_Site], active: list[bool]) -> _Variant:
    """The document with the active sites' fragments replaced by markers."""
    markers: dict[int, str] = {}
    for site in sites:
        site.marker = markers.setdefault(id(site.node), f"{MARKER}{len(markers)}")
    chosen = [s for s, on in zip(sites, active, strict=True) if on]
    index = {id(s): i for i, s in enumerate(chosen)}
    parents: list[int | None] = []
    for site in chosen:
        parent = site.parent
        while parent is not None and not active[parent]:
            parent = sites[parent].parent
        parents.append(None if parent is None else index[id(sites[parent])])
    rewrite = _Rewrite({id(s.node): s.marker for s in chosen})
    rewritten = visit(document, rewrite)
    return _Variant(chosen, parents, rewritten, rewrite.inner)


class DeferPlanner:
    """Plans operations that use @defer, with the router's planner (module docstring)."""

    def __init__(
        self, planner: QueryPlanner, schema: GraphQLSchema, abstract: frozenset[str]
    ) -> None:
        self.planner = planner
        self.schema = schema
        self.abstract = abstract

    def plan(
        self,
        document: DocumentNode,
        operation: Operation,
        labels: frozenset[str],
        budget: Budget,
        max_parts: int,
    ) -> QueryPlan:
        """The plan of `operation` (normalized from `document`, @defer ignored): a Defer
        node, under Conditions for `if: $var`; the ordinary plan when nothing is deferred.
        DeferError past the limits, PlanningError / BudgetExceeded as the planner's."""
        definition = operation.definition
        sites = find_sites(self.schema, document, definition, max_parts, budget)
        if not sites or operation.kind != "query":
            # mutations defer nothing here (their fields run in order); subscriptions
            # with @defer are refused by validation
            return self.planner.plan(operation, labels, budget)
        variables = sorted({s.condition for s in sites if isinstance(s.condition, str)})
        if len(variables) > MAX_DEFER_VARIABLES:
            raise DeferError(
                f"The operation's @defer depends on {len(variables)} variables; at most "
                f"{MAX_DEFER_VARIABLES} are allowed.",
                "DEFER_TOO_MANY_CONDITIONS",
            )
        plain: list[QueryPlan] = []  # the plan without @defer, made once when first needed

        def at_once() -> QueryPlan:
            """The operation planned without @defer (the same for every variant)."""
            if not plain:
                plain.append(self.planner.plan(operation, labels, budget))
            return plain[0]

        plans: dict[tuple[bool, ...], PlanNode | None] = {}
        for values in itertools.product((True, False), repeat=len(variables)):
            given = dict(zip(variables, values, strict=True))
            active = [s.condition is True or given.get(str(s.condition), False) for s in sites]
            plans[values] = self._plan_active(
                document, operation, sites, active, at_once, labels, budget
            )
        return DeferPlan(_conditions(variables, plans, ()), at_once())

    def _plan_active(
        self,
        document: DocumentNode,
        operation: Operation,
        sites: list[_Site],
        active: list[bool],
        at_once: Callable[[], QueryPlan],
        labels: frozenset[str],
        budget: Budget,
    ) -> PlanNode | None:
        """The plan with the `active` sites deferred. A fragment that cannot be fetched
        on its own (a value type whose fields only the parent field's split can reach)
        is not deferred: it stays in its parent, and the rest is planned again (at most
        once per site)."""
        while any(active):
            try:
                return self._plan_variant(
                    _variant(document, sites, active), operation, labels, budget
                )
            except _CannotDefer as refused:
                active[next(i for i, s in enumerate(sites) if s is refused.site)] = False
        return at_once().node

    def _plan_variant(
        self, variant: _Variant, operation: Operation, labels: frozenset[str], budget: Budget
    ) -> PlanNode | None:
        """One variant's Defer node (the ordinary plan when a fragment's position could
        not be found: it is then all fetched at once, which is always correct)."""
        primary = normalize(self.schema, variant.document, operation.name, budget)
        state = self.planner.begin(labels, budget)
        positions: dict[tuple[str, tuple[str, ...]], list[Position]] = {}

        def heard(at: Position, f: Field) -> None:
            if _is_marker(f):
                positions.setdefault((f.response_key, at.path), []).append(at)

        self.planner.on_typename = heard
        try:
            self.planner.plan_roots(state, primary.root_type, primary.kind, primary.selection)
            primary_count = len(state.groups)
            parts = [
                self._plan_part(state, variant, i, primary, positions, budget)
                for i in range(len(variant.sites))
            ]
        finally:
            self.planner.on_typename = None
        return self._defer_node(state, variant, primary, primary_count, parts)

    def _part_selection(self, variant: _Variant, index: int, budget: Budget) -> SelectionSet:
        """The deferred fragment normalized at its declared type, under the type
        condition in force where it is."""
        site = variant.sites[index]
        wrapper = InlineFragmentNode(
            type_condition=NamedTypeNode(name=NameNode(value=site.on_type)),
            directives=(),
            selection_set=SelectionSetNode(selections=(_part_body(variant, site),)),
        )
        declared = self.schema.get_type(site.declared)
        assert declared is not None
        wrapped = SelectionSetNode(selections=(wrapper,))
        return normalize_selection(self.schema, variant.fragments, declared, wrapped, budget)

    def _plan_part(
        self,
        state: PlanState,
        variant: _Variant,
        index: int,
        primary: Operation,
        positions: Mapping[tuple[str, tuple[str, ...]], list[Position]],
        budget: Budget,
    ) -> tuple[SelectionSet, list[Group], set[int]]:
        """Plan one deferred fragment: (its selection, the fetches made for it, the
        fetches it hangs from); _CannotDefer when it cannot be fetched apart, or selects
        nothing (@skip/@include literals exclude all its fields: nothing to defer)."""
        site = variant.sites[index]
        selection = self._part_selection(variant, index, budget)
        if not selection.uniform and not any(selection.by_type.values()):
            raise _CannotDefer(site)
        start = len(state.groups)
        anchors: set[int] = set()
        if not site.path:
            self.planner.plan_roots(state, primary.root_type, primary.kind, selection)
        else:
            found = positions.get((site.marker, site.path))
            if not found:
                raise _CannotDefer(site)
            try:
                for at in found:
                    anchors |= self._plan_at(state, at, selection)
            except PlanningError as error:
                raise _CannotDefer(site) from error
        return selection, state.groups[start:], anchors

    def _plan_at(self, state: PlanState, at: Position, selection: SelectionSet) -> set[int]:
        """Plan the fragment's fields for the objects at `at`: an entity fetch to the same
        subgraph (module docstring); the ids of the fetches the part hangs from."""
        fields = selection.fields_for(at.type_name)
        if not fields and at.type_name == selection.type_name and selection.uniform:
            fields = selection.uniform
        if not fields:
            return set()
        planner = self.planner
        planner.record_keys(state, at.path, at.type_name, fields)
        key = self._key(at)
        if key is None:
            # no entity here: fetched with its parent, delivered with the deferred part
            # (after any other part whose fetch the planner joined it to)
            touched = planner.plan_fields(state, at, fields)
            return {at.group.id} | {g.id for g in touched}
        key_fields = planner.internal_fields(state, at.path, at.type_name, key.selection)
        producers = planner.plan_fields(state, at, key_fields)
        at.sub.add(at.frag, "__typename", "__typename")
        local = [f for f in fields if self._resolves(at, f)]
        remote = [f for f in fields if not self._resolves(at, f)]
        # the subgraph's own fields in one entity fetch; the others jump from a second
        # one, which the primary's key usually makes empty: they then need only the
        # primary, never the refetch (a jump needing more than the key makes it a fetch)
        for chosen in (local, remote):
            if chosen:
                self._refetch(state, at, producers, key_fields, chosen)
        return {at.group.id}

    def _resolves(self, at: Position, f: Field) -> bool:
        """Whether the subgraph at `at` resolves `f`, or part of it, for the object (as
        an entity fetch there would: nothing provided)."""
        costs = self.planner.costs
        if costs.field_cost(at.subgraph, at.s_type, f, None, 0) < INF:
            return True
        here, there = costs.split_field(at.subgraph, at.s_type, f, None, deep=True)
        return here is not None and there is not None

    def _refetch(
        self,
        state: PlanState,
        at: Position,
        producers: set[Group],
        key_fields: tuple[Field, ...],
        fields: list[Field],
    ) -> None:
        """Plan `fields` in a new entity fetch of the objects at `at` to their subgraph,
        sent the key the primary fetched; left out when it would ask nothing else."""
        entity = state.new_group(at.subgraph, at.path, True, at.group, at.group.root_index)
        entity.depends_on |= producers
        entity.inputs[at.s_type] = key_input(key_fields)
        entity.type_map[at.type_name] = at.s_type
        there = Position(entity, entity.selection, at.path, at.type_name, at.s_type, at.s_type)
        self.planner.plan_fields(state, there, fields)
        if _only_key(entity.selection, key_fields):
            # nothing to ask the subgraph again: the jumps start from the primary's data
            entity.selection = SubSelection()

    def _key(self, at: Position) -> Any:
        """The cheapest key of the object's type that its subgraph resolves and provides."""
        entity_type = self.planner.sg.types.get(at.s_type)
        if entity_type is None:
            return None
        best: tuple[int, Any] | None = None
        costs = self.planner.costs
        for key in entity_type.resolvable_keys(at.subgraph):
            cost = costs.fieldset_cost(at.subgraph, at.type_name, at.s_type, key.selection, 0)
            if cost < INF and (best is None or cost < best[0]):
                best = (cost, key)
        return None if best is None else best[1]

    def _part(
        self,
        variant: _Variant,
        index: int,
        primary: Operation,
        by_id: Mapping[int, Group],
        owners: Mapping[int, int],
        selection: SelectionSet,
        groups: list[Group],
        anchors: set[int],
    ) -> ShapedPart:
        """One deferred part's node: its fetches, and those it waits for (the fetches it
        hangs from and those its own fetches need from outside it). It starts once the
        part it is nested in is delivered, or a later one whose fetches it needs."""
        site = variant.sites[index]
        own = {g.id for g in groups}
        needed = set(anchors)
        for g in groups:
            needed |= {d.id for d in g.depends_on if d.id not in own}
        after = {owners[i] for i in needed if owners.get(i, index) != index}
        parent = variant.parents[index]
        if after and (parent is None or max(after) > parent):
            parent = max(after)
        return ShapedPart(
            label=site.label,
            path=site.path,
            depends=tuple(sorted(_sent(needed, by_id))),
            subselection=_print_part(_part_body(variant, site)),
            node=sequence(layers(groups), primary),
            shape=SelectionShape(strip_markers(selection), self.abstract),
            parent=parent,
            conditions=_part_conditions(site.conditions, selection),
        )

    def _defer_node(
        self,
        state: PlanState,
        variant: _Variant,
        primary: Operation,
        primary_count: int,
        parts: list[tuple[SelectionSet, list[Group], set[int]]],
    ) -> ShapedDefer:
        """The Defer node of the planned groups."""
        for group in state.groups:
            _drop_markers(group.selection)
        primary_state = PlanState()
        primary_state.groups = state.groups[:primary_count]
        by_id = {g.id: g for g in state.groups}
        owners = {g.id: index for index, (_, groups, _) in enumerate(parts) for g in groups}
        deferred = tuple(
            self._part(variant, index, primary, by_id, owners, *part)
            for index, part in enumerate(parts)
        )
        definition = select_operation(variant.document, primary.name)
        return ShapedDefer(
            primary_subselection=print_ast(_without_markers(definition.selection_set)),
            primary=build_tree(primary_state, primary),
            deferred=deferred,
            primary_shape=compile_shape(
                replace(primary, selection=strip_markers(primary.selection)), self.abstract
            ),
        )


def _part_conditions(around: set[Conjunction], selection: SelectionSet) -> Conditions:
    """When the client selects a deferred fragment: the variables on the way to one
    place of it (`around`) hold, and so do those of one of its fields (None: always)."""
    alternatives: set[Conjunction] = set()
    for fields in (*selection.by_type.values(), selection.uniform or ()):
        for f in fields:
            alternatives.update(f.conditions if f.conditions is not None else ((),))
    combined = (both_conditions(place, own) for place in around for own in alternatives)
    # one that another's variables imply adds nothing: kept out, for a shorter check
    kept: list[Conjunction] = []
    for conjunction in sorted({c for c in combined if c is not None}, key=len):
        if not any(set(k) <= set(conjunction) for k in kept):
            kept.append(conjunction)
    return None if kept == [()] else frozenset(kept)


def _drop_markers(selection: SubSelection) -> None:
    """Take the markers out of a subgraph selection (they only located the deferred
    fragments); a selection left empty asks for `__typename`. Iterative: selections
    nest as deep as the operation."""
    pending = [selection]
    while pending:
        current = pending.pop()
        for fields in current.parts.values():
            for key in [k for k in fields if k.startswith(MARKER)]:
                del fields[key]
                if not fields:
                    fields["__typename"] = SubField("__typename", "__typename")
            pending.extend(f.selection for f in fields.values() if f.selection is not None)


def _only_key(selection: SubSelection, key_fields: tuple[Field, ...]) -> bool:
    """Whether an entity fetch would select nothing but `__typename` and the key it is
    sent (so the representations already hold all it would return)."""
    names = {f.response_key for f in key_fields if f.selection is None}
    for fields in selection.parts.values():
        for sub in fields.values():
            if sub.name == "__typename":
                continue
            if sub.selection is not None or sub.arguments or sub.response_key not in names:
                return False
    return True


def _sent(ids: set[int], groups: Mapping[int, Group]) -> Iterator[int]:
    """The fetches among `ids` that are sent: one left out stands for those it needs."""
    pending = list(ids)
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        group = groups[current]
        if group.selection.is_empty():
            pending.extend(d.id for d in group.depends_on)
        else:
            yield current


def _part_body(variant: _Variant, site: _Site) -> InlineFragmentNode:
    """The deferred fragment as an inline fragment without its @defer (a spread's
    fragment inlined), as rewritten for the variant."""
    inner = variant.inner[id(site.node)]
    directives = tuple(d for d in inner.directives or () if d.name.value != "defer")
    if isinstance(inner, FragmentSpreadNode):
        fragment = variant.fragments[inner.name.value]
        type_condition, selection_set = fragment.type_condition, fragment.selection_set
    else:
        type_condition, selection_set = inner.type_condition, inner.selection_set
    return InlineFragmentNode(
        type_condition=type_condition or NamedTypeNode(name=NameNode(value=site.on_type)),
        directives=directives,
        selection_set=selection_set,
    )


def _print_part(body: InlineFragmentNode) -> str:
    """The deferred selection as Apollo prints it: `{ ... on T { fields } }`."""
    printed = print_ast(_without_markers(SelectionSetNode(selections=(body,))))
    return printed


def _conditions(
    variables: list[str],
    plans: Mapping[tuple[bool, ...], PlanNode | None],
    prefix: tuple[bool, ...],
) -> PlanNode | None:
    """The plans of the variants, chosen by nested Conditions on the `if` variables."""
    if len(prefix) == len(variables):
        return plans[prefix]
    return Condition(
        variables[len(prefix)],
        _conditions(variables, plans, (*prefix, True)),
        _conditions(variables, plans, (*prefix, False)),
    )
