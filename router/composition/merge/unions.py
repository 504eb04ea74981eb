"""Merging union types: the union of the members, with a hint where subgraphs differ."""

from __future__ import annotations

from ..composed import ComposedType
from .context import MergeContext, Sources


def merge_union(ctx: MergeContext, st: ComposedType, sources: Sources) -> None:
    """Every member of any subgraph, with a @join__unionMember per subgraph having it."""
    for _, t in sources:
        for m in t.members:
            if m not in st.members:
                st.members.append(m)
    for m in st.members:
        for sg, t in sources:
            if m in t.members:
                st.join_members.append((ctx.graph[sg.name], m))
        lacking = [sg.name for sg, t in sources if m not in t.members]
        if lacking:
            ctx.hint(
                "INCONSISTENT_UNION_MEMBER",
                f'Union type "{st.name}" includes member type "{m}" in some but not all '
                "defining subgraphs",
                lacking,
                st.name,
            )
