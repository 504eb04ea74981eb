"""Type conditions naming a protected interface (`... on Node { id }`, or a named fragment
`on Node`): Apollo Router removes every such fragment a request may not see, wherever it
is, with an error at its place (`[..., "... on Node"]`), as it removes the branch of a
refused object type.

The normalized operation no longer shows these type conditions (it has spread their
fields over the object types), so this works on the client's document: the fragments
are taken out of it (and what they leave empty: a field, an inline fragment, a named
fragment and its spreads), and the document is normalized again. Each named fragment is
stripped once, however many spreads it has, so the work stays linear in the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    Visitor,
    get_named_type,
    is_abstract_type,
    is_interface_type,
    is_object_type,
    visit,
)

from router.astnodes import copy_node
from router.authorization.requirement import Requirement
from router.authorization.rules import AuthorizationRules
from router.operation import Operation, normalize

Path = tuple[str, ...]
Removals = list[tuple[Path, int]]  # paths (relative to where they were found) and by whom


class _TypeConditions(Visitor):
    """Collects the type names a document's fragments are conditioned on."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_inline_fragment(self, node: InlineFragmentNode, *_: Any) -> None:
        """An inline fragment's type condition, if it has one."""
        if node.type_condition is not None:
            self.names.add(node.type_condition.name.value)

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> None:
        """A named fragment's type condition."""
        self.names.add(node.type_condition.name.value)


def condition_requirements(
    document: DocumentNode, schema: GraphQLSchema, rules: AuthorizationRules
) -> dict[str, Requirement]:
    """The interfaces a type condition of `document` names that demand something, with
    their requirements (object types are the normalized walk's: they stay branches)."""
    if not rules.types:
        return {}
    collector = _TypeConditions()
    visit(document, collector)
    return {
        name: rules.of_type(name)
        for name in sorted(collector.names)
        if rules.of_type(name) and is_interface_type(schema.get_type(name))
    }


def strip_conditions(
    document: DocumentNode,
    operation: Operation,
    schema: GraphQLSchema,
    rules: AuthorizationRules,
    refused: Mapping[Requirement, int],
) -> tuple[Operation, Removals] | None:
    """`operation` normalized again from `document` without the fragments whose type
    condition names an interface refused (`refused`: requirement -> the directive
    refusing it), and where they were; None when no such fragment is refused."""
    names = {
        name: refused[requirement]
        for name, requirement in condition_requirements(document, schema, rules).items()
        if requirement in refused
    }
    if not names:
        return None
    stripper = _Stripper(schema, document, names)
    root = schema.get_root_type(operation.definition.operation)
    assert root is not None, "the operation was normalized against this schema"
    selection_set, removals = stripper.selections(operation.definition.selection_set, root)
    if selection_set is None:  # nothing is left to ask for
        emptied = replace(operation.selection, by_type={operation.root_type: ()}, uniform=None)
        return replace(operation, selection=emptied), removals
    definition = copy_node(operation.definition, selection_set=selection_set)
    stripped = stripper.document(operation.definition, definition)
    return normalize(schema, stripped, operation.name), removals


def _list_step(node: FieldNode, parent: GraphQLNamedType) -> tuple[GraphQLNamedType, Path]:
    """The field's named type and what it adds to a path (its key, `"@"` for a list)."""
    field = getattr(parent, "fields", {})[node.name.value]
    ftype = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    key = node.alias.value if node.alias else node.name.value
    return get_named_type(field.type), (key, "@") if isinstance(ftype, GraphQLList) else (key,)


