"""The authorization walk over the client's document, as written (as Apollo Router walks
it), so that what is removed and where it is reported follow the document: one error
per occurrence, fragment type conditions in the paths, named fragments walked once.

One `DocumentWalk` either collects the requirements met (`refused` None) or removes what
needs a refused one and notes each removal as (path, directive refusing it). A removal
leaves the document valid; the caller normalizes the result again.

Paths: response keys; `"@"` after each list field (one, however deeply the list nests,
the removed field's own too); `"... on T"` for an inline fragment's type condition and
for a removed fragment's; nothing for a named fragment's spread (its removals are found
once, relative to the fragment, and joined at each spread, as Apollo Router does); a
path through an inline fragment without a type condition stops before it (Apollo
Router's response check cuts the element it cannot match).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_interface_type,
)

from router.astnodes import copy_node
from router.authorization.requirement import Requirement, all_of
from router.authorization.rules import AuthorizationRules

Path = tuple[str, ...]
Removals = list[tuple[Path, int]]  # (path relative to where found, directive refusing)
Result = tuple[Any, Removals]  # a node (the same if unchanged; None: it goes), removals
CUT = "\0"  # a typeless inline fragment in a path: the reported path stops before it
NEVER_REMOVED = frozenset({"__typename", "__schema", "__type"})  # not the directives'


def report(path: Path) -> Path:
    """The path as reported: cut before a typeless inline fragment's place."""
    return path[: path.index(CUT)] if CUT in path else path


class DocumentWalk:
    """One walk over an operation and the named fragments it spreads."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: AuthorizationRules,
        fragments: Mapping[str, FragmentDefinitionNode],
        refused: Mapping[Requirement, int] | None,
        dry_run: bool = False,
    ) -> None:
        self.schema = schema
        self.rules = rules
        self.fragments = fragments
        self.refused = refused
        self.dry_run = dry_run  # note refusals, keep everything, walk on under them
        self.seen: dict[Requirement, None] = {}  # collecting: in first-met order
        self.named: dict[str, tuple[SelectionSetNode | None, Removals]] = {}
        self.reading: dict[str, bool] = {}  # per named fragment: whether it reads its type

    def refusal(self, requirement: Requirement) -> int | None:
        """The directive refusing `requirement` (None: allowed; always while collecting)."""
        if not requirement:
            return None
        if self.refused is None:
            self.seen[requirement] = None
            return None
        return self.refused.get(requirement)

    def selections(self, node: SelectionSetNode, parent: GraphQLNamedType) -> Result:
        """A selection set walked: the same node if unchanged, None if emptied."""
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

    def selection(self, node: SelectionNode, parent: GraphQLNamedType) -> Result:
        """One selection walked."""
        if isinstance(node, FieldNode):
            return self.field(node, parent)
        if isinstance(node, InlineFragmentNode):
            return self.inline(node, parent)
        assert isinstance(node, FragmentSpreadNode)
        return self.spread(node)

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> Result:
        """A field: refused as a whole, or its selection walked (emptied: it goes too)."""
        name = node.name.value
        if name in NEVER_REMOVED:
            return node, []
        definition = parent.fields[name]  # type: ignore[attr-defined]
        named = get_named_type(definition.type)
        key = node.alias.value if node.alias else name
        here: Path = (key, "@") if _is_list(definition.type) else (key,)
        demand = self._field_demand(parent, name, named)
        if node.selection_set is not None and self._reads_itself(node.selection_set, named):
            # any object could be of a refused type: every possible type's demand too
            demand = demand & all_of(self.rules.of_type(t.name) for t in self._possible(named))
        by = self.refusal(demand)
        removals: Removals = [(here, by)] if by is not None else []
        if by is not None and not self.dry_run:
            return None, removals
        if node.selection_set is None:
            return node, removals
        new, found = self.selections(node.selection_set, named)
        removals += [(here + path, refused_by) for path, refused_by in found]
        if new is node.selection_set:
            return node, removals
        return (copy_node(node, selection_set=new) if new is not None else None), removals

    def inline(self, node: InlineFragmentNode, parent: GraphQLNamedType) -> Result:
        """An inline fragment: refused by its type condition, or its selection walked."""
        condition = node.type_condition.name.value if node.type_condition else None
        step: Path = (f"... on {condition}",) if condition else (CUT,)
        removals: Removals = []
        if condition is not None:
            by = self.refusal(self.rules.of_type(condition))
            if by is not None:
                removals.append((step, by))
                if not self.dry_run:
                    return None, removals
        named = self.schema.get_type(condition) if condition else parent
        assert named is not None, "validated against this schema"
        new, found = self.selections(node.selection_set, named)
        removals += [(step + path, refused_by) for path, refused_by in found]
        if new is node.selection_set:
            return node, removals
        return (copy_node(node, selection_set=new) if new is not None else None), removals

    def spread(self, node: FragmentSpreadNode) -> Result:
        """A named fragment's spread: refused by the fragment's type condition, or the
        fragment's own removals joined here (the spread goes if it was emptied)."""
        definition = self.fragments[node.name.value]
        condition = definition.type_condition.name.value
        by = self.refusal(self.rules.of_type(condition))
        if by is not None and not self.dry_run:
            return None, [((f"... on {condition}",), by)]
        new, found = self.fragment(node.name.value)
        if by is not None:  # a dry run: the refusal, then what lies under it
            found = [((f"... on {condition}",), by), *found]
        return (node if new is not None else None), list(found)

    def fragment(self, name: str) -> tuple[SelectionSetNode | None, Removals]:
        """A named fragment's selection walked, once however many spreads it has."""
        done = self.named.get(name)
        if done is None:
            definition = self.fragments[name]
            named = self.schema.get_type(definition.type_condition.name.value)
            assert named is not None, "validated against this schema"
            done = self.selections(definition.selection_set, named)
            self.named[name] = done
        return done

    def _field_demand(self, parent: GraphQLNamedType, name: str, named: Any) -> Requirement:
        """The field's own demand (on an interface: every implementation's field's too)
        and its type's."""
        demand = self.rules.of_field(parent.name, name) & self.rules.of_type(named.name)
        if is_interface_type(parent):
            implementations = (self.rules.of_field(t.name, name) for t in self._possible(parent))
            demand = demand & all_of(implementations)
        return demand

    def _possible(self, named: Any) -> list[Any]:
        return list(self.schema.get_possible_types(named)) if is_abstract_type(named) else []

    def _reads_itself(self, node: SelectionSetNode, named: Any) -> bool:
        """Whether a selection on an interface reads a field of the interface itself
        (directly, or in a fragment on the interface or without a type condition), not
        only `__typename` and type conditions naming other types."""
        if not is_interface_type(named):
            return False
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value != "__typename":
                    return True
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on_itself = condition is None or condition.name.value == named.name
                if on_itself and self._reads_itself(selection.selection_set, named):
                    return True
            elif self._fragment_reads(selection.name.value, named):
                return True
        return False

    def _fragment_reads(self, name: str, named: Any) -> bool:
        """`_reads_itself` for a named fragment on the interface `named`, once each."""
        definition = self.fragments[name]
        if definition.type_condition.name.value != named.name:
            return False
        if name not in self.reading:
            self.reading[name] = self._reads_itself(definition.selection_set, named)
        return self.reading[name]


def _is_list(ftype: Any) -> bool:
    if isinstance(ftype, GraphQLNonNull):
        ftype = ftype.of_type
    return isinstance(ftype, GraphQLList)
