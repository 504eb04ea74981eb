"""Merging one field of an object or interface type across the subgraphs defining the type."""

from __future__ import annotations

from ..composed import ComposedField, ComposedType
from .arguments import merge_arguments
from .context import FieldSources, MergeContext, Sources
from .external import check_merged_directives_on_external, validate_external
from .join import add_join_fields
from .override import Overrides
from .shared import merge_applied, merge_description
from .type_reference import merge_type_reference
from .wording import human_list


def field_sources(sources: Sources) -> dict[str, FieldSources]:
    """For each field, in first-seen order: every subgraph that defines the type."""
    order: list[str] = []
    for _, t in sources:
        for name in t.fields:
            if name not in order:
                order.append(name)
    return {name: [(sg, t.fields.get(name)) for sg, t in sources] for name in order}


def merge_field(
    ctx: MergeContext, st: ComposedType, name: str, fsources: FieldSources, override: Overrides
) -> ComposedField | None:
    """Add the merged field to `st`; None (and an error) when every subgraph has it @external."""
    coordinate = f"{st.name}.{name}"
    present = [(sg, f) for sg, f in fsources if f is not None]
    check_merged_directives_on_external(ctx, coordinate, present)
    if all(f.external for _, f in present):
        ctx.error(
            "EXTERNAL_MISSING_ON_BASE",
            f'Field "{coordinate}" is marked @external on all the subgraphs in which '
            f"it is listed ({human_list([sg.name for sg, _ in present])}).",
            [sg.name for sg, _ in present],
            coordinate,
        )
        return None
    internal = [(sg, f) for sg, f in present if not f.external]
    field = ComposedField(name=name, type=internal[0][1].type)
    st.fields[name] = field
    field.description = merge_description(
        ctx, [f.description for _, f in internal], coordinate, [sg.name for sg, _ in internal]
    )
    merge_applied(ctx, field, internal, coordinate)
    merge_arguments(ctx, field, coordinate, internal)
    all_equal = merge_type_reference(ctx, field, coordinate, internal, "field")
    if len(internal) != len(present):
        validate_external(ctx, field, coordinate, present, all_equal)
    add_join_fields(ctx, field, fsources, override, all_equal)
    return field
