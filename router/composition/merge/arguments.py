"""Merging arguments and input values: presence in every subgraph, types and default values."""

from __future__ import annotations

from ..composed import ComposedArgument, ComposedField
from ..model import Subgraph, SubgraphField, SubgraphInputValue
from .context import MergeContext
from .shared import merge_applied, merge_description
from .type_reference import merge_type_reference
from .wording import human_list


def merge_arguments(
    ctx: MergeContext,
    field: ComposedField,
    coordinate: str,
    internal: list[tuple[Subgraph, SubgraphField]],
) -> None:
    """Arguments every resolving subgraph has are merged; others are dropped or an error."""
    names: list[str] = []
    for _, f in internal:
        for a in f.args:
            if a not in names:
                names.append(a)
    for arg_name in names:
        arg_coordinate = f"{coordinate}({arg_name}:)"
        arg_sources = [(sg, f.args.get(arg_name)) for sg, f in internal]
        missing = [sg.name for sg, a in arg_sources if a is None]
        if missing:
            _report_missing_argument(ctx, arg_coordinate, arg_sources, missing)
            continue
        present = [(sg, a) for sg, a in arg_sources if a is not None]
        field.args[arg_name] = merge_input_value(ctx, arg_name, arg_coordinate, present, "Argument")


def _report_missing_argument(
    ctx: MergeContext,
    arg_coordinate: str,
    arg_sources: list[tuple[Subgraph, SubgraphInputValue | None]],
    missing: list[str],
) -> None:
    required = [sg.name for sg, a in arg_sources if a is not None and a.required]
    if required:
        ctx.error(
            "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
            f'Argument "{arg_coordinate}" is required in some subgraphs but '
            f"does not appear in all subgraphs: it is required in "
            f"{human_list(required)} but does not appear in "
            f"{human_list(missing)}",
            required + missing,
            arg_coordinate,
        )
    else:
        ctx.hint(
            "INCONSISTENT_ARGUMENT_PRESENCE",
            f'Optional argument "{arg_coordinate}" will not be included in the '
            "supergraph as it does not appear in all subgraphs",
            missing,
            arg_coordinate,
        )


def merge_input_value(
    ctx: MergeContext,
    name: str,
    coordinate: str,
    present: list[tuple[Subgraph, SubgraphInputValue]],
    kind: str,
) -> ComposedArgument:
    """Merge an argument (`kind` "Argument") or input field ("Input field") defined everywhere."""
    value = ComposedArgument(name=name, type=present[0][1].type)
    value.description = merge_description(
        ctx, [a.description for _, a in present], coordinate, [sg.name for sg, _ in present]
    )
    merge_applied(ctx, value, present)
    merge_type_reference(
        ctx,
        value,
        coordinate,
        present,
        "argument" if kind == "Argument" else "field",
        input_position=True,
    )
    value.default = _merge_default(ctx, coordinate, present, kind)
    return value


def _merge_default(
    ctx: MergeContext,
    coordinate: str,
    present: list[tuple[Subgraph, SubgraphInputValue]],
    kind: str,
) -> str | None:
    """The common default value; differing ones are an error, a missing one a hint."""
    defaults = [(sg, a.default) for sg, a in present]
    distinct = {d for _, d in defaults if d is not None}
    if len(distinct) > 1:
        ctx.error(
            "FIELD_ARGUMENT_DEFAULT_MISMATCH"
            if kind == "Argument"
            else "INPUT_FIELD_DEFAULT_MISMATCH",
            f'{kind} "{coordinate}" has incompatible default values across '
            "subgraphs: it has "
            + " and ".join(
                f'default value {d} in subgraph "{sg.name}"'
                if d is not None
                else f'no default value in subgraph "{sg.name}"'
                for sg, d in defaults
            ),
            [sg.name for sg, _ in defaults],
            coordinate,
        )
        return defaults[0][1]
    if distinct and any(d is None for _, d in defaults):
        ctx.hint(
            "INCONSISTENT_DEFAULT_VALUE_PRESENCE",
            f'{kind} "{coordinate}" has a default value in only some subgraphs',
            [sg.name for sg, d in defaults if d is None],
            coordinate,
        )
        return None
    return next(iter(distinct), None)
