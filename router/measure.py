"""Bounded measurement of a request's document before anything expensive is done with it.

Parsing is bounded by graphql-core's token limit (and its own nesting guard); the
parsed document is then measured here without expanding a single fragment: every
fragment definition is measured once, in dependency order, and a spread counts with
its fragment's figures. A kilobyte of nested spreads that would expand to millions of
fields is so refused in time linear in the document's size, before validation,
normalization or planning see it. Recursion here follows one definition's own
nesting, which the parser bounds; chains of fragments are walked without recursion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    ListTypeNode,
    ListValueNode,
    NonNullTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeNode,
    ValueNode,
)

from router.config import LimitsConfig
from router.documents import parse_document
from router.errors import RequestError, coded_error, from_graphql_error

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class LimitError(RequestError):
    """The document is refused before validation (a RequestError with status 400)."""


@dataclass(frozen=True)
class OperationShape:
    """What an operation costs, measured on its document with fragments counted where
    they are spread."""

    depth: int  # the deepest field, counting the root fields as 1
    aliases: int  # aliased fields
    root_fields: int
    introspection: bool  # selects __schema or __type at the root
    fields: int = 0  # fields once every fragment is expanded
    nesting: int = 0  # selection sets, spreads and list/object values, one inside another


@dataclass(frozen=True)
class _Figures:
    """The measurements of one selection set (or of a fragment's)."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    nesting: int = 0
    root_fields: int = 0
    introspection: bool = False


_EMPTY = _Figures()


def parse_bounded(query: str, limits: LimitsConfig) -> DocumentNode:
    """Parse `query` under the token limit (comments are bounded by it too); raise
    LimitError (a coded error) when it is malformed, too long or nested too deeply
    for the parser."""
    try:
        return parse_document(
            query, max_lexical_tokens=limits.max_tokens, max_comments=limits.max_tokens
        )
    except GraphQLSyntaxError as failure:
        raise LimitError([from_graphql_error(failure, _parse_code(failure.message))]) from None


def _parse_code(message: str) -> str:
    # graphql-core tells its limits apart from syntax errors by message only
    if message.endswith("Parsing aborted.") and "Document contains more than" in message:
        return "MAX_TOKENS_LIMIT"
    if "nested too deeply" in message:
        return "MAX_NESTING_LIMIT"
    return "GRAPHQL_PARSE_FAILED"


def measure(document: DocumentNode, operation: OperationDefinitionNode) -> OperationShape:
    """The shape of `operation`, fragments measured once each (no expansion)."""
    return _shape(_Measurer(document).figures(operation.selection_set))


def _shape(figures: _Figures) -> OperationShape:
    return OperationShape(
        depth=figures.depth,
        aliases=figures.aliases,
        root_fields=figures.root_fields,
        introspection=figures.introspection,
        fields=figures.fields,
        nesting=figures.nesting,
    )


def violations(
    document: DocumentNode, operation_name: str | None, limits: LimitsConfig
) -> list[dict[str, Any]]:
    """Every limit the document breaks, as coded GraphQL errors (empty when within).

    Nesting, fragment count and expanded size are checked over the whole document
    (validation reads all of it); depth, aliases, root fields and introspection over
    the operation to run. An unknown operation name is left to validation."""
    return inspect_document(document, operation_name, limits)[0]


def inspect_document(
    document: DocumentNode, operation_name: str | None, limits: LimitsConfig
) -> tuple[list[dict[str, Any]], int]:
    """(violations, the document's expanded field count): see `violations`."""
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    if len(fragments) > limits.max_fragments:
        refused = coded_error(
            f"Maximum fragments limit exceeded: the document defines {len(fragments)} "
            f"fragments, the limit is {limits.max_fragments}.",
            "MAX_FRAGMENTS_LIMIT",
        )
        return [refused], 0
    measurer = _Measurer(document)
    if measurer.cycle is not None:
        return [], 0  # validation refuses every cycle, with the path in its message
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    shapes = {id(o): _shape(measurer.figures(o.selection_set)) for o in operations}
    nesting = max(
        [max(shapes[id(o)].nesting, _variables_nesting(o)) for o in operations]
        + [f.nesting for f in measurer.fragment_figures.values()]
        + [0]
    )
    fields = sum(shape.fields for shape in shapes.values())
    errors = _document_errors(nesting, fields, limits)
    chosen = _chosen(operations, operation_name)
    if chosen is not None and not errors:
        errors = shape_errors(shapes[id(chosen)], limits)
    return errors, fields


def _chosen(
    operations: list[OperationDefinitionNode], name: str | None
) -> OperationDefinitionNode | None:
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _document_errors(nesting: int, fields: int, limits: LimitsConfig) -> list[dict[str, Any]]:
    if nesting > limits.max_nesting:
        return [
            coded_error(
                f"Maximum nesting limit exceeded: the document nests {nesting} levels deep, "
                f"the limit is {limits.max_nesting}.",
                "MAX_NESTING_LIMIT",
            )
        ]
    if limits.max_fields and fields > limits.max_fields:
        return [
            coded_error(
                f"Maximum fields limit exceeded: the document selects {fields} fields once "
                f"its fragments are expanded, the limit is {limits.max_fields}.",
                "MAX_FIELDS_LIMIT",
            )
        ]
    return []


def shape_errors(shape: OperationShape, limits: LimitsConfig) -> list[dict[str, Any]]:
    """The per-operation limits `shape` breaks: introspection, depth, aliases, root fields."""
    errors: list[dict[str, Any]] = []
    if shape.introspection and not limits.introspection:
        disabled = "Introspection is disabled on this router."
        errors.append(coded_error(disabled, "INTROSPECTION_DISABLED"))
    if limits.max_depth and shape.depth > limits.max_depth:
        errors.append(
            coded_error(
                f"Maximum depth limit exceeded: the operation is {shape.depth} fields deep, "
                f"the limit is {limits.max_depth}.",
                "MAX_DEPTH_LIMIT",
            )
        )
    if limits.max_aliases and shape.aliases > limits.max_aliases:
        errors.append(
            coded_error(
                f"Maximum aliases limit exceeded: the operation has {shape.aliases} aliases, "
                f"the limit is {limits.max_aliases}.",
                "MAX_ALIASES_LIMIT",
            )
        )
    if limits.max_root_fields and shape.root_fields > limits.max_root_fields:
        errors.append(
            coded_error(
                f"Maximum root fields limit exceeded: the operation selects "
                f"{shape.root_fields} root fields, the limit is {limits.max_root_fields}.",
                "MAX_ROOT_FIELDS_LIMIT",
            )
        )
    return errors


class _Measurer:
    """Figures for selection sets of one document; each fragment measured once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.fragment_figures: dict[str, _Figures] = {}
        self.cycle: str | None = None
        for name in self._dependency_order():
            fragment = self.fragments[name]
            inner = self.figures(fragment.selection_set)
            own = max(_directives_nesting(fragment.directives), inner.nesting)
            self.fragment_figures[name] = _replace_nesting(inner, own)

    def _dependency_order(self) -> list[str]:
        """Fragment names, each after every fragment it spreads (iterative DFS); stops
        at the first cycle, which validation reports in full."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1: in progress, 2: done
        for start in self.fragments:
            if start in state:
                continue
            stack: list[tuple[str, Iterator[str]]] = [(start, self._spreads(start))]
            state[start] = 1
            while stack:
                name, pending = stack[-1]
                child = next(pending, None)
                if child is None:
                    stack.pop()
                    state[name] = 2
                    order.append(name)
                elif child not in self.fragments or state.get(child) == 2:
                    continue
                elif state.get(child) == 1:
                    self.cycle = child
                    return order
                else:
                    state[child] = 1
                    stack.append((child, self._spreads(child)))
        return order

    def _spreads(self, name: str) -> Iterator[str]:
        return _spread_names(self.fragments[name].selection_set)

    def figures(self, selection_set: SelectionSetNode | None) -> _Figures:
        """The figures of a selection set, spreads counted with their fragment's."""
        if selection_set is None:
            return _EMPTY
        depth = aliases = fields = nesting = root_fields = 0
        introspection = False
        for selection in selection_set.selections:
            nesting = max(nesting, _directives_nesting(selection.directives))
            if isinstance(selection, FieldNode):
                below = self.figures(selection.selection_set)
                depth = max(depth, 1 + below.depth)
                aliases += below.aliases + (selection.alias is not None)
                fields += 1 + below.fields
                nesting = max(nesting, below.nesting, _arguments_nesting(selection.arguments))
                root_fields += 1
                introspection = introspection or selection.name.value in INTROSPECTION_FIELDS
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.figures(selection.selection_set)
            else:  # a spread: a fragment in a cycle or undefined counts as empty
                inner = self.fragment_figures.get(selection.name.value, _EMPTY)
            depth = max(depth, inner.depth)
            aliases += inner.aliases
            fields += inner.fields
            nesting = max(nesting, inner.nesting)
            root_fields += inner.root_fields
            introspection = introspection or inner.introspection
        return _Figures(depth, aliases, fields, nesting + 1, root_fields, introspection)


def _variables_nesting(operation: OperationDefinitionNode) -> int:
    """How deep the operation's variable types and default values nest."""
    return max(
        (
            max(_type_nesting(v.type), _value_nesting(v.default_value))
            for v in operation.variable_definitions or ()
        ),
        default=0,
    )


def _spread_names(selection_set: SelectionSetNode | None) -> Iterator[str]:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            yield selection.name.value
        else:
            yield from _spread_names(selection.selection_set)


def _replace_nesting(figures: _Figures, nesting: int) -> _Figures:
    return _Figures(
        figures.depth,
        figures.aliases,
        figures.fields,
        nesting,
        figures.root_fields,
        figures.introspection,
    )


def _directives_nesting(directives: Iterable[DirectiveNode] | None) -> int:
    return max((_arguments_nesting(d.arguments) for d in directives or ()), default=0)


def _arguments_nesting(arguments: Iterable[Any] | None) -> int:
    return max((_value_nesting(a.value) for a in arguments or ()), default=0)


def _value_nesting(value: ValueNode | None) -> int:
    if isinstance(value, ListValueNode):
        return 1 + max((_value_nesting(v) for v in value.values), default=0)
    if isinstance(value, ObjectValueNode):
        return 1 + max((_value_nesting(f.value) for f in value.fields), default=0)
    return 0


def _type_nesting(type_node: TypeNode) -> int:
    depth = 0
    while isinstance(type_node, ListTypeNode | NonNullTypeNode):
        depth += isinstance(type_node, ListTypeNode)
        type_node = type_node.type
    return depth


def variables_nesting(value: Any, limit: int) -> int:
    """How deep a JSON value nests (lists and objects), counted without recursion and
    no further than `limit + 1`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest
