"""Stage 2: normalize a client operation against the API schema.

The normalized form is what the planner and the response shaper walk:

- fragments are inlined and fields merged by response key, in response order;
- every selection set is split by the concrete object types possible at that
  point, so abstract types never need fragment logic later;
- `@skip`/`@include` with literals are folded away; with variables they become
  `conditions` on the field (evaluated by the shaper, forwarded to subgraphs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    ast_from_value,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    print_ast,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from router.budget import UNLIMITED, Budget

_TYPENAME_TYPE = GraphQLNonNull(GraphQLString)

# A conjunction of variable conditions: ((name, required_value), ...). The field is
# included when every variable has its required value.
Conjunction = tuple[tuple[str, bool], ...]
# Disjunction of conjunctions; None means "always included".
Conditions = frozenset[Conjunction] | None


@dataclass(frozen=True, eq=False)
class Field:
    """One response key at one position: the merged occurrences of a client field."""

    response_key: str
    name: str
    # the object type it is selected on; the interface for a selection's `uniform`
    # fields (and its `excluded` ones where no object type implements it)
    parent_type: str
    type: GraphQLOutputType  # API type of the field
    named_type: str
    arguments: tuple[ArgumentNode, ...] = ()
    conditions: Conditions = None
    selection: SelectionSet | None = None
    directives: tuple[DirectiveNode, ...] = ()  # client directives forwarded as is

    @property
    def is_typename(self) -> bool:
        """Whether the field is `__typename` (answered by whoever returns the object)."""
        return self.name == "__typename"


@dataclass(frozen=True, eq=False)
class SelectionSet:
    """A normalized selection set: its fields per concrete object type possible there."""

    type_name: str  # declared type at this position
    by_type: Mapping[str, tuple[Field, ...]]  # concrete type -> fields, in response order
    # The fields when the selection is the same whatever the concrete type (no type
    # conditions below an abstract type); lets a subgraph that only knows the
    # interface (an @interfaceObject) serve them.
    uniform: tuple[Field, ...] | None = None
    # Where one response key is selected under different @skip/@include conditions,
    # its position is that of its first *included* occurrence (GraphQL CollectFields),
    # so it depends on the variables: every occurrence, in document order, per type.
    occurrence_order: Mapping[str, tuple[tuple[str, Conjunction], ...]] = field(
        default_factory=dict
    )
    # Where the selection also has type conditions, per object type the response keys
    # selected for it on the interface itself only (no type condition naming it): a
    # subgraph that sees the interface as an object may serve them without knowing the
    # concrete type.
    interface_keys: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # the response keys with any occurrence on the interface itself: every type the
    # subgraph may return there must answer them
    wide_keys: frozenset[str] = frozenset()
    # per object type, fields an @skip/@include literal excludes for sure: never fetched
    # nor shaped, but the reference planners choose subgraphs with them in the selection
    excluded: Mapping[str, tuple[Field, ...]] = field(default_factory=dict)

    def fields_for(self, type_name: str) -> tuple[Field, ...]:
        """The fields selected when the object is a `type_name` (none if not possible)."""
        return self.by_type.get(type_name, ())


@dataclass(frozen=True, eq=False)
class Operation:
    """The client's chosen operation, normalized: what the planner and shaper walk."""

    kind: str  # "query" | "mutation" | "subscription"
    name: str | None
    root_type: str
    selection: SelectionSet
    variable_definitions: Mapping[str, VariableDefinitionNode]
    definition: OperationDefinitionNode
    introspection: tuple[Field, ...] = ()  # root __schema / __type fields (router answers)
    condition_variables: frozenset[str] = field(default_factory=frozenset)


