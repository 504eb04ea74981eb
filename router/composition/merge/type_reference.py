"""Merging the type of a field or argument across subgraphs (subtypes allowed), noting enum use."""

from __future__ import annotations

from router.federation.typeref import is_list, is_non_null, list_item, named_type, nullable

from ..model import Subgraph
from .context import MergeContext


def is_subtype(ctx: MergeContext, sup: str, sub: str) -> bool:
    """Federation's subtyping for merging (no list upgrade)."""
    if sup == sub:
        return True
    if is_non_null(sub):
        inner = nullable(sub)
        return is_subtype(ctx, nullable(sup) if is_non_null(sup) else sup, inner)
    if is_non_null(sup):
        return False
    if is_list(sup) or is_list(sub):
        return is_list(sup) and is_list(sub) and is_subtype(ctx, list_item(sup), list_item(sub))
    st = ctx.out.types.get(sup)
    if st is None:
        return False
    if st.kind == "UNION":
        return sub in st.members
    if st.kind == "INTERFACE":
        sub_type = ctx.out.types.get(sub)
        return sub_type is not None and sup in sub_type.interfaces
    return False


def merge_type_reference(
    ctx: MergeContext,
    dest,
    coordinate: str,
    present: list[tuple[Subgraph, object]],
    element: str,
    input_position: bool = False,
) -> bool:
    """Set `dest.type` to the merged type; True when every subgraph gave the same one.

    `element` ("field" or "argument") words the report. Of compatible types an output
    gets the most general one and an input the most specific (`Int` and `Int!`: output
    `Int`, input `Int!`), so every subgraph can serve or accept the merged type.
    """
    dest_type, has_subtypes, incompatible = _merged_type(ctx, present, input_position)
    dest.type = dest_type
    _note_enum_usage(ctx, dest_type, coordinate, input_position)
    if incompatible:
        code = "FIELD_ARGUMENT_TYPE_MISMATCH" if element == "argument" else "FIELD_TYPE_MISMATCH"
        ctx.error(
            code,
            f'Type of {element} "{coordinate}" is incompatible across subgraphs: it '
            "has " + " and ".join(f'type "{f.type}" in subgraph "{sg.name}"' for sg, f in present),
            [sg.name for sg, _ in present],
            coordinate,
        )
        return False
    if has_subtypes:
        code = (
            "INCONSISTENT_BUT_COMPATIBLE_ARGUMENT_TYPE"
            if element == "argument"
            else "INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE"
        )
        ctx.hint(
            code,
            f'Type of {element} "{coordinate}" is inconsistent but compatible '
            f'across subgraphs: will use type "{dest_type}" in the supergraph',
            [sg.name for sg, _ in present],
            coordinate,
        )
        return False
    return True


def _merged_type(
    ctx: MergeContext, present: list[tuple[Subgraph, object]], input_position: bool
) -> tuple[str, bool, bool]:
    """(merged type, whether some types were subtypes, whether some were incompatible)."""
    dest_type: str | None = None
    has_subtypes = incompatible = False
    for _, source in present:
        t = source.type
        if dest_type is None or dest_type == t:
            dest_type = t
        elif is_subtype(ctx, dest_type, t):
            has_subtypes = True
            if input_position:
                dest_type = t
        elif is_subtype(ctx, t, dest_type):
            has_subtypes = True
            if not input_position:
                dest_type = t
        else:
            incompatible = True
    assert dest_type is not None
    return dest_type, has_subtypes, incompatible


def _note_enum_usage(
    ctx: MergeContext, type_ref: str, coordinate: str, input_position: bool
) -> None:
    """Remember whether an enum is used as input, output or both (and an example of each)."""
    base = named_type(type_ref)
    enum_type = ctx.out.types.get(base)
    if enum_type is None or enum_type.kind != "ENUM":
        return
    position = "Input" if input_position else "Output"
    previous = ctx.enum_usage.get(base)
    if previous is None:
        examples = (coordinate, None) if input_position else (None, coordinate)
        ctx.enum_usage[base] = (position, *examples)
        return
    pos, in_ex, out_ex = previous
    if input_position and in_ex is None:
        in_ex = coordinate
    if not input_position and out_ex is None:
        out_ex = coordinate
    ctx.enum_usage[base] = (pos if pos == position else "Both", in_ex, out_ex)