class _Stripper:
    """Takes the fragments conditioned on refused interfaces out of one document."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, refused: Mapping[str, int]
    ) -> None:
        self.schema = schema
        self.refused = refused
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.source = document
        # per named fragment met: its selection set stripped (None: gone), its removals
        self.stripped: dict[str, tuple[SelectionSetNode | None, Removals]] = {}

    def selections(
        self, node: SelectionSetNode, parent: GraphQLNamedType
    ) -> tuple[SelectionSetNode | None, Removals]:
        """The selection set stripped (the same node if unchanged, None if emptied)."""
        kept: list[SelectionNode] = []
        removals: Removals = []
        changed = False
        for selection in node.selections:
            new, found = self.selection(selection, parent)
            removals += found
            changed = changed or new is not selection
            if new is not None:
                kept.append(new)
        if not changed:
            return node, removals
        return (copy_node(node, selections=tuple(kept)) if kept else None), removals

    def selection(
        self, node: SelectionNode, parent: GraphQLNamedType
    ) -> tuple[SelectionNode | None, Removals]:
        """One selection stripped (the same node if unchanged, None if it goes)."""
        if isinstance(node, FieldNode):
            return self._field(node, parent)
        if isinstance(node, InlineFragmentNode):
            condition = node.type_condition.name.value if node.type_condition else None
            return self._fragment(node, parent, condition, node.selection_set)
        assert isinstance(node, FragmentSpreadNode)
        definition = self.fragments[node.name.value]
        return self._fragment(node, parent, definition.type_condition.name.value, None)

    def _field(
        self, node: FieldNode, parent: GraphQLNamedType
    ) -> tuple[SelectionNode | None, Removals]:
        if node.selection_set is None or node.name.value.startswith("__"):
            return node, []  # a leaf, or introspection: no type condition of the schema's
        named, step = _list_step(node, parent)
        new, found = self.selections(node.selection_set, named)
        removals = [(step + path, by) for path, by in found]
        if new is node.selection_set:
            return node, removals
        return (copy_node(node, selection_set=new) if new is not None else None), removals

    def _fragment(
        self,
        node: InlineFragmentNode | FragmentSpreadNode,
        parent: GraphQLNamedType,
        condition: str | None,
        inline: SelectionSetNode | None,
    ) -> tuple[SelectionNode | None, Removals]:
        """An inline fragment (`inline`: its selections) or a spread, conditioned on
        `condition` (None: the position's type) at a position of type `parent`."""
        if condition is not None and condition in self.refused:
            return None, [((f"... on {condition}",), self.refused[condition])]
        named = self.schema.get_type(condition) if condition else parent
        assert named is not None, "validated against this schema"
        if inline is None:
            new, found = self._named(node.name.value)  # type: ignore[union-attr]
        else:
            new, found = self.selections(inline, named)
        # the normalized walk's convention: an object type's branch under an abstract type
        branch = is_abstract_type(parent) and is_object_type(named) and condition is not None
        step: Path = (f"... on {condition}",) if branch else ()
        removals = [(step + path, by) for path, by in found]
        if new is None:
            return None, removals
        if inline is None or new is inline:
            return node, removals  # a spread stays: its definition is what changes
        return copy_node(node, selection_set=new), removals

    def _named(self, name: str) -> tuple[SelectionSetNode | None, Removals]:
        """A named fragment's selection set stripped, once however many spreads it has."""
        done = self.stripped.get(name)
        if done is None:
            definition = self.fragments[name]
            named = self.schema.get_type(definition.type_condition.name.value)
            assert named is not None, "validated against this schema"
            done = self.selections(definition.selection_set, named)
            self.stripped[name] = done
        return done

    def document(
        self, original: OperationDefinitionNode, definition: OperationDefinitionNode
    ) -> DocumentNode:
        """The source document with the stripped operation and named fragments."""
        out: list[Any] = []
        for node in self.source.definitions:
            if node is original:
                out.append(definition)
            elif isinstance(node, FragmentDefinitionNode):
                name = node.name.value
                if node.type_condition.name.value in self.refused:
                    continue
                if name in self.stripped:
                    selection_set = self.stripped[name][0]
                    if selection_set is None:
                        continue
                    node = copy_node(node, selection_set=selection_set)
                out.append(node)
            else:
                out.append(node)
        return copy_node(self.source, definitions=tuple(out))
