"""The merge stage: runs the merge steps in the order their results depend on."""

from __future__ import annotations

from collections.abc import Sequence

from ..composed import ComposedSupergraph
from ..errors import Report
from ..inaccessible import validate_inaccessible
from ..model import Subgraph
from .authorization import collect_spec_directives
from .composed_directives import collect_composed_directives, note_composed_directive_enum_usage
from .context import MergeContext, new_context
from .executable_directives import merge_directive_definitions
from .implementations import (
    add_interface_object_fields,
    check_interface_fields_implemented,
    merge_implements,
)
from .shallow import add_types_shallow
from .typedef import merge_type

# Enums last: whether an enum is used as input, output or both is learnt from the
# fields, arguments and directive arguments merged before it.
_KIND_ORDER = ("UNION", "SCALAR", "INPUT_OBJECT", "INTERFACE", "OBJECT")
_ROOTS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


def merge(subgraphs: Sequence[Subgraph], report: Report) -> ComposedSupergraph | None:
    """Merge validated subgraphs into the supergraph; None when an error was reported."""
    ctx = new_context(subgraphs, report)
    before = len(report.errors)
    collect_spec_directives(ctx)
    collect_composed_directives(ctx)
    kinds = add_types_shallow(ctx)
    if len(report.errors) > before:
        return None
    _merge_types(ctx, kinds)
    _set_roots(ctx)
    add_interface_object_fields(ctx)
    if len(report.errors) == before:
        check_interface_fields_implemented(ctx)
    if len(report.errors) == before:
        validate_inaccessible(ctx.out, report)
    return ctx.out if len(report.errors) == before else None


def _merge_types(ctx: MergeContext, kinds: list[str]) -> None:
    out = ctx.out
    for name in kinds:
        st = out.types[name]
        if st.kind in ("OBJECT", "INTERFACE"):
            merge_implements(ctx, st)
    for kind in _KIND_ORDER:
        for name in kinds:
            if out.types[name].kind == kind:
                merge_type(ctx, out.types[name])
    # before the enums, like the fields: directive arguments use enums too
    merge_directive_definitions(ctx)
    note_composed_directive_enum_usage(ctx)
    for name in list(kinds):
        st = out.types.get(name)  # a type left with no field has been dropped by now
        if st is not None and st.kind == "ENUM":
            merge_type(ctx, st)


def _set_roots(ctx: MergeContext) -> None:
    for kind, root in _ROOTS.items():
        if root in ctx.out.types:
            ctx.out.roots[kind] = root
    if "query" not in ctx.out.roots:
        ctx.error(
            "NO_QUERIES",
            "No queries found in any subgraph: a supergraph must have a query root type.",
        )
