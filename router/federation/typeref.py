"""Type references: as SDL text ("[Int!]!"), as parsed type nodes, as schema types."""

from __future__ import annotations

from graphql import GraphQLList, GraphQLNonNull, GraphQLType, NamedTypeNode, TypeNode

BUILTIN_SCALARS = frozenset({"Int", "Float", "String", "Boolean", "ID"})


def named_type(ref: str) -> str:
    """The named type at the bottom of a type reference: `[Int!]!` -> `Int`."""
    return ref.replace("[", "").replace("]", "").replace("!", "").strip()


def is_non_null(ref: str) -> bool:
    """Whether the reference's outermost wrapper is non-null."""
    return ref.endswith("!")


def nullable(ref: str) -> str:
    """The reference without its outermost non-null: `[Int]!` -> `[Int]`."""
    return ref[:-1] if ref.endswith("!") else ref


def is_list(ref: str) -> bool:
    """Whether the reference is a list once its non-null is removed."""
    return nullable(ref).startswith("[")


def list_item(ref: str) -> str:
    """The item type of a list reference: `[Int!]!` -> `Int!`."""
    return nullable(ref)[1:-1]


def node_named_type(node: TypeNode) -> str:
    """The named type at the bottom of a parsed type node."""
    while not isinstance(node, NamedTypeNode):
        node = node.type  # type: ignore[attr-defined]
    return node.name.value


def list_depth(t: GraphQLType) -> int:
    """How many list wrappers a schema type has: `[[Int]!]` -> 2."""
    depth = 0
    while isinstance(t, GraphQLNonNull | GraphQLList):
        depth += isinstance(t, GraphQLList)
        t = t.of_type
    return depth
