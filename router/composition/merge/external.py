"""@external copies of a field must agree with the merged field: type and arguments."""

from __future__ import annotations

from router.federation.specs import INACCESSIBLE, TAG

from ..composed import ComposedField
from ..model import Subgraph, SubgraphField
from ..subgraph import BUILTIN_DIRECTIVES
from .authorization import print_application
from .context import MergeContext
from .type_reference import is_subtype
from .wording import human_list


def validate_external(
    ctx: MergeContext,
    field: ComposedField,
    coordinate: str,
    present: list[tuple[Subgraph, SubgraphField]],
    all_equal: bool,
) -> None:
    """Report @external copies whose type or arguments the merged field does not match."""
    externals = [(sg, f) for sg, f in present if f.external]
    bad = [
        sg.name
        for sg, f in externals
        if not (f.type == field.type or (not all_equal and is_subtype(ctx, field.type, f.type)))
    ]
    if bad:
        ctx.error(
            "EXTERNAL_TYPE_MISMATCH",
            f'Type of field "{coordinate}" is incompatible across subgraphs (where '
            "marked @external): it has "
            + " and ".join(f'type "{f.type}" in subgraph "{sg.name}"' for sg, f in present),
            bad,
            coordinate,
        )
    for arg_name in field.args:
        _validate_external_argument(ctx, field, coordinate, arg_name, externals)


def _validate_external_argument(
    ctx: MergeContext,
    field: ComposedField,
    coordinate: str,
    arg_name: str,
    externals: list[tuple[Subgraph, SubgraphField]],
) -> None:
    arg = field.args[arg_name]
    arg_coordinate = f"{coordinate}({arg_name}:)"
    missing = [sg.name for sg, f in externals if arg_name not in f.args]
    if missing:
        ctx.error(
            "EXTERNAL_ARGUMENT_MISSING",
            f'Field "{coordinate}" is missing argument "{arg_coordinate}" in some '
            f"subgraphs where it is marked @external: {human_list(missing)}",
            missing,
            arg_coordinate,
        )
        return
    for sg, f in externals:
        ext_arg = f.args[arg_name]
        if ext_arg.type != arg.type and not is_subtype(ctx, ext_arg.type, arg.type):
            ctx.error(
                "EXTERNAL_ARGUMENT_TYPE_MISMATCH",
                f'Type of argument "{arg_coordinate}" is incompatible across '
                f'subgraphs (where "{coordinate}" is marked @external)',
                [sg.name],
                arg_coordinate,
            )
        if ext_arg.default != arg.default:
            ctx.error(
                "EXTERNAL_ARGUMENT_DEFAULT_MISMATCH",
                f'Argument "{arg_coordinate}" has incompatible defaults across '
                f'subgraphs (where "{coordinate}" is marked @external)',
                [sg.name],
                arg_coordinate,
            )


def check_merged_directives_on_external(
    ctx: MergeContext, coordinate: str, present: list[tuple[Subgraph, SubgraphField]]
) -> None:
    """MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL: an @external copy carries a directive the
    supergraph merges (@tag, @inaccessible, authorization, @deprecated); Apollo does not
    count @composeDirective ones here."""
    for sg, f in present:
        if not f.external:
            continue
        for printed in _merged_applications(sg, f):
            ctx.error(
                "MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL",
                f"[{sg.name}] Cannot apply merged directive {printed} to external field "
                f'"{coordinate}"',
                [sg.name],
                coordinate,
            )


def _merged_applications(sg: Subgraph, f: SubgraphField) -> list[str]:
    """The field's merged directive applications, printed, in the order they are applied."""
    tags = iter(f.tags)
    authorization = {a.spec: a for a in f.authorization}
    builtin = {d[1:].split("(", 1)[0]: d for d in f.directives}
    printed = []
    for name in f.applied:
        if name == TAG:
            printed.append(f'@tag(name: "{next(tags)}")')
        elif name == INACCESSIBLE:
            printed.append("@inaccessible")
        elif name in authorization:
            local = sg.auth_sources[name].local
            printed.append(print_application(local, name, authorization[name].value))
        elif name in BUILTIN_DIRECTIVES and name in builtin:
            printed.append(builtin[name])
    return printed
