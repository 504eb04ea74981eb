"""graphql-core AST helpers shared by the stages."""

from __future__ import annotations

from dataclasses import is_dataclass, replace
from typing import Any, TypeVar

from graphql import DirectiveNode, value_from_ast_untyped

NodeT = TypeVar("NodeT")


def copy_node(node: NodeT, **changes: Any) -> NodeT:
    """A copy of an AST node with some attributes replaced.

    graphql-core 3.3 nodes are frozen dataclasses; 3.2 nodes are slotted classes.
    """
    if is_dataclass(node):
        return replace(node, **changes)  # type: ignore[type-var]
    new = node.__class__.__new__(node.__class__)
    for key in node.keys:  # type: ignore[attr-defined]
        setattr(new, key, changes.get(key, getattr(node, key)))
    return new


def directive_arguments(directive: DirectiveNode) -> dict[str, object]:
    """A directive application's arguments as Python values (variables cannot occur in
    the schema documents this reads)."""
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}