class OperationError(Exception):
    """The operation cannot be normalized against the schema; `code` is its error code."""

    def __init__(self, message: str, code: str = "GRAPHQL_VALIDATION_FAILED") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation the request names (or the document's only one); OperationError
    when there is no such operation or the choice is ambiguous."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        for op in operations:
            if op.name and op.name.value == operation_name:
                return op
        raise OperationError(f'Unknown operation named "{operation_name}".')
    if len(operations) == 1:
        return operations[0]
    if not operations:
        raise OperationError("Must provide an operation.")
    raise OperationError("Must provide operation name if query contains multiple operations.")


def normalize(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    budget: Budget = UNLIMITED,
) -> Operation:
    """The operation `operation_name` of a validated document, normalized (module
    docstring); BudgetExceeded when it takes longer than `budget`."""
    definition = select_operation(document, operation_name)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    kind = definition.operation.value
    root = schema.get_root_type(definition.operation)
    if root is None:
        raise OperationError(f"Schema is not configured to execute {kind} operation.")
    normalizer = _Normalizer(schema, fragments, budget)
    selection = normalizer.selection_set(root, [(definition.selection_set, ())])
    fields = selection.fields_for(root.name)
    introspection = tuple(f for f in fields if f.name in ("__schema", "__type"))
    return Operation(
        kind=kind,
        name=definition.name.value if definition.name else None,
        root_type=root.name,
        selection=selection,
        variable_definitions={
            v.variable.name.value: v for v in definition.variable_definitions or ()
        },
        definition=definition,
        introspection=introspection,
        condition_variables=frozenset(normalizer.condition_variables),
    )


def normalize_field_set(
    schema: GraphQLSchema, parent: GraphQLNamedType, field_set: SelectionSetNode
) -> SelectionSet:
    """A federation field set (a key, `@requires` or `@provides` selection) on `parent`,
    normalized like a client selection (a field set spreads no fragments; no time budget)."""
    return _Normalizer(schema, {}, UNLIMITED).selection_set(parent, [(field_set, ())])


def normalize_selection(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    parent: GraphQLNamedType,
    selection_set: SelectionSetNode,
    budget: Budget = UNLIMITED,
) -> SelectionSet:
    """A client selection set at a position of type `parent` (a @defer'red fragment, say),
    normalized like an operation's, its spreads read from `fragments`."""
    return _Normalizer(schema, fragments, budget).selection_set(parent, [(selection_set, ())])


def directive_condition(directives: tuple[DirectiveNode, ...] | None) -> Conjunction | None:
    """The node's own skip/include condition; None when it is excluded for sure."""
    result: list[tuple[str, bool]] = []
    for directive in directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        want = name == "include"
        for arg in directive.arguments or ():
            if arg.name.value != "if":
                continue
            value = arg.value
            if isinstance(value, BooleanValueNode):
                if value.value != want:
                    return None
            elif isinstance(value, VariableNode):
                result.append((value.name.value, want))
    return tuple(result)


def both_conditions(a: Conjunction, b: Conjunction) -> Conjunction | None:
    """`a` and `b` together; None when they contradict (never included)."""
    if not b:
        return a
    merged = dict(a)
    for var, want in b:
        if merged.get(var, want) != want:
            return None  # contradictory: never included
        merged[var] = want
    return tuple(sorted(merged.items()))


def _default_literal(arg: GraphQLArgument) -> ValueNode | None:
    """An argument's default value as a literal (None when it has none)."""
    if arg.ast_node is not None and arg.ast_node.default_value is not None:
        return arg.ast_node.default_value
    if arg.default_value is Undefined:
        return None
    return ast_from_value(arg.default_value, arg.type)


class _Normalizer:
    """Normalizes the selection sets of one document (its fragments, its budget)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        budget: Budget,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.budget = budget
        self.condition_variables: set[str] = set()

    def _forwarded(self, directives: tuple[DirectiveNode, ...] | None) -> tuple[DirectiveNode, ...]:
        """The client's executable directives (not @skip/@include) for the subgraphs, with
        the supergraph's argument defaults spelled out: a subgraph may declare the
        directive without them."""
        out: list[DirectiveNode] = []
        for node in directives or ():
            name = node.name.value
            if name in ("skip", "include"):
                continue
            definition = self.schema.get_directive(name)
            given = {a.name.value for a in node.arguments or ()}
            defaults = [
                ArgumentNode(name=NameNode(value=arg_name), value=value)
                for arg_name, arg in (definition.args.items() if definition else ())
                if arg_name not in given and (value := _default_literal(arg)) is not None
            ]
            if defaults:
                node = DirectiveNode(name=node.name, arguments=(*(node.arguments or ()), *defaults))
            out.append(node)
        return tuple(out)

    def _applies(
        self, type_condition: str | None, object_type: GraphQLObjectType | GraphQLInterfaceType
    ) -> bool:
        if type_condition is None or type_condition == object_type.name:
            return True
        cond_type = self.schema.get_type(type_condition)
        if isinstance(cond_type, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(cond_type, object_type)
        return False

    def _collect(
        self,
        object_type: GraphQLObjectType | GraphQLInterfaceType,
        selection_set: SelectionSetNode,
        condition: Conjunction,
        out: dict[str, list[tuple[FieldNode, Conjunction]]],
        visited: frozenset[str] = frozenset(),
        order: list[tuple[str, Conjunction]] | None = None,
        excluded: dict[str, list[tuple[FieldNode, Conjunction]]] | None = None,
    ) -> None:
        for selection in selection_set.selections:
            own = directive_condition(selection.directives)
            cond = None if own is None else both_conditions(condition, own)
            for var, _ in own or ():
                self.condition_variables.add(var)
            if cond is None:
                if excluded is None:
                    continue
                # excluded for sure: kept aside, it still guides the choice of subgraph
                out_here, cond, order_here = excluded, (), None
            else:
                out_here, order_here = out, order
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                out_here.setdefault(key, []).append((selection, cond))
                if order_here is not None:
                    order_here.append((key, cond))
                continue
            if isinstance(selection, InlineFragmentNode):
                tc = selection.type_condition.name.value if selection.type_condition else None
                inner, names = selection.selection_set, visited
            else:
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visited or out_here is excluded:
                    # excluded parts are read once, without fragments: they cost no more
                    # than their own text
                    continue
                tc, inner, names = (
                    fragment.type_condition.name.value,
                    fragment.selection_set,
                    (visited | {name}),
                )
            if self._applies(tc, object_type):
                self._collect(object_type, inner, cond, out_here, names, order_here, excluded)

    def _is_uniform(self, parent: GraphQLNamedType, selection_set: SelectionSetNode) -> bool:
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                tc = selection.type_condition
                if tc is not None and tc.name.value != parent.name:
                    return False
                if not self._is_uniform(parent, selection.selection_set):
                    return False
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None or fragment.type_condition.name.value != parent.name:
                    return False
                if not self._is_uniform(parent, fragment.selection_set):
                    return False
        return True

    def selection_set(
        self,
        parent: GraphQLNamedType,
        occurrences: list[tuple[SelectionSetNode, Conjunction]],
    ) -> SelectionSet:
        """The occurrences of one selection set (each under its condition) at a position
        of type `parent`, merged and split by the object types possible there."""
        if isinstance(parent, GraphQLObjectType):
            object_types: list[GraphQLObjectType] = [parent]
        else:
            assert isinstance(parent, GraphQLInterfaceType | GraphQLUnionType)
            object_types = list(self.schema.get_possible_types(parent))
        by_type: dict[str, tuple[Field, ...]] = {}
        orders: dict[str, tuple[tuple[str, Conjunction], ...]] = {}
        excluded: dict[str, tuple[Field, ...]] = {}
        for object_type in object_types:
            collected: dict[str, list[tuple[FieldNode, Conjunction]]] = {}
            order: list[tuple[str, Conjunction]] = []
            ghosts: dict[str, list[tuple[FieldNode, Conjunction]]] = {}
            for selection_set, cond in occurrences:
                self._collect(
                    object_type, selection_set, cond, collected, order=order, excluded=ghosts
                )
            by_type[object_type.name] = tuple(
                self._field(object_type, key, nodes) for key, nodes in collected.items()
            )
            if ghosts.keys() - collected.keys():
                excluded[object_type.name] = self._excluded_fields(object_type, ghosts, collected)
            if any(len({c for _, c in nodes}) > 1 for nodes in collected.values()):
                orders[object_type.name] = tuple(order)
        if not object_types and isinstance(parent, GraphQLInterfaceType):
            # no implementations: what a literal excludes is kept under the interface
            collected, ghosts = {}, {}
            for selection_set, cond in occurrences:
                self._collect(parent, selection_set, cond, collected, excluded=ghosts)
            if ghosts.keys() - collected.keys():
                excluded[parent.name] = self._excluded_fields(parent, ghosts, collected)
        uniform: tuple[Field, ...] | None = None
        interface_keys: Mapping[str, frozenset[str]] = {}
        wide: frozenset[str] = frozenset()
        if is_abstract_type(parent) and all(self._is_uniform(parent, s) for s, _ in occurrences):
            uniform = self._uniform_fields(parent, occurrences)
            if orders:
                # the same for every type; an @interfaceObject answers as the interface
                orders[parent.name] = next(iter(orders.values()))
        elif isinstance(parent, GraphQLInterfaceType):
            wide, interface_keys = self._interface_keys(parent, occurrences)
        return SelectionSet(parent.name, by_type, uniform, orders, interface_keys, wide, excluded)

    def _interface_keys(
        self, parent: GraphQLInterfaceType, occurrences: list[tuple[SelectionSetNode, Conjunction]]
    ) -> tuple[frozenset[str], Mapping[str, frozenset[str]]]:
        """The keys selected on the interface itself (or an interface it implements), and
        per object type those selected for it there only, under no type condition
        naming it."""
        wide: set[str] = set()
        narrow: list[tuple[tuple[str, ...], str]] = []  # (type conditions, key)
        widening = {parent.name, *(i.name for i in parent.interfaces)}
        pending: list[tuple[SelectionSetNode, tuple[str, ...]]] = [(s, ()) for s, _ in occurrences]
        seen: set[tuple[str, tuple[str, ...]]] = set()
        while pending:
            selection_set, conditions = pending.pop()
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    if conditions:
                        narrow.append((conditions, key))
                    else:
                        wide.add(key)
                    continue
                if isinstance(selection, InlineFragmentNode):
                    tc = selection.type_condition.name.value if selection.type_condition else None
                    inner = selection.selection_set
                else:
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or (name, conditions) in seen:
                        continue
                    seen.add((name, conditions))  # each fragment once per set of conditions
                    tc, inner = fragment.type_condition.name.value, fragment.selection_set
                if tc is not None and tc not in widening and tc not in conditions:
                    pending.append((inner, (*conditions, tc)))
                else:
                    pending.append((inner, conditions))
        if not wide:
            return frozenset(), {}
        out: dict[str, frozenset[str]] = {}
        for object_type in self.schema.get_possible_types(parent):
            named = {
                key
                for conditions, key in narrow
                if all(self._applies(tc, object_type) for tc in conditions)
            }
            out[object_type.name] = frozenset(wide - named)
        return frozenset(wide), out

    def _uniform_fields(
        self, parent: GraphQLNamedType, occurrences: list[tuple[SelectionSetNode, Conjunction]]
    ) -> tuple[Field, ...] | None:
        """Fields selected directly on the abstract type, typed against the interface."""
        if not isinstance(parent, GraphQLInterfaceType):
            # a union has no fields of its own, and its __typename is each member's own
            # name: nothing is uniform there
            return None
        collected: dict[str, list[tuple[FieldNode, Conjunction]]] = {}
        for selection_set, cond in occurrences:
            self._collect_uniform(parent, selection_set, cond, collected)
        return tuple(self._field(parent, key, nodes) for key, nodes in collected.items())

    def _collect_uniform(
        self,
        parent: GraphQLInterfaceType,
        selection_set: SelectionSetNode,
        condition: Conjunction,
        out: dict[str, list[tuple[FieldNode, Conjunction]]],
    ) -> None:
        for selection in selection_set.selections:
            own = directive_condition(selection.directives)
            if own is None:
                continue
            cond = both_conditions(condition, own)
            if cond is None:
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                out.setdefault(key, []).append((selection, cond))
            elif isinstance(selection, InlineFragmentNode):
                self._collect_uniform(parent, selection.selection_set, cond, out)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                self._collect_uniform(parent, fragment.selection_set, cond, out)

    def _excluded_fields(
        self,
        parent: GraphQLObjectType | GraphQLInterfaceType,
        ghosts: Mapping[str, list[tuple[FieldNode, Conjunction]]],
        collected: Mapping[str, object],
    ) -> tuple[Field, ...]:
        """The excluded keys no included occurrence selects, as fields."""
        return tuple(
            self._excluded_field(parent, key, nodes[0][0])
            for key, nodes in ghosts.items()
            if key not in collected
        )

    def _excluded_field(
        self, parent: GraphQLObjectType | GraphQLInterfaceType, key: str, node: FieldNode
    ) -> Field:
        """A field a literal @skip/@include excludes: its name and arguments only (it is
        never fetched; it only weighs in the choice of subgraph)."""
        name = node.name.value
        definition = parent.fields.get(name)
        ftype: GraphQLOutputType = definition.type if definition else _TYPENAME_TYPE
        return Field(
            response_key=key,
            name=name,
            parent_type=parent.name,
            type=ftype,
            named_type=get_named_type(ftype).name,
            arguments=tuple(node.arguments or ()),
        )

    def _field(
        self,
        parent: GraphQLObjectType | GraphQLInterfaceType,
        key: str,
        nodes: list[tuple[FieldNode, Conjunction]],
    ) -> Field:
        """The field at response key `key` of `parent`, merged from its occurrences
        (each with the condition it was selected under)."""
        self.budget.check()
        first = nodes[0][0]
        name = first.name.value
        ftype = self._field_type(parent, name)
        conds = [c for _, c in nodes]
        conditions: Conditions = None if any(not c for c in conds) else frozenset(conds)
        named = get_named_type(ftype)
        selection = self._sub_selection(named, nodes) if is_composite_type(named) else None
        directives: tuple[DirectiveNode, ...] = ()
        for node, _ in nodes:
            directives += self._forwarded(node.directives)
        return Field(
            response_key=key,
            name=name,
            parent_type=parent.name,
            type=ftype,
            named_type=named.name,
            arguments=tuple(first.arguments or ()),
            conditions=conditions,
            selection=selection,
            directives=directives,
        )

    @staticmethod
    def _field_type(
        parent: GraphQLObjectType | GraphQLInterfaceType, name: str
    ) -> GraphQLOutputType:
        """The API type of `parent.name`; OperationError when `parent` has no such field."""
        if name == "__typename":
            return _TYPENAME_TYPE
        definition = parent.fields.get(name)
        if definition is None:
            if name not in ("__schema", "__type"):
                raise OperationError(f'Cannot query field "{name}" on type "{parent.name}".')
            definition = SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
        return definition.type

    def _sub_selection(
        self, named: GraphQLNamedType, nodes: list[tuple[FieldNode, Conjunction]]
    ) -> SelectionSet:
        """The sub-selections of a composite field's occurrences, merged into one."""
        # Conditions that differ between occurrences must travel down to the
        # sub-selections they brought; a shared one is already on this field.
        push_down = len({cond for _, cond in nodes}) > 1
        occurrences = [
            (node.selection_set, cond if push_down else ())
            for node, cond in nodes
            if node.selection_set is not None
        ]
        for _, cond in occurrences:
            for var, _ in cond:
                self.condition_variables.add(var)
        return self.selection_set(named, occurrences)


def print_operation(operation: Operation) -> str:
    """The normalized operation: one branch per concrete type, conditions spelled out."""
    lines = [f"{operation.kind} {operation.name or ''}".rstrip() + " {"]
    _print_selection(operation.selection, "  ", lines)
    lines.append("}")
    return "\n".join(lines)


def _print_conditions(conditions: Conditions) -> str:
    if conditions is None:
        return ""
    alternatives = [
        " && ".join(f"{'' if want else '!'}${var}" for var, want in conjunction)
        for conjunction in sorted(conditions)
    ]
    return "  # if " + " || ".join(alternatives)


def _print_selection(selection: SelectionSet, indent: str, lines: list[str]) -> None:
    single = len(selection.by_type) == 1
    for type_name, fields in selection.by_type.items():
        inner = indent
        if not single:
            lines.append(f"{indent}... on {type_name} {{")
            inner = indent + "  "
        for f in fields:
            alias = f"{f.response_key}: " if f.response_key != f.name else ""
            args = ""
            if f.arguments:
                args = "(" + ", ".join(print_ast(a) for a in f.arguments) + ")"
            head = f"{inner}{alias}{f.name}{args}"
            if f.selection is None:
                lines.append(head + _print_conditions(f.conditions))
            else:
                lines.append(head + " {" + _print_conditions(f.conditions))
                _print_selection(f.selection, inner + "  ", lines)
                lines.append(inner + "}")
        if not single:
            lines.append(f"{indent}}}")
