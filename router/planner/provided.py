"""`@provides`: which external fields a subgraph can still resolve along one path."""

from __future__ import annotations

from collections.abc import Callable

from graphql import (
    FieldNode,
    InlineFragmentNode,
    SelectionSetNode,
)

TypeMatcher = Callable[[str, str], bool]


class Provided:
    """The part of a `@provides` field set that applies at one position."""

    __slots__ = ("key", "matches", "nodes")

    def __init__(self, matches: TypeMatcher, nodes: tuple[SelectionSetNode, ...]) -> None:
        self.matches = matches
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
                if tc is None or self.matches(s_type, tc):
                    self._scan(sel.selection_set, s_type, name, out)

    def has(self, s_type: str, name: str) -> bool:
        """Whether the field set provides `s_type.name` here."""
        return bool(self._fields(s_type, name))

    def child(self, s_type: str, name: str) -> Provided | None:
        """What stays provided below `s_type.name` (None when nothing)."""
        nodes = tuple(f.selection_set for f in self._fields(s_type, name) if f.selection_set)
        return Provided(self.matches, nodes) if nodes else None
