"""Executable directive definitions: kept when every subgraph defines them, on common locations."""

from __future__ import annotations

from ..composed import ComposedArgument, ComposedDirective
from ..model import SubgraphDirective
from .arguments import merge_input_value
from .context import MergeContext

EXECUTABLE_LOCATIONS = frozenset(
    {
        "QUERY",
        "MUTATION",
        "SUBSCRIPTION",
        "FIELD",
        "FRAGMENT_DEFINITION",
        "FRAGMENT_SPREAD",
        "INLINE_FRAGMENT",
        "VARIABLE_DEFINITION",
    }
)


def merge_directive_definitions(ctx: MergeContext) -> None:
    """Executable directives defined in every subgraph, on their common locations."""
    names: list[str] = []
    for sg in ctx.subgraphs:
        for name, d in sg.directive_defs.items():
            if (
                name not in ctx.composed
                and name not in names
                and EXECUTABLE_LOCATIONS.intersection(d.locations)
            ):
                names.append(name)
    for name in names:
        defs = [sg.directive_defs.get(name) for sg in ctx.subgraphs]
        if any(d is None for d in defs):
            ctx.hint(
                "INCONSISTENT_EXECUTABLE_DIRECTIVE_PRESENCE",
                f'Executable directive "@{name}" will not be part of the supergraph as '
                "it does not appear in all subgraphs",
                (),
                f"@{name}",
            )
            continue
        _merge_definition(ctx, name, [d for d in defs if d is not None])


def _merge_definition(ctx: MergeContext, name: str, present: list[SubgraphDirective]) -> None:
    locations = [loc for loc in present[0].locations if loc in EXECUTABLE_LOCATIONS]
    for d in present[1:]:
        locations = [loc for loc in locations if loc in d.locations]
    if not locations:
        ctx.hint(
            "NO_EXECUTABLE_DIRECTIVE_LOCATIONS_INTERSECTION",
            f'Executable directive "@{name}" has no location that is common to all subgraphs',
            (),
            f"@{name}",
        )
        return
    arg_sources = [(sg, sg.directive_defs[name]) for sg in ctx.subgraphs]
    args: dict[str, ComposedArgument] = {}
    for arg_name in present[0].args:
        if all(arg_name in d.args for d in present):
            args[arg_name] = merge_input_value(
                ctx,
                arg_name,
                f"@{name}({arg_name}:)",
                [(sg, d.args[arg_name]) for sg, d in arg_sources],
                "Argument",
            )
    ctx.out.directive_defs[name] = ComposedDirective(
        name,
        sorted(locations),
        all(d.repeatable for d in present),
        args,
        present[0].description,
    )
