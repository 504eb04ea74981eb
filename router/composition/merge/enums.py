"""Merging enum types: which values are kept depends on whether the enum is an input or output."""

from __future__ import annotations

from ..composed import ComposedEnumValue, ComposedType
from ..model import Subgraph, SubgraphEnumValue
from .context import EnumUsage, MergeContext, Sources
from .shared import merge_applied, merge_description
from .wording import human_list


def merge_enum(ctx: MergeContext, st: ComposedType, sources: Sources) -> None:
    """Output enums get every value, input enums the common ones, both-way enums must agree."""
    usage = ctx.enum_usage.get(st.name)
    if usage is None:
        usage = ("Output", None, None)
        ctx.hint(
            "UNUSED_ENUM_TYPE",
            f'Enum type "{st.name}" is defined but unused. It will be included in the '
            'supergraph with all the values appearing in any subgraph ("as if" it was '
            "only used as an output type).",
            [sg.name for sg, _ in sources],
            st.name,
        )
    order: list[str] = []
    for _, t in sources:
        for v in t.values:
            if v not in order:
                order.append(v)
    for value_name in order:
        value_sources = [(sg, t.values[value_name]) for sg, t in sources if value_name in t.values]
        value = _merge_value(ctx, st, value_name, value_sources)
        lacking = [sg.name for sg, t in sources if value_name not in t.values]
        if not lacking or _keeps_partial_value(ctx, st, value, value_sources, lacking, usage):
            st.values[value_name] = value
    if not st.values:
        ctx.error(
            "EMPTY_MERGED_ENUM_TYPE",
            f'None of the values of enum type "{st.name}" are defined consistently in '
            "all the subgraphs defining that type. As only values common to all "
            "subgraphs are merged, this would result in an empty type.",
            [sg.name for sg, _ in sources],
            st.name,
        )


def _merge_value(
    ctx: MergeContext,
    st: ComposedType,
    value_name: str,
    value_sources: list[tuple[Subgraph, SubgraphEnumValue]],
) -> ComposedEnumValue:
    value = ComposedEnumValue(value_name)
    value.description = merge_description(
        ctx,
        [v.description for _, v in value_sources],
        f"{st.name}.{value_name}",
        [sg.name for sg, _ in value_sources],
    )
    merge_applied(ctx, value, value_sources)
    value.graphs = [ctx.graph[sg.name] for sg, _ in value_sources]
    return value


def _keeps_partial_value(
    ctx: MergeContext,
    st: ComposedType,
    value: ComposedEnumValue,
    value_sources: list[tuple[Subgraph, SubgraphEnumValue]],
    lacking: list[str],
    usage: EnumUsage,
) -> bool:
    """Whether a value some subgraphs lack is kept (reporting why, either way)."""
    position, input_example, output_example = usage
    coordinate = f"{st.name}.{value.name}"
    if position == "Output":
        ctx.hint(
            "INCONSISTENT_ENUM_VALUE_FOR_OUTPUT_ENUM",
            f'Value "{value.name}" of enum type "{st.name}" has been added to the '
            "supergraph but is only defined in a subset of the subgraphs defining "
            f'"{st.name}"',
            lacking,
            coordinate,
        )
    elif value.inaccessible:
        pass  # hidden from the API schema, so no client can send it
    elif position == "Both":
        ctx.error(
            "ENUM_VALUE_MISMATCH",
            f'Enum type "{st.name}" is used as both input type (for example, '
            f'as type of "{input_example}") and output type (for example, as '
            f'type of "{output_example}"), but value "{value.name}" is not '
            f'defined in all the subgraphs defining "{st.name}": '
            f'"{value.name}" is defined in '
            f"{human_list([sg.name for sg, _ in value_sources])} but not in "
            f"{human_list(lacking)}",
            lacking,
            coordinate,
        )
    else:
        ctx.hint(
            "INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM",
            f'Value "{value.name}" of enum type "{st.name}" will not be part of '
            "the supergraph as it is not defined in all the subgraphs defining "
            f'"{st.name}"',
            lacking,
            coordinate,
        )
        return False
    return True
