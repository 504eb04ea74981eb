"""Type references kept as their SDL text ("[Int!]!"), with the few helpers we need."""

from __future__ import annotations


def named_type(ref: str) -> str:
    return ref.strip("[]!")


def is_non_null(ref: str) -> bool:
    return ref.endswith("!")


def nullable(ref: str) -> str:
    return ref[:-1] if ref.endswith("!") else ref


def is_list(ref: str) -> bool:
    return nullable(ref).startswith("[")


def list_item(ref: str) -> str:
    return nullable(ref)[1:-1]


BUILTIN_SCALARS = frozenset({"Int", "Float", "String", "Boolean", "ID"})
