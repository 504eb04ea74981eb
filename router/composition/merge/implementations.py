"""Interfaces and their implementations: `implements`, @interfaceObject fields, missing fields."""

from __future__ import annotations

from ..composed import ComposedArgument, ComposedField, ComposedType, JoinField
from .context import MergeContext
from .wording import human_list


def merge_implements(ctx: MergeContext, st: ComposedType) -> None:
    """Every interface any subgraph has `st` implement, with a @join__implements each."""
    for sg, t in ctx.sources(st.name):
        for itf in t.interfaces:
            st.join_implements.append((ctx.graph[sg.name], itf))
            if itf not in st.interfaces:
                st.interfaces.append(itf)


def add_interface_object_fields(ctx: MergeContext) -> None:
    """Give implementations the interface fields only an @interfaceObject resolves."""
    for st in ctx.out.types.values():
        if st.kind != "OBJECT":
            continue
        for itf_name in st.interfaces:
            itf = ctx.out.types.get(itf_name)
            if itf is None:
                continue
            for itf_field in list(itf.fields.values()):
                if itf_field.name in st.fields or not ctx.provided_by_interface_object(
                    itf_field.name, itf_name
                ):
                    continue
                st.fields[itf_field.name] = _copy_provided_field(itf_field)


def _copy_provided_field(itf_field: ComposedField) -> ComposedField:
    """The interface's field on an implementation, resolved through no subgraph of its own."""
    return ComposedField(
        name=itf_field.name,
        type=itf_field.type,
        args={
            n: ComposedArgument(a.name, a.type, a.default, a.description, list(a.directives))
            for n, a in itf_field.args.items()
        },
        description=itf_field.description,
        directives=list(itf_field.directives),
        join_fields=[JoinField(None)],
        inaccessible=itf_field.inaccessible,
    )


def check_interface_fields_implemented(ctx: MergeContext) -> None:
    """INTERFACE_FIELD_NO_IMPLEM: an implementation lacks a field of its interface."""
    for st in ctx.out.types.values():
        if st.kind not in ("OBJECT", "INTERFACE"):
            continue
        for itf_name in st.interfaces:
            itf = ctx.out.types.get(itf_name)
            if itf is None:
                continue
            for fname in itf.fields:
                if fname not in st.fields:
                    _report_missing_field(ctx, st, itf_name, fname)


def _report_missing_field(ctx: MergeContext, st: ComposedType, itf_name: str, fname: str) -> None:
    declaring = [
        sg.name
        for sg in ctx.subgraphs
        if itf_name in sg.types and fname in sg.types[itf_name].fields
    ]
    implementing = [
        sg.name
        for sg in ctx.subgraphs
        if st.name in sg.types and itf_name in sg.types[st.name].interfaces
    ]
    ctx.error(
        "INTERFACE_FIELD_NO_IMPLEM",
        f'Interface field "{itf_name}.{fname}" is declared in '
        f'{human_list(declaring)} but type "{st.name}", which implements '
        f'"{itf_name}" only in {human_list(implementing)} does not have '
        f'field "{fname}".',
        declaring + implementing,
        f"{st.name}.{fname}",
    )
