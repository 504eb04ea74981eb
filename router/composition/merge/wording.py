"""How merge messages name things: kinds of types and quoted lists of subgraphs."""

from __future__ import annotations

from collections.abc import Sequence

KIND_NAMES = {
    "OBJECT": "Object Type",
    "INTERFACE": "Interface Type",
    "UNION": "Union Type",
    "ENUM": "Enum Type",
    "INPUT_OBJECT": "Input Object Type",
    "SCALAR": "Scalar Type",
}


def human_list(items: Sequence[str], singular: str = "subgraph", plural: str = "subgraphs") -> str:
    """`subgraph "a"` for one item, `subgraphs "a", "b" and "c"` for more."""
    quoted = [f'"{i}"' for i in items]
    if len(quoted) == 1:
        return f"{singular} {quoted[0]}"
    return f"{plural} {', '.join(quoted[:-1])} and {quoted[-1]}"
