"""Merging one type: extension check, description, join__type and directives, then its kind."""

from __future__ import annotations

from ..composed import ComposedType, JoinType
from .context import MergeContext, Sources
from .enums import merge_enum
from .inputs import merge_input
from .objects import merge_interface, merge_object
from .shared import merge_applied, merge_description
from .unions import merge_union

_MERGE_BY_KIND = {
    "OBJECT": merge_object,
    "INTERFACE": merge_interface,
    "UNION": merge_union,
    "ENUM": merge_enum,
    "INPUT_OBJECT": merge_input,
}


def merge_type(ctx: MergeContext, st: ComposedType) -> None:
    """Merge every subgraph's definition of `st` into it."""
    sources = ctx.sources(st.name)
    _check_extension_with_no_base(ctx, st, sources)
    st.description = merge_description(
        ctx, [t.description for _, t in sources], st.name, [sg.name for sg, _ in sources]
    )
    _add_join_types(ctx, st, sources)
    merge_applied(ctx, st, [(sg, t) for sg, t in sources], st.name)
    merge_kind = _MERGE_BY_KIND.get(st.kind)
    if merge_kind is not None:
        merge_kind(ctx, st, sources)


def _add_join_types(ctx: MergeContext, st: ComposedType, sources: Sources) -> None:
    """One @join__type per subgraph and key (a keyless subgraph gets one without key)."""
    for sg, t in sources:
        graph = ctx.graph[sg.name]
        if not t.keys:
            st.join_types.append(JoinType(graph, interface_object=t.interface_object))
        for key in t.keys:
            extension = (key.extension and sg.fed2) or t.extends
            st.join_types.append(
                JoinType(graph, key.fields, extension, key.resolvable, t.interface_object)
            )


def _check_extension_with_no_base(ctx: MergeContext, st: ComposedType, sources: Sources) -> None:
    if st.name in ("Query", "Mutation", "Subscription"):
        return
    fed2 = [(sg, t) for sg, t in sources if sg.fed2]
    has_base = any(t.has_definition for _, t in fed2) or any(not sg.fed2 for sg, _ in sources)
    if has_base:
        return
    for sg, t in fed2:
        if t.has_extension:
            ctx.error(
                "EXTENSION_WITH_NO_BASE",
                f'[{sg.name}] Type "{st.name}" is an extension type, but there is no '
                f'type definition for "{st.name}" in any subgraph.',
                [sg.name],
                st.name,
            )
