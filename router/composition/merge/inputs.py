"""Merging input object types: only fields every subgraph defines are kept."""

from __future__ import annotations

from ..composed import ComposedType, JoinField
from ..model import Subgraph, SubgraphInputValue
from .arguments import merge_input_value
from .context import MergeContext, Sources
from .wording import human_list


def merge_input(ctx: MergeContext, st: ComposedType, sources: Sources) -> None:
    """Merge the input fields common to all subgraphs; an empty result is an error."""
    order: list[str] = []
    for _, t in sources:
        for name in t.input_fields:
            if name not in order:
                order.append(name)
    for name in order:
        _merge_input_field(ctx, st, name, [(sg, t.input_fields.get(name)) for sg, t in sources])
    if not st.input_fields:
        ctx.error(
            "EMPTY_MERGED_INPUT_TYPE",
            f'None of the fields of input object type "{st.name}" are consistently '
            "defined in all the subgraphs defining that type. As only fields common "
            "to all subgraphs are merged, this would result in an empty type.",
            [sg.name for sg, _ in sources],
            st.name,
        )


def _merge_input_field(
    ctx: MergeContext,
    st: ComposedType,
    name: str,
    fsources: list[tuple[Subgraph, SubgraphInputValue | None]],
) -> None:
    coordinate = f"{st.name}.{name}"
    present = [(sg, f) for sg, f in fsources if f is not None]
    value = merge_input_value(ctx, name, coordinate, present, "Input field")
    lacking = [sg.name for sg, f in fsources if f is None]
    if lacking and not value.inaccessible:
        required = [sg.name for sg, f in present if f.required]
        if required:
            ctx.error(
                "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
                f'Input object field "{coordinate}" is required in some subgraphs '
                f"but does not appear in all subgraphs: it is required in "
                f"{human_list(required)} but does not appear in "
                f"{human_list(lacking)}",
                required + lacking,
                coordinate,
            )
        else:
            ctx.hint(
                "INCONSISTENT_INPUT_OBJECT_FIELD",
                f'Input object field "{name}" will not be added to "{st.name}" in '
                "the supergraph as it does not appear in all subgraphs",
                lacking,
                coordinate,
            )
        return
    if len({f.type for _, f in present}) > 1:
        value.join_fields = [JoinField(ctx.graph[sg.name], type=f.type) for sg, f in present]
    st.input_fields[name] = value
